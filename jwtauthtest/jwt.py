"""Flask-JWT 0.3.2's API and wire behaviour, on PyJWT 2.

``POST /auth`` trades a username and password for tokens; ``@jwt_required()``
protects a view and sets ``current_identity``. Every failure is a ``JWTError``,
answered as JSON ``{"status_code", "error", "description"}``.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import jwt as pyjwt
from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.local import LocalProxy

from . import tokens
from .audit import FAILURE, SUCCESS, log_login
from .credentials import read_credentials
from .database import end_read_transaction
from .errors import JWTError
from .models import User
from .passwords import hash_password, spend_verification_time, verify_password
from .sessions import Identity, load_token_owner, purge_expired_sessions, start_session
from .users import find_user, record_login

CONFIG_DEFAULTS = {
    "JWT_DEFAULT_REALM": "Login Required",
    "JWT_AUTH_URL_RULE": "/auth",
    "JWT_AUTH_ENDPOINT": "jwt",
    "JWT_AUTH_USERNAME_KEY": "username",
    "JWT_AUTH_PASSWORD_KEY": "password",
    "JWT_AUTH_HEADER_PREFIX": "JWT",
}

WRONG_TYPE = {tokens.ACCESS: "Expected an access token, got a refresh token",
              tokens.REFRESH: "Expected a refresh token, got an access token"}

current_identity: Any = LocalProxy(lambda: g.get("jwt_identity"))

__all__ = ["JWT", "JWTError", "authenticate", "current_identity", "identity", "jwt",
           "jwt_required"]


def authenticate(username: str, password: str) -> User | None:
    """The authentication handler: the user these credentials belong to, or None.

    Every password check takes as long as the slowest stored kind of hash needs, and
    unknown users cost one check too, so response times don't tell which usernames exist,
    which kind of hash a user has, or (for a disabled user) whether the password was right.

    The login is recorded (and an outdated hash rewritten) only if the user's row is
    still as verified; the session the /auth handler then starts commits both.
    """
    user = find_user(username)
    end_read_transaction()  # the slow verification comes before a possible write
    if user is None:
        spend_verification_time(password)
        reason = "unknown user"
    else:
        verified = verify_password(password, user.password)
        if not verified.matches:
            reason = "bad password"
        elif not user.active:  # before any rehash, which would make this answer slower
            reason = "disabled"
        else:
            new_hash = hash_password(password) if verified.outdated else None
            if record_login(user, new_hash):
                log_login(SUCCESS, username, "rehashed" if new_hash else "ok")
                return user
            reason = "changed during login"  # password changed, disabled or deleted meanwhile
    log_login(FAILURE, username, reason)
    return None


def identity(payload: dict[str, Any]) -> Identity | None:
    """The identity handler: the active user a verified token speaks for, or None.

    Raises JWTError when the token was revoked (its session ended, or it predates
    the user's last password change or disable).
    """
    user_id = payload.get("identity")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**63:
        return None  # no such row can exist (and a huge int would overflow the driver)
    # A token's iat may run ahead of the clock by up to the leeway: a Flask-JWT token is
    # refused unless it was surely issued after the user's cut-off.
    earliest_issue = payload["iat"] - current_app.config["JWT_LEEWAY"].total_seconds()
    owner, revoked = load_token_owner(user_id, payload.get("fam"), earliest_issue)
    if owner is not None and revoked:
        raise JWTError("Invalid token", "Token has been revoked")
    return owner


class JWT:
    def __init__(self, app: Flask | None = None,
                 authentication_handler: Callable | None = None,
                 identity_handler: Callable | None = None) -> None:
        self.authentication_callback = authentication_handler
        self.identity_callback = identity_handler
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        for key, value in CONFIG_DEFAULTS.items():
            app.config.setdefault(key, value)
        tokens.init_tokens(app)
        if app.config["JWT_AUTH_URL_RULE"]:
            app.add_url_rule(app.config["JWT_AUTH_URL_RULE"], app.config["JWT_AUTH_ENDPOINT"],
                             self.auth_request_handler, methods=["POST"])
        app.extensions["jwt"] = self

    def authentication_handler(self, callback: Callable) -> Callable:
        self.authentication_callback = callback
        return callback

    def identity_handler(self, callback: Callable) -> Callable:
        self.identity_callback = callback
        return callback

    def auth_request_handler(self) -> Response:
        username, password = read_credentials()
        user = self.authentication_callback(username, password)
        if user is None:
            raise JWTError("Bad Request", "Invalid credentials")
        pair = start_session(user)
        try:
            purge_expired_sessions()  # now and then is enough; a login is a good moment
        except SQLAlchemyError as e:  # the login itself succeeded; the command can purge
            current_app.logger.warning("Purging expired sessions failed: %s", e)
        return tokens.token_response(pair)


def token_from_header() -> str | None:
    parts = request.headers.get("Authorization", "").split()
    if not parts:
        return None
    if parts[0].lower() != current_app.config["JWT_AUTH_HEADER_PREFIX"].lower():
        raise JWTError("Invalid JWT header", "Unsupported authorization type")
    if len(parts) == 1:
        raise JWTError("Invalid JWT header", "Token missing")
    if len(parts) > 2:
        raise JWTError("Invalid JWT header", "Token contains spaces")
    return parts[1]


def verify_request(realm: str, token_type: str) -> None:
    token = token_from_header()
    if token is None:
        raise JWTError("Authorization Required", "Request does not contain an access token",
                       headers={"WWW-Authenticate": f'JWT realm="{realm}"'})
    try:
        payload = tokens.decode_token(token)
    except pyjwt.InvalidTokenError as e:
        raise JWTError("Invalid token", str(e)) from None
    if tokens.token_type(payload) != token_type:
        raise JWTError("Invalid token", WRONG_TYPE[token_type])
    g.jwt_payload = payload
    g.jwt_identity = current_app.extensions["jwt"].identity_callback(payload)
    if g.jwt_identity is None:
        raise JWTError("Invalid JWT", "User does not exist")


def jwt_required(realm: str | None = None, token_type: str = tokens.ACCESS) -> Callable:
    """Protect a view: it runs only for a valid, unrevoked token of an active user.

    ``token_type="refresh"`` asks for a refresh token instead of an access token.
    """
    def wrapper(view: Callable) -> Callable:
        @wraps(view)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            verify_request(realm or current_app.config["JWT_DEFAULT_REALM"], token_type)
            return view(*args, **kwargs)
        return decorator
    return wrapper


jwt = JWT(authentication_handler=authenticate, identity_handler=identity)
