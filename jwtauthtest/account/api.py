"""The account API (issue 15): change your password, see your sessions and end them."""

import re
import time
from dataclasses import replace

from flask import Blueprint, Response, request
from flask_jwt import request_json
from sqlalchemy import delete, update
from werkzeug.exceptions import NotFound

from jwtauthtest.account.browser import cookie_transport_requested
from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.jwt import JWTError, current_identity, jwt, jwt_required, session_of_the_token
from jwtauthtest.models import TokenFamily, User
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH, hash_password, verify_password
from jwtauthtest.passwords.policy import password_problem
from jwtauthtest.passwords.usernames import is_text
from jwtauthtest.secondfactor import store as second_factor
from jwtauthtest.throttle.limiter import password_attempt
from jwtauthtest.tokens.claims import private
from jwtauthtest.tokens.listing import (
    end_other_sessions,
    end_users_session,
    live_sessions,
    session_details,
)
from jwtauthtest.tokens.sessions import start_session

bp = Blueprint("account", __name__)
PASSWORD_CHANGE_KEYS = ("current_password", "new_password")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # tokens.new_id()'s alphabet


@bp.post("/auth/password")
@jwt_required()
def change_password() -> Response:
    """Check the current password (throttled as a login), set the new one, end every session
    of the user and start a new one for the caller."""
    cookie_transport_requested()  # an unknown transport is 400 before anything is checked
    current_password, new_password = password_change_request()
    user = db.session.get(User, current_identity.id)
    end_read_transaction()  # the slow verification comes before the write
    if user is None:  # deleted since the token was checked
        raise JWTError("Invalid token", "Token has been revoked")
    if problem := password_problem(new_password, user.username):
        raise JWTError("Bad Request", problem[0].upper() + problem[1:], 400)
    with password_attempt(user.username):
        if not verify_password(current_password, user.password).matches:
            log_change("password_change_refused", user_id=user.id, address=request.remote_addr)
            raise JWTError("Invalid credentials", "The current password is not right")
    if not replace_password(user, hash_password(new_password)):
        raise JWTError("Invalid token", "Token has been revoked")
    session = start_session(user, request.user_agent.string, request.remote_addr)
    if second_factor.is_on(user.id):  # no code was asked for: not enough for sensitive acts
        session = replace(session, fresh=False)
    log_change("password_change", user_id=user.id, address=request.remote_addr)
    return jwt.auth_response_callback(jwt.jwt_encode_callback(session), session)


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
    ended = end_other_sessions(current_identity.id, session_of_the_token())
    log_change("other_sessions_ended", user_id=current_identity.id, sessions=ended,
               address=request.remote_addr)
    return {"status": "other sessions ended", "ended": ended}


def password_change_request() -> tuple[str, str]:
    """The body's current and new password, or a 400 naming what is wrong with it."""
    data = request_json()
    if not isinstance(data, dict):
        raise JWTError("Bad Request", "Request body must be a JSON object", 400)
    if sorted(data) != sorted(PASSWORD_CHANGE_KEYS):
        raise JWTError("Bad Request", "Request body must have exactly the keys "
                       "current_password and new_password", 400)
    current, new = (data[key] for key in PASSWORD_CHANGE_KEYS)
    if not (isinstance(current, str) and isinstance(new, str)):
        raise JWTError("Bad Request", "Passwords must be strings", 400)
    if not (is_text(current) and is_text(new)):
        raise JWTError("Bad Request", "Passwords must be text without NUL characters or "
                       "unpaired surrogates", 400)
    if len(current) > MAX_PASSWORD_LENGTH:  # no user has it: refused before any hashing
        raise JWTError("Bad Request",
                       f"Password must be at most {MAX_PASSWORD_LENGTH} characters", 400)
    return current, new


def replace_password(user: User, new_hash: str) -> bool:
    """Store the new hash and end every session of the user, unless the user was disabled,
    deleted or given another password since the row was read (committed)."""
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.active.is_(True),
                           User.password == user.password)
        .values(password=new_hash, tokens_valid_after=time.time()))
    if changed.rowcount != 1:
        db.session.rollback()
        return False
    db.session.execute(delete(TokenFamily).where(TokenFamily.user_id == user.id))
    db.session.commit()
    return True
