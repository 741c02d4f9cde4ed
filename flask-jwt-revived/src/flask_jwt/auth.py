"""The built-in login resource (``POST /auth``) and where a request's token comes from."""

import re
from typing import Any

from flask import current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import JWTError
from .settings import _jwt


def request_json() -> Any:
    """The request body as the built-in resource reads it: the parsed JSON, or None when
    there is no body or it doesn't parse (nesting too deep for Python included).

    Raises 413 ``RequestEntityTooLarge`` for a body over ``MAX_CONTENT_LENGTH``, and for one
    sent in chunks that reaches it (Werkzeug would cut it there and parse the rest). Not in 0.3.2:
    for an app that reads the credentials before the resource does (to throttle or log a
    login) and must see them as the resource will.
    """
    limit = request.max_content_length
    if (request.content_length is None and limit is not None
            and len(request.get_data(cache=True)) >= limit):
        raise RequestEntityTooLarge()
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _default_request_handler() -> str | None:
    """The token after ``JWT_AUTH_HEADER_PREFIX`` (any case) in the Authorization header;
    None without the header (or with only white space in it)."""
    words = request.headers.get("Authorization", "").split()
    if not words:
        return None
    if words[0].lower() != current_app.config["JWT_AUTH_HEADER_PREFIX"].lower():
        raise JWTError("Invalid JWT header", "Unsupported authorization type")
    if len(words) == 1:
        raise JWTError("Invalid JWT header", "Token missing")
    if len(words) > 2:
        raise JWTError("Invalid JWT header", "Token contains spaces")
    return words[1]


def _credentials() -> tuple[Any, Any, bool]:
    """The username and password of the login body, and whether it holds nothing else."""
    body = request_json()
    if not isinstance(body, dict):
        if request.get_data(cache=True) and not request.is_json:
            raise JWTError("Bad Request", "Request body must be JSON, sent with Content-Type: "
                           "application/json", 400)
        raise JWTError("Bad Request", "Request body must be a JSON object", 400)
    username = body.get(current_app.config["JWT_AUTH_USERNAME_KEY"])
    password = body.get(current_app.config["JWT_AUTH_PASSWORD_KEY"])
    if not all(value is None or isinstance(value, str) for value in (username, password)):
        raise JWTError("Bad Request", "Username and password must be strings", 400)
    if not all(value is None or is_text(value) for value in (username, password)):
        raise JWTError("Bad Request", "Username and password must be text without NUL "
                       "characters or unpaired surrogates", 400)
    return username, password, len(body) == 2


# A NUL (which PostgreSQL refuses in text) or a surrogate: a Python string decoded from JSON
# holds one only unpaired, and it has no UTF-8 (``.encode()`` raises).
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def is_text(value: str) -> bool:
    """Whether the string can be stored, encoded and compared as text."""
    return NOT_TEXT.search(value) is None


def _default_auth_request_handler() -> Any:
    """The view of ``JWT_AUTH_URL_RULE``: a JSON object of exactly a username and a password
    (keys ``JWT_AUTH_USERNAME_KEY``, ``JWT_AUTH_PASSWORD_KEY``) that the authentication
    handler accepts gets the auth response handler's answer; anything else 401
    ``Invalid credentials``. Beyond 0.3.2: 400 for a body that is not a JSON object (0.3.2:
    a 500), or values that aren't strings or hold a NUL or an unpaired surrogate (0.3.2 gave
    them to the authentication handler), and 413 for one over ``MAX_CONTENT_LENGTH``."""
    username, password, nothing_else = _credentials()
    identity = None
    if username and password and nothing_else:
        identity = _jwt.authentication_callback(username, password)
    if not identity:
        raise JWTError("Bad Request", "Invalid credentials")
    return _jwt.auth_response_callback(_jwt.jwt_encode_callback(identity), identity)


def _default_auth_response_handler(access_token: bytes | str, identity: Any) -> Any:
    """``{"access_token": ...}``, from the token as bytes (the default encode handler's) or
    text (what an encode handler returning ``jwt.encode(...)`` gives with PyJWT 2)."""
    if isinstance(access_token, bytes):
        access_token = access_token.decode("utf-8")
    return jsonify({"access_token": access_token})
