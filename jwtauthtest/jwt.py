"""Flask-JWT 0.3.2's API and wire behaviour, on PyJWT 2.

``POST /auth`` trades a username and password for a token; ``@jwt_required()``
protects a view and sets ``current_identity``. Every failure is a ``JWTError``,
answered as JSON ``{"status_code", "error", "description"}``.
"""

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Any

import jwt as pyjwt
from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.local import LocalProxy

from .audit import log_login
from .database import db
from .models import MAX_USERNAME_LENGTH, User
from .passwords import MAX_PASSWORD_LENGTH, spend_verification_time
from .users import find_user

CONFIG_DEFAULTS = {
    "JWT_DEFAULT_REALM": "Login Required",
    "JWT_AUTH_URL_RULE": "/auth",
    "JWT_AUTH_ENDPOINT": "jwt",
    "JWT_AUTH_USERNAME_KEY": "username",
    "JWT_AUTH_PASSWORD_KEY": "password",
    "JWT_ALGORITHM": "HS256",
    "JWT_LEEWAY": timedelta(seconds=10),
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    "JWT_EXPIRATION_DELTA": timedelta(seconds=300),
    "JWT_NOT_BEFORE_DELTA": timedelta(seconds=0),
}
DURATION_KEYS = ("JWT_LEEWAY", "JWT_EXPIRATION_DELTA", "JWT_NOT_BEFORE_DELTA")
REQUIRED_CLAIMS = ["exp", "iat", "nbf"]

current_identity: Any = LocalProxy(lambda: g.get("jwt_identity"))


class JWTError(Exception):
    def __init__(self, error: str, description: str, status_code: int = 401,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers or {}


def authenticate(username: str, password: str) -> User | None:
    """The authentication handler: the user these credentials belong to, or None.

    Unknown, disabled and wrong-password logins all cost one password verification,
    so response times don't tell which usernames exist.
    """
    user = find_user(username)
    if user is None:
        spend_verification_time(password)
        reason = "unknown user"
    elif not user.verify_password(password):
        reason = "bad password"
    elif not user.active:
        reason = "disabled"
    else:
        rehashed = user in db.session.dirty  # an outdated hash was just rewritten
        db.session.commit()
        log_login(True, username, "rehashed" if rehashed else "ok")
        return user
    log_login(False, username, reason)
    return None


def identity(payload: dict[str, Any]) -> User | None:
    """The identity handler: the user a verified token speaks for, or None."""
    user_id = payload.get("identity")
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


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
        for key in DURATION_KEYS:
            app.config[key] = as_timedelta(key, app.config[key])
        if app.config["JWT_AUTH_URL_RULE"]:
            app.add_url_rule(app.config["JWT_AUTH_URL_RULE"], app.config["JWT_AUTH_ENDPOINT"],
                             self.auth_request_handler, methods=["POST"])
        app.register_error_handler(JWTError, jwt_error_response)
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
        return jsonify({"access_token": encode_token(user)})


def as_timedelta(key: str, value: timedelta | int | float) -> timedelta:
    """Durations come as timedelta from Python config, or as seconds from the environment."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    raise ValueError(f"{key} must be a number of seconds or a timedelta, not {value!r}")


def read_credentials() -> tuple[str, str]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise JWTError("Bad Request", "Request body must be a JSON object", 400)
    username = data.get(current_app.config["JWT_AUTH_USERNAME_KEY"])
    password = data.get(current_app.config["JWT_AUTH_PASSWORD_KEY"])
    if any(value is not None and not isinstance(value, str) for value in (username, password)):
        raise JWTError("Bad Request", "Username and password must be strings", 400)
    # Refused before any hashing, so huge inputs cost an attacker more than us.
    if username and len(username) > MAX_USERNAME_LENGTH:
        raise JWTError("Bad Request",
                       f"Username must be at most {MAX_USERNAME_LENGTH} characters", 400)
    if password and len(password) > MAX_PASSWORD_LENGTH:
        raise JWTError("Bad Request",
                       f"Password must be at most {MAX_PASSWORD_LENGTH} characters", 400)
    # Flask-JWT's criteria: both present and non-empty, and nothing else in the body.
    if not (username and password and len(data) == 2):
        raise JWTError("Bad Request", "Invalid credentials")
    return username, password


def encode_token(user: User) -> str:
    config = current_app.config
    issued_at = datetime.now(timezone.utc)
    payload = {
        "exp": issued_at + config["JWT_EXPIRATION_DELTA"],
        "iat": issued_at,
        "nbf": issued_at + config["JWT_NOT_BEFORE_DELTA"],
        "identity": user.id,
    }
    return pyjwt.encode(payload, config["JWT_SECRET_KEY"], algorithm=config["JWT_ALGORITHM"])


def decode_token(token: str) -> dict[str, Any]:
    config = current_app.config
    return pyjwt.decode(token, config["JWT_SECRET_KEY"], algorithms=[config["JWT_ALGORITHM"]],
                        leeway=config["JWT_LEEWAY"], options={"require": REQUIRED_CLAIMS})


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


def verify_request(realm: str) -> None:
    token = token_from_header()
    if token is None:
        raise JWTError("Authorization Required", "Request does not contain an access token",
                       headers={"WWW-Authenticate": f'JWT realm="{realm}"'})
    try:
        payload = decode_token(token)
    except pyjwt.InvalidTokenError as e:
        raise JWTError("Invalid token", str(e)) from None
    g.jwt_identity = current_app.extensions["jwt"].identity_callback(payload)
    if g.jwt_identity is None:
        raise JWTError("Invalid JWT", "User does not exist")


def jwt_required(realm: str | None = None) -> Callable:
    """Protect a view: it runs only for a request with a valid token of an existing user."""
    def wrapper(view: Callable) -> Callable:
        @wraps(view)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            verify_request(realm or current_app.config["JWT_DEFAULT_REALM"])
            return view(*args, **kwargs)
        return decorator
    return wrapper


def jwt_error_response(error: JWTError) -> tuple[Response, int, dict[str, str]]:
    body = {"status_code": error.status_code, "error": error.error,
            "description": error.description}
    return jsonify(body), error.status_code, error.headers


jwt = JWT(authentication_handler=authenticate, identity_handler=identity)
