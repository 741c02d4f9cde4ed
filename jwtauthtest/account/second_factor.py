"""The second factor's routes (issue 26): logging in with a code after the password, and a
user's own enrolment, recovery codes and switching it off."""

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import Conflict, TooManyRequests

from jwtauthtest.addresses.notices import send_notice
from jwtauthtest.database import db
from jwtauthtest.jwt import (
    JWTError,
    current_identity,
    jwt_required,
    login_response,
    session_of_the_token,
)
from jwtauthtest.models import User
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import FAILURE, SUCCESS, log_change, log_login
from jwtauthtest.second_factor import store, totp
from jwtauthtest.second_factor.challenges import (
    MAX_WRONG_CODES,
    challenged_user,
    end_challenge,
    release_try,
    reserve_try,
    spend_challenge,
)
from jwtauthtest.second_factor.codes import (
    CODE,
    RECOVERY_CODE,
    Checked,
    spend_code,
    wrong_code,
)
from jwtauthtest.throttle.attempts import password_attempt
from jwtauthtest.tokens.sessions import start_session
from jwtauthtest.users import record_login
from jwtauthtest.web.answers import private
from jwtauthtest.web.bodies import json_body
from jwtauthtest.web.cookies import cookie_transport_requested

bp = Blueprint("second_factor", __name__)


@bp.post("/auth/second-factor")
def login_with_second_factor() -> Response:
    """The challenge of a right password, and a code (or a recovery code): the usual token
    pair, the access token fresh. A wrong code counts in the login throttle."""
    cookie_transport_requested()  # an unknown transport is 400 before anything is checked
    body = json_body(("challenge", CODE), ("challenge", RECOVERY_CODE), text_values=True)
    challenge = body["challenge"]
    user = challenged_user(challenge)
    with password_attempt(user.username):
        tries = reserve_try(challenge)
        try:
            checked = spend_code(user.id, body)
        except TooManyRequests:  # the day's count is spent: this code was not checked
            release_try(challenge)
            raise
        if not checked.accepted:
            db.session.commit()  # (nothing was spent)
            log_login(FAILURE, user.username, "wrong second factor")
            raise wrong_code_at_login(challenge, tries, checked)
        # With the code, in one transaction: both or neither; committed before the throttle
        # writes to the database (SQLite has one writer).
        spend_challenge(challenge)
    if not record_login(user, None):  # disabled or given a new password meanwhile
        raise JWTError("Invalid challenge", "The challenge is unknown, expired or spent: log "
                       "in with the password again")
    session = start_session(user, request.user_agent.string, request.remote_addr)
    left = checked.recovery_codes_left
    log_login(SUCCESS, user.username, "second factor" if left is None else "recovery code")
    metrics.count("second_factor", event="verified" if left is None else "recovery_used")
    if left is not None:
        log_change("recovery_code_used", user_id=user.id, left=left,
                   address=request.remote_addr)
    return login_response(session) if left is None else \
        login_response(session, recovery_codes_left=left)


@bp.get("/auth/second-factor")
@jwt_required()
def second_factor_status() -> Response:
    return private(store.status(current_identity.id))


@bp.post("/auth/second-factor/enrolment")
@jwt_required(fresh=True)
def start_enrolment() -> Response:
    """A new secret, as text, as an otpauth:// URI and as a QR code, waiting for its first
    code; 409 while a second factor is on."""
    if store.is_on(current_identity.id):
        raise Conflict("A second factor is already on: turn it off first")
    secret = store.start_enrolment(current_identity.id)
    uri = totp.otpauth_uri(secret, current_identity.username,
                           current_app.config["SECOND_FACTOR_ISSUER"])
    response = private({"secret": secret, "otpauth_uri": uri, "qr_svg": totp.qr_code_svg(uri)})
    response.status_code = 201
    return response


@bp.post("/auth/second-factor/enrolment/confirm")
@jwt_required(fresh=True)
def confirm_enrolment() -> Response:
    """A first code from the app turns the second factor on: the recovery codes, once."""
    code = json_body((CODE,), text_values=True)[CODE]
    state = store.status(current_identity.id)
    if not state["pending"]:
        raise Conflict("A second factor is already on" if state["enabled"] else
                       "No enrolment waits for a code: start one first")
    confirmed = store.confirm_enrolment(current_identity.id, code, session_of_the_token())
    if confirmed is None:
        raise JWTError("Invalid credentials", "The code is not right")
    codes, ended = confirmed
    log_change("second_factor_enrolled", user_id=current_identity.id, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys), address=request.remote_addr)
    metrics.count("second_factor", event="enrolled")
    return private({"enabled": True, "recovery_codes": codes,
                    "passkeys_removed": ended.passkeys})


@bp.post("/auth/second-factor/recovery-codes")
@jwt_required(fresh=True)
def new_recovery_codes() -> Response:
    """Ten new recovery codes for a current code (or a recovery code); the old ones end."""
    check_second_factor()
    codes = store.replace_recovery_codes(current_identity.id)
    log_change("recovery_codes_replaced", user_id=current_identity.id,
               address=request.remote_addr)
    return private({"recovery_codes": codes})


@bp.delete("/auth/second-factor")
@jwt_required(fresh=True)
def turn_off() -> Response:
    """Off, for a current code (or a recovery code); every session of the user ends, and
    every passkey goes (the factor stood behind those added with it)."""
    check_second_factor()
    ended = store.turn_off(current_identity.id)
    log_change("second_factor_removed", user_id=current_identity.id, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys), address=request.remote_addr)
    metrics.count("second_factor", event="removed")
    send_notice(current_identity.id, "second_factor_off")
    return private({"status": "second factor off", "ended": ended.sessions,
                    "passkeys_removed": ended.passkeys})


def check_second_factor() -> None:
    """The body's code or recovery code, right for the caller's second factor (counted in
    the login throttle); 409 when it is off, 401 when the code is not right."""
    body = json_body((CODE,), (RECOVERY_CODE,), text_values=True)
    user_id = current_identity.id
    if not store.is_on(user_id):
        raise Conflict("No second factor is on")
    user = db.session.get(User, user_id)
    with password_attempt(user.username if user is not None else None):
        checked = spend_code(user_id, body)
        db.session.commit()
        if not checked.accepted:
            raise checked.refusal()


def wrong_code_at_login(challenge: str, tries: int, checked: Checked) -> JWTError:
    """A wrong code at login; the challenge's last try ends it."""
    if tries >= MAX_WRONG_CODES:
        end_challenge(challenge)
        return wrong_code("The code is not right, five times: log in with the password again")
    return checked.refusal()
