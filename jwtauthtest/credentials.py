"""Reading the username and password of a POST /auth, before anything is hashed."""

from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .audit import FAILURE, log_login
from .errors import JWTError
from .passwords import MAX_PASSWORD_LENGTH
from .usernames import MAX_USERNAME_LENGTH, is_text, normalise_username


def request_json() -> Any:
    """The JSON body, or None when there is none or it doesn't parse (nesting too deep
    for the parser included). A body over MAX_CONTENT_LENGTH is RequestEntityTooLarge,
    also one sent in chunks, which Werkzeug cuts at the limit instead."""
    limit = request.max_content_length
    if (request.content_length is None and limit is not None
            and len(request.get_data(cache=True)) >= limit):
        raise RequestEntityTooLarge()
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def read_credentials() -> tuple[str, str]:
    data = request_json()
    if not isinstance(data, dict):
        if request.get_data(cache=True) and not request.is_json:
            raise JWTError("Bad Request", "Request body must be JSON, sent with Content-Type: "
                           "application/json", 400)
        raise JWTError("Bad Request", "Request body must be a JSON object", 400)
    username = data.get(current_app.config["JWT_AUTH_USERNAME_KEY"])
    password = data.get(current_app.config["JWT_AUTH_PASSWORD_KEY"])
    if any(value is not None and not isinstance(value, str) for value in (username, password)):
        raise JWTError("Bad Request", "Username and password must be strings", 400)
    if not all(is_text(value) for value in (username, password) if value):
        raise JWTError("Bad Request", "Username and password must be text without NUL "
                       "characters or unpaired surrogates", 400)
    # Refused before any hashing, so huge inputs cost an attacker more than us.
    if username and len(normalise_username(username)) > MAX_USERNAME_LENGTH:
        raise JWTError("Bad Request",
                       f"Username must be at most {MAX_USERNAME_LENGTH} characters", 400)
    if password and len(password) > MAX_PASSWORD_LENGTH:
        raise JWTError("Bad Request",
                       f"Password must be at most {MAX_PASSWORD_LENGTH} characters", 400)
    # Flask-JWT's criteria: both present and non-empty, and nothing else in the body.
    if not (username and password and len(data) == 2):
        log_login(FAILURE, username, "incomplete credentials")
        raise JWTError("Bad Request", "Invalid credentials")
    return username, password
