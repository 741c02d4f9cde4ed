"""The e-mail routes: a user's address and its confirmation, a password reset by e-mail,
and sign-up. Every message is left for the sender (addresses/requests.py, mail/): no answer
waits for a mail server, and none says whether an address has an account."""

import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import BadRequest, Conflict, NotFound, ServiceUnavailable

from jwtauthtest.addresses.links import CONFIRM, RESET, live_link, spend_link
from jwtauthtest.addresses.normal import AddressError, address_key, normal_address
from jwtauthtest.addresses.notices import masked, notify
from jwtauthtest.addresses.requests import (
    ADDRESS_CHANGE,
    RESET_REQUEST,
    SIGN_UP,
    ask,
    delete_expired_sign_ups,
)
from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.jwt import current_identity, jwt_required
from jwtauthtest.mail import mail_problem
from jwtauthtest.mail.sender import wake_sender
from jwtauthtest.models import User
from jwtauthtest.ops.audit import log_change
from jwtauthtest.ops.metrics import count
from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH, hash_password
from jwtauthtest.passwords.policy import password_refusal
from jwtauthtest.passwords.usernames import is_text, printable
from jwtauthtest.throttle.attempts import mail_request
from jwtauthtest.users import UserError, check_username, find_user, lock_down
from jwtauthtest.web.answers import private
from jwtauthtest.web.bodies import json_body

bp = Blueprint("email", __name__)
LINK_NOT_VALID = ("This link is not valid: it was used or has expired, or the account changed "
                  "since (a newer link, a new password or address)")
RESET_ASKED = "if the address is known, a link is on its way"


@bp.before_request
def mail_is_set_up() -> None:
    """503 while mail can't go out; sign-up that is off says so first, since setting mail up
    would not open it."""
    if request.endpoint == "email.register" and not current_app.config["REGISTRATION_ENABLED"]:
        raise NotFound("Sign-up is off on this server")
    if problem := mail_problem():
        raise ServiceUnavailable(problem)


@bp.put("/auth/email")
@jwt_required(fresh=True)
def change_address() -> tuple[dict, int]:
    """A link to confirm the new address goes to it; until then the old one stays."""
    address = address_of(json_body(("email",))["email"])
    mail_request(address_key(address))
    ask(ADDRESS_CHANGE, address, current_identity.id)
    committed("address_asked")
    log_change("address_change_asked", user_id=current_identity.id, address=request.remote_addr)
    return {"status": "confirmation sent"}, 202


@bp.post("/auth/email/confirm")
def confirm_address() -> dict:
    """The link's address becomes the user's, confirmed (a sign-up's account can log in from
    now on; the reset links mailed to the old address stop working), and the old address, if
    it was confirmed, is told."""
    token = json_body(("token",), text_values=True)["token"]
    mail_request()
    link, user = live(token, CONFIRM)
    old = user.email if user.email_verified else None
    try:
        confirmed = db.session.execute(
            update(User).where(User.id == user.id,
                               User.tokens_valid_after == link.tokens_valid_after)
            .values(email=link.address, email_key=address_key(link.address),
                    email_verified=True, confirm_by=None))
    except IntegrityError:  # confirmed by another account since the link was sent
        db.session.rollback()
        raise Conflict("This address belongs to another account now") from None
    if confirmed.rowcount != 1 or not spend_link(link):
        db.session.rollback()
        raise BadRequest(LINK_NOT_VALID)
    if old is not None and address_key(old) != address_key(link.address):
        notify(user, "address_changed", to=old, new_address=masked(link.address))
    committed("address_confirmed")
    log_change("address_confirmed", user_id=user.id, address=request.remote_addr)
    return {"status": "address confirmed", "email": link.address}


