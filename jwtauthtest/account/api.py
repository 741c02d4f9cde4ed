"""The account API (issue 15): change your password, see your sessions and end them."""

import re
from dataclasses import replace

from flask import Blueprint, Response, request
from sqlalchemy import update
from werkzeug.exceptions import BadRequest, Conflict, NotFound

from jwtauthtest.addresses.notices import notify
from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.jwt import (
    JWTError,
    current_identity,
    jwt_required,
    login_response,
    session_of_the_token,
    token_is_fresh,
)
from jwtauthtest.mail.sender import wake_sender
from jwtauthtest.models import User
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH, hash_password, verify_password
from jwtauthtest.passwords.policy import password_refusal
from jwtauthtest.passwords.usernames import is_text
from jwtauthtest.second_factor import store as second_factor
from jwtauthtest.second_factor.codes import CODE, RECOVERY_CODE, spend_code
from jwtauthtest.throttle.attempts import password_attempt
from jwtauthtest.tokens.listing import live_sessions, session_details
from jwtauthtest.tokens.sessions import end_sessions, end_users_session, start_session
from jwtauthtest.users import LockDown, lock_down
from jwtauthtest.web.answers import private
from jwtauthtest.web.bodies import json_body
from jwtauthtest.web.cookies import cookie_transport_requested
from jwtauthtest.web.refusals import not_fresh, revoked_token

bp = Blueprint("account", __name__)
PASSWORDS = ("current_password", "new_password")
PASSWORD_CHANGE_BODIES = (PASSWORDS, (*PASSWORDS, CODE), (*PASSWORDS, RECOVERY_CODE))
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # tokens.new_id()'s alphabet


@bp.post("/auth/password")
@jwt_required()
def change_password() -> Response:
    """Check the current password (throttled as a login) and, for a user with a second factor
    whose token is not fresh, a code; set the new password, lock the account down (every
    session ends, passkeys added with the password alone go) and start a new session for the
    caller: fresh if it proved every factor the account has."""
    cookie_transport_requested()  # an unknown transport is 400 before anything is checked
    current_password, new_password, second_factor_code = password_change_request()
    user = db.session.get(User, current_identity.id)
    factor_on = user is not None and second_factor.is_on(user.id)
    end_read_transaction()  # the slow verification comes before the write
    if user is None:  # deleted since the token was checked
        raise revoked_token()
    if second_factor_code is not None and not factor_on:
        raise Conflict("No second factor is on: send no code")
    if factor_on and second_factor_code is None and not token_is_fresh():
        # A password alone must not be able to change it, and lock the owner out.
        raise not_fresh()
    if refusal := password_refusal(new_password, user.username):
        raise BadRequest(refusal)
    with password_attempt(user.username):
        if not verify_password(current_password, user.password).matches:
            log_change("password_change_refused", user_id=user.id, address=request.remote_addr)
            raise JWTError("Invalid credentials", "The current password is not right")
        if second_factor_code is not None:
            checked = spend_code(user.id, second_factor_code)
            # Committed here, spent or not: the throttle writes next, and SQLite has one
            # writer (an open write would keep it waiting for the busy timeout).
            db.session.commit()
            if not checked.accepted:
                raise checked.refusal()
    ended = replace_password(user, hash_password(new_password))
    if ended is None:
        raise revoked_token()
    session = start_session(user, request.user_agent.string, request.remote_addr)
    if factor_on and second_factor_code is None:  # both factors were not proven just now
        session = replace(session, fresh=False)
    log_change("password_change", user_id=user.id, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys), address=request.remote_addr)
    return login_response(session)


@bp.get("/auth/sessions")
@jwt_required()
def sessions() -> Response:
    current = current_identity.family
    return private({"sessions": [{**session_details(family), "current": family.id == current}
                                 for family in live_sessions(current_identity.id)]})


@bp.delete("/auth/sessions/<session_id>")
@jwt_required()
def end_one_session(session_id: str) -> dict:
    session_of_the_token()  # a Flask-JWT token acts on no session
    if not (SESSION_ID.fullmatch(session_id)
            and end_users_session(current_identity.id, session_id)):
        raise NotFound("You have no session with this id")
    log_change("session_ended", user_id=current_identity.id, session=session_id,
               address=request.remote_addr)
    return {"status": "session ended"}


@bp.delete("/auth/sessions")
@jwt_required(fresh=True)
def end_the_other_sessions() -> dict:
    ended = end_sessions(current_identity.id, but=session_of_the_token())
    db.session.commit()
    log_change("other_sessions_ended", user_id=current_identity.id, sessions=ended,
               address=request.remote_addr)
    return {"status": "other sessions ended", "ended": ended}


def password_change_request() -> tuple[str, str, dict[str, str] | None]:
    """The body's current and new password, and its code or recovery code if it has one, or
    a 400 naming what is wrong with it."""
    data = json_body(*PASSWORD_CHANGE_BODIES)
    current, new = data["current_password"], data["new_password"]
    if not (isinstance(current, str) and isinstance(new, str)):
        raise BadRequest("Passwords must be strings")
    if not (is_text(current) and is_text(new)):
        raise BadRequest("Passwords must be text without NUL characters or unpaired "
                         "surrogates")
    if len(current) > MAX_PASSWORD_LENGTH:  # no user has it: refused before any hashing
        raise BadRequest(f"Password must be at most {MAX_PASSWORD_LENGTH} characters")
    codes = {key: data[key] for key in (CODE, RECOVERY_CODE) if key in data}
    if codes and not all(isinstance(v, str) and is_text(v) and len(v) <= 256
                         for v in codes.values()):
        raise BadRequest("A code must be text of at most 256 characters")
    return current, new, codes or None


def replace_password(user: User, new_hash: str) -> LockDown | None:
    """Store the new hash and lock the account down, unless since the row was read the user
    was disabled, deleted, given another password or locked down (a second factor turned on
    meanwhile, say, which this change did not ask a code for): what ended, or None
    (committed)."""
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.active.is_(True),
                           User.password == user.password,
                           User.tokens_valid_after == user.tokens_valid_after)
        .values(password=new_hash))
    if changed.rowcount != 1:
        db.session.rollback()
        return None
    ended = lock_down(user.id)
    notify(user, "password_changed")
    db.session.commit()
    wake_sender()
    return ended
