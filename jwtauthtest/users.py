"""User management shared by useradd.py and the command line, and locking an account down."""

import time
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from jwtauthtest.addresses.normal import AddressError, address_key, normal_address
from jwtauthtest.addresses.notices import notify
from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.models import TokenFamily, User
from jwtauthtest.passkeys.store import remove_password_only
from jwtauthtest.passwords.costs import hash_kind
from jwtauthtest.passwords.policy import password_problem
from jwtauthtest.passwords.usernames import printable, username_key, username_problem
from jwtauthtest.tokens.sessions import end_sessions


class UserError(Exception):
    """A user operation was refused; the message is one line for the operator."""


@dataclass(frozen=True)
class LockDown:
    """What locking an account down ended."""

    sessions: int
    passkeys: list[dict[str, str]]  # the removed passkeys' ids and names


def add_user(username: str, password: str, email: str | None = None) -> User:
    """Hash the password and store a new user (with a confirmed address, if given), or raise
    UserError and store nothing."""
    check_new_username(username)
    check_password(password, username)
    address = email and operators_address(email)
    end_read_transaction()  # hashing is slow; the insert starts its own transaction
    user = User(username=username)
    user.hash_password(password)
    if address:
        user.email, user.email_key, user.email_verified = address, address_key(address), True
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # added by someone else since find_user
        db.session.rollback()
        raise UserError(f"user already exists, or the address is another user's: "
                        f"{printable(user.username)}") from None
    return user


def set_email(username: str, email: str) -> User:
    """An operator gives a user an address, confirmed (a sign-up's account can log in)."""
    user = get_user(username)
    address = operators_address(email, but=user)
    user.email, user.email_key, user.email_verified = address, address_key(address), True
    user.confirm_by = None
    try:
        db.session.commit()
    except IntegrityError:  # given to someone else meanwhile
        db.session.rollback()
        raise UserError(f"another user has this address: {printable(address)}") from None
    return user


def operators_address(email: str, but: User | None = None) -> str:
    """The address in its normal form, if no other user has it confirmed."""
    try:
        address = normal_address(email)
    except AddressError as error:
        raise UserError(str(error)) from None
    holder = db.session.scalars(select(User).filter_by(email_key=address_key(address))).first()
    if holder is not None and holder is not but:
        raise UserError(f"{printable(holder.username)} has this address already")
    return address


def change_password(username: str, password: str) -> tuple[User, LockDown]:
    """Store a new password and lock the account down: every token issued to the user before
    is refused from now on, and passkeys added with the password alone are gone."""
    user = get_user(username)
    check_password(password, user.username)
    user.hash_password(password)
    ended = lock_down(user.id)
    notify(user, "password_changed")
    db.session.commit()
    return user, ended


def set_active(username: str, active: bool) -> User:
    """Enable or disable a user; disabling refuses every token issued before."""
    user = get_user(username)
    user.active = active
    if not active:
        revoke_tokens(user)
    db.session.commit()
    return user


def delete_user(username: str) -> User:
    """Delete a user with all their sessions; their tokens are refused from now on."""
    user = get_user(username)
    db.session.delete(user)
    db.session.commit()
    return user


def revoke_tokens(user: User) -> int:
    """End all the user's sessions, and refuse their Flask-JWT tokens issued until now; how
    many sessions ended."""
    user.tokens_valid_after = time.time()
    return end_sessions(user.id)


def log_out_everywhere(username: str) -> tuple[User, LockDown]:
    """An operator ends every session of a user (who can log in again) and removes their
    passkeys added with the password alone."""
    user = get_user(username)
    ended = lock_down(user.id)
    db.session.commit()
    return user, ended


def lock_down(user_id: int, kept_session: str | None = None,
              second_factor_gone: bool = False) -> LockDown:
    """End every session of the user but kept_session, refuse the Flask-JWT tokens and login
    challenges issued until now, and remove the passkeys added with the password alone (with
    second_factor_gone, every passkey) with the sessions they signed in, but kept_session.
    Uncommitted: part of the caller's change.

    The cut-off moves first: a login that checked the password before it and writes after
    it is refused (record_login compares the cut-off), and one that wrote before it has
    committed its session by the time the sessions are ended here (the UPDATE waits for it).
    """
    db.session.execute(update(User).where(User.id == user_id)
                       .values(tokens_valid_after=time.time()))
    ended = end_sessions(user_id, but=kept_session)
    return LockDown(ended, remove_password_only(user_id, kept_session, second_factor_gone))


def revoke_everyone() -> int:
    """After an incident: end every session, and refuse every Flask-JWT token issued until now;
    how many sessions ended."""
    db.session.execute(update(User).values(tokens_valid_after=time.time()))
    ended = db.session.execute(delete(TokenFamily)).rowcount
    db.session.commit()
    return ended


def record_login(user: User, new_hash: str | None) -> bool:
    """Note a verified login, unless the user was disabled, deleted or given a new
    password since the row was read (the cut-off moves with each of those): then
    False, and nothing is written. Left uncommitted for the caller.

    An outdated hash is replaced only if it is still the one verified, so two logins
    rewriting it at once both succeed.
    """
    recorded = db.session.execute(
        update(User).where(User.id == user.id, User.active.is_(True),
                           User.tokens_valid_after == user.tokens_valid_after)
        .values(last_login_at=time.time()))
    if recorded.rowcount != 1:
        db.session.rollback()
        return False
    if new_hash is not None:
        db.session.execute(update(User).where(User.id == user.id,
                                              User.password == user.password)
                           .values(password=new_hash))
    return True


def rewrite_hash(user: User, new_hash: str) -> None:
    """Replace an outdated hash, if it is still the one verified (committed)."""
    db.session.execute(update(User).where(User.id == user.id, User.password == user.password)
                       .values(password=new_hash))
    db.session.commit()


def get_user(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise UserError(f"no such user: {printable(username)}")
    end_read_transaction()  # the change that follows starts its own transaction
    return user


def check_new_username(username: str) -> None:
    """A username that a new user may have: valid, and no one's already (in any spelling)."""
    check_username(username)
    existing = find_user(username)
    if existing is not None:
        raise UserError(f"user already exists: {printable(existing.username)}")


def check_username(username: str) -> None:
    problem = username_problem(username)
    if problem is not None:
        raise UserError(problem)


def check_password(password: str, username: str) -> None:
    """The password policy (passwords/policy.py), for a user of this name."""
    problem = password_problem(password, username)
    if problem is not None:
        raise UserError(problem)


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def one_hash_of_each_kind() -> list[str]:
    """A stored password hash of each kind (scheme and cost parameters)."""
    return list({hash_kind(h): h for h in db.session.scalars(select(User.password))}.values())


def find_user(username: str) -> User | None:
    """The user with this name in any case or Unicode spelling, or None."""
    return db.session.scalars(select(User).filter_by(username_key=username_key(username))).first()


def read_password_line(stream: TextIO) -> str:
    """One line of a script's standard input, without its line ending."""
    return stream.readline().rstrip("\r\n")