@bp.post("/auth/password-reset")
def ask_for_reset() -> tuple[dict, int]:
    """The same answer after the same work for every address: the request is stored and the
    sender looks the address up later."""
    typed = json_body(("email",))["email"]
    mail_request(address_key(address_of(typed)))
    ask(RESET_REQUEST, typed)
    committed("reset_asked")
    log_change("password_reset_asked", address=request.remote_addr)
    return {"status": RESET_ASKED}, 202


@bp.post("/auth/password-reset/confirm")
def reset_password() -> Response:
    """A new password from a reset link: every session and login challenge ends, passkeys
    added with the password alone go, the second factor stays, and no token is handed out
    (the user logs in next, with their code if they have a second factor)."""
    data = json_body(("token", "new_password"))
    token, new_password = data["token"], data["new_password"]
    if not (isinstance(token, str) and len(token) <= 256 and is_text(token)):
        raise BadRequest(LINK_NOT_VALID)
    password_in_body(new_password)
    mail_request()
    link, user = live(token, RESET)
    if refusal := password_refusal(new_password, user.username):
        raise BadRequest(refusal)
    end_read_transaction()  # the slow hashing comes before the write
    new_hash = hash_password(new_password)
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.active.is_(True),
                           User.tokens_valid_after == link.tokens_valid_after)
        .values(password=new_hash))
    if changed.rowcount != 1 or not spend_link(link):
        db.session.rollback()
        raise BadRequest(LINK_NOT_VALID)
    ended = lock_down(user.id)
    notify(user, "password_reset_done")
    committed("password_reset")
    log_change("password_reset", user_id=user.id, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys), address=request.remote_addr)
    return private({"status": "password reset"})


@bp.post("/auth/register")
def register() -> tuple[dict, int]:
    """A new account, which logs in once its address is confirmed. The answer is the same,
    after the same work (the password hashed, the account stored), whether or not the address
    has an account: the sender tells that address instead of confirming it."""
    data = json_body(("username", "password", "email"))
    username, password = data["username"], data["password"]
    if not isinstance(username, str) or not is_text(username):
        raise BadRequest("The username must be text")
    password_in_body(password)
    address = address_of(data["email"])
    mail_request(address_key(address))
    delete_expired_sign_ups()
    db.session.commit()
    try:
        check_username(username)
    except UserError as error:
        raise BadRequest(str(error)[0].upper() + str(error)[1:]) from None
    if (taken := find_user(username)) is not None:  # can't be hidden (docs/email.md)
        raise Conflict(f"User already exists: {printable(taken.username)}")
    if refusal := password_refusal(password, username):
        raise BadRequest(refusal)
    end_read_transaction()
    user = User(username=username, email=address, confirm_by=time.time()
                + current_app.config["REGISTRATION_CONFIRM_SECONDS"])
    user.hash_password(password)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # the name taken meanwhile
        db.session.rollback()
        raise Conflict(f"User already exists: {printable(user.username)}") from None
    ask(SIGN_UP, address, user.id)
    committed("signed_up")
    log_change("signed_up", user_id=user.id, address=request.remote_addr)
    return {"status": "confirmation sent"}, 202


def address_of(value: object) -> str:
    """The body's address in its normal form, or 400."""
    if not isinstance(value, str) or not is_text(value):
        raise BadRequest("The e-mail address must be text")
    try:
        return normal_address(value)
    except AddressError as error:
        raise BadRequest(str(error)) from None


def password_in_body(value: object) -> None:
    if not isinstance(value, str) or not is_text(value):
        raise BadRequest("The password must be text without NUL characters or unpaired "
                         "surrogates")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise BadRequest(f"Password must be at most {MAX_PASSWORD_LENGTH} characters")


def live(token: str, purpose: str) -> tuple:
    found = live_link(token, purpose)
    if found is None:
        raise BadRequest(LINK_NOT_VALID)
    return found


def committed(event: str) -> None:
    """Commit the request's change, wake this process's sender for what it queued, count."""
    db.session.commit()
    wake_sender()
    count("email", event=event)
