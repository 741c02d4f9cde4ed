"""Flask-JWT 0.3.2's API on PyJWT 2 and Flask 3, knowing nothing of the app it serves.

``JWT(app, authenticate, identity)`` adds ``POST /auth``, which trades a username and
password for a token; ``@jwt_required()`` protects a view and sets ``current_identity``.
Every step is a handler an app can replace (``@jwt.identity_handler``, ...); every failure
is a ``JWTError``, answered as JSON ``{"status_code", "error", "description"}``.

Beyond 0.3.2: the built-in resource refuses a body that isn't a JSON object, or values that
aren't strings, with 400 (0.3.2 answered some with a 500), and one over MAX_CONTENT_LENGTH
with 413, also when chunked; its endpoint is named by ``JWT_AUTH_ENDPOINT``; the encode
handler returns bytes, as with PyJWT 1, so 0.3.2's response handlers keep working.
"""

import logging
import warnings
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import wraps
from typing import Any

import jwt
from flask import Flask, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.local import LocalProxy

__version__ = "0.3.2"

logger = logging.getLogger(__name__)

current_identity: Any = LocalProxy(lambda: g.get("_flask_jwt_identity"))

_jwt: Any = LocalProxy(lambda: current_app.extensions["jwt"])

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
    "JWT_VERIFY_CLAIMS": ["signature", "exp", "nbf", "iat"],
    "JWT_REQUIRED_CLAIMS": ["exp", "iat", "nbf"],
}


def _default_jwt_headers_handler(identity: Any) -> dict[str, Any] | None:
    return None


def _default_jwt_payload_handler(identity: Any) -> dict[str, Any]:
    iat = datetime.now(timezone.utc)
    exp = iat + current_app.config.get("JWT_EXPIRATION_DELTA")
    nbf = iat + current_app.config.get("JWT_NOT_BEFORE_DELTA")
    identity = getattr(identity, "id") or identity["id"]  # noqa: B009 (0.3.2's lookup)
    return {"exp": exp, "iat": iat, "nbf": nbf, "identity": identity}


def _default_jwt_encode_handler(identity: Any) -> bytes:
    secret = current_app.config["JWT_SECRET_KEY"]
    algorithm = current_app.config["JWT_ALGORITHM"]
    required_claims = current_app.config["JWT_REQUIRED_CLAIMS"]

    payload = _jwt.jwt_payload_callback(identity)
    missing_claims = list(set(required_claims) - set(payload.keys()))

    if missing_claims:
        raise RuntimeError(f"Payload is missing required claims: {', '.join(missing_claims)}")

    headers = _jwt.jwt_headers_callback(identity)

    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers).encode("utf-8")


def _default_jwt_decode_handler(token: str) -> dict[str, Any]:
    secret = current_app.config["JWT_SECRET_KEY"]
    algorithm = current_app.config["JWT_ALGORITHM"]
    leeway = current_app.config["JWT_LEEWAY"]

    options: dict[str, Any] = {
        f"verify_{claim}": True for claim in current_app.config["JWT_VERIFY_CLAIMS"]}
    options["require"] = current_app.config["JWT_REQUIRED_CLAIMS"]

    return jwt.decode(token, secret, options=options, algorithms=[algorithm], leeway=leeway)


def _default_request_handler() -> str | None:
    auth_header_value = request.headers.get("Authorization", None)
    auth_header_prefix = current_app.config["JWT_AUTH_HEADER_PREFIX"]

    parts = (auth_header_value or "").split()

    if not parts:  # (0.3.2 failed on a header of white space alone)
        return None

    if parts[0].lower() != auth_header_prefix.lower():
        raise JWTError("Invalid JWT header", "Unsupported authorization type")
    elif len(parts) == 1:
        raise JWTError("Invalid JWT header", "Token missing")
    elif len(parts) > 2:
        raise JWTError("Invalid JWT header", "Token contains spaces")

    return parts[1]


def request_json() -> Any:
    """The request's JSON body as the auth resource reads it: None when there is none or it
    doesn't parse (nested too deep included); 413 when it is over MAX_CONTENT_LENGTH, also
    when sent in chunks, which Werkzeug cuts at the limit instead."""
    limit = request.max_content_length
    if (request.content_length is None and limit is not None
            and len(request.get_data(cache=True)) >= limit):
        raise RequestEntityTooLarge()
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _default_auth_request_handler() -> Any:
    data = request_json()
    if not isinstance(data, dict):  # 0.3.2 answered these with a 500 or an HTML page
        if request.get_data(cache=True) and not request.is_json:
            raise JWTError("Bad Request", "Request body must be JSON, sent with Content-Type: "
                           "application/json", 400)
        raise JWTError("Bad Request", "Request body must be a JSON object", 400)
    username = data.get(current_app.config.get("JWT_AUTH_USERNAME_KEY"), None)
    password = data.get(current_app.config.get("JWT_AUTH_PASSWORD_KEY"), None)
    if any(value is not None and not isinstance(value, str) for value in (username, password)):
        raise JWTError("Bad Request", "Username and password must be strings", 400)
    criterion = [username, password, len(data) == 2]

    if not all(criterion):
        raise JWTError("Bad Request", "Invalid credentials")

    identity = _jwt.authentication_callback(username, password)

    if identity:
        access_token = _jwt.jwt_encode_callback(identity)
        return _jwt.auth_response_callback(access_token, identity)
    else:
        raise JWTError("Bad Request", "Invalid credentials")


def _default_auth_response_handler(access_token: bytes | str, identity: Any) -> Any:
    if isinstance(access_token, bytes):  # the default encode handler's, as in PyJWT 1
        access_token = access_token.decode("utf-8")
    return jsonify({"access_token": access_token})


def _default_jwt_error_handler(error: "JWTError") -> Any:
    logger.error(error)
    return jsonify(OrderedDict([
        ("status_code", error.status_code),
        ("error", error.error),
        ("description", error.description),
    ])), error.status_code, error.headers


def _jwt_required(realm: str) -> None:
    """Does the actual work of verifying the JWT data in the current request.
    This is done automatically for you by `jwt_required()` but you could call it manually.
    Doing so would be useful in the context of optional JWT access in your APIs.

    :param realm: an optional realm
    """
    token = _jwt.request_callback()

    if token is None:
        raise JWTError("Authorization Required", "Request does not contain an access token",
                       headers={"WWW-Authenticate": f'JWT realm="{realm}"'})

    try:
        payload = _jwt.jwt_decode_callback(token)
    except jwt.InvalidTokenError as e:
        raise JWTError("Invalid token", str(e)) from None

    g._flask_jwt_identity = identity = _jwt.identity_callback(payload)

    if identity is None:
        raise JWTError("Invalid JWT", "User does not exist")


def jwt_required(realm: str | None = None) -> Callable:
    """View decorator that requires a valid JWT token to be present in the request

    :param realm: an optional realm
    """
    def wrapper(fn: Callable) -> Callable:
        @wraps(fn)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            _jwt_required(realm or current_app.config["JWT_DEFAULT_REALM"])
            return fn(*args, **kwargs)
        return decorator
    return wrapper


class JWTError(Exception):
    def __init__(self, error: str, description: str, status_code: int = 401,
                 headers: dict[str, str] | None = None) -> None:
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers

    def __repr__(self) -> str:
        return f"JWTError: {self.error}"

    def __str__(self) -> str:
        return f"{self.error}. {self.description}"


class JWT:
    """The extension. With an app, or later through ``init_app``; these keys of
    ``app.config`` are used, with CONFIG_DEFAULTS' values unless set: ``JWT_SECRET_KEY``
    (default ``SECRET_KEY``), ``JWT_ALGORITHM``, ``JWT_LEEWAY``, ``JWT_EXPIRATION_DELTA``,
    ``JWT_NOT_BEFORE_DELTA``, ``JWT_VERIFY_CLAIMS``, ``JWT_REQUIRED_CLAIMS``,
    ``JWT_AUTH_URL_RULE`` (None: no built-in resource), ``JWT_AUTH_URL_OPTIONS``,
    ``JWT_AUTH_ENDPOINT``, ``JWT_AUTH_USERNAME_KEY``, ``JWT_AUTH_PASSWORD_KEY``,
    ``JWT_AUTH_HEADER_PREFIX``, ``JWT_DEFAULT_REALM``.
    """

    def __init__(self, app: Flask | None = None, authentication_handler: Callable | None = None,
                 identity_handler: Callable | None = None) -> None:
        self.authentication_callback = authentication_handler
        self.identity_callback = identity_handler

        self.auth_response_callback = _default_auth_response_handler
        self.auth_request_callback = _default_auth_request_handler
        self.jwt_encode_callback = _default_jwt_encode_handler
        self.jwt_decode_callback = _default_jwt_decode_handler
        self.jwt_headers_callback = _default_jwt_headers_handler
        self.jwt_payload_callback = _default_jwt_payload_handler
        self.jwt_error_callback = _default_jwt_error_handler
        self.request_callback = _default_request_handler

        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        for k, v in CONFIG_DEFAULTS.items():
            app.config.setdefault(k, v)
        app.config.setdefault("JWT_SECRET_KEY", app.config["SECRET_KEY"])

        auth_url_rule = app.config.get("JWT_AUTH_URL_RULE", None)

        if auth_url_rule:
            if self.auth_request_callback == _default_auth_request_handler:
                assert self.authentication_callback is not None, (  # noqa: S101 (0.3.2's check)
                    "an authentication_handler function must be defined when using the built in "
                    "authentication resource")

            auth_url_options = dict(app.config.get("JWT_AUTH_URL_OPTIONS", {"methods": ["POST"]}))
            auth_url_options.setdefault("view_func", self.auth_request_callback)
            auth_url_options.setdefault("endpoint", app.config["JWT_AUTH_ENDPOINT"])
            app.add_url_rule(auth_url_rule, **auth_url_options)

        app.errorhandler(JWTError)(self._jwt_error_callback)

        app.extensions["jwt"] = self

    def _jwt_error_callback(self, error: JWTError) -> Any:
        return self.jwt_error_callback(error)

    def authentication_handler(self, callback: Callable) -> Callable:
        """Specifies the authentication handler function. This function receives two
        positional arguments. The first being the username the second being the password. It
        should return an object representing an authenticated identity. Example::

            @jwt.authentication_handler
            def authenticate(username, password):
                user = User.query.filter(User.username == username).scalar()
                if bcrypt.check_password_hash(user.password, password):
                    return user

        :param callback: the authentication handler function
        """
        self.authentication_callback = callback
        return callback

    def identity_handler(self, callback: Callable) -> Callable:
        """Specifies the identity handler function. This function receives one positional
        argument being the JWT payload. For example::

            @jwt.identity_handler
            def identify(payload):
                return User.query.filter(User.id == payload['identity']).scalar()

        :param callback: the identity handler function
        """
        self.identity_callback = callback
        return callback

    def jwt_error_handler(self, callback: Callable) -> Callable:
        """Specifies the error handler function. Example::

            @jwt.jwt_error_handler
            def error_handler(e):
                return "Something bad happened", 400

        :param callback: the error handler function
        """
        self.jwt_error_callback = callback
        return callback

    def auth_response_handler(self, callback: Callable) -> Callable:
        """Specifies the authentication response handler function. It receives the access
        token (bytes from the default encode handler) and the identity. Example::

            @jwt.auth_response_handler
            def respond(access_token, identity):
                return jsonify({'token': access_token.decode('utf-8')})

        :param callable callback: the auth response handler function
        """
        self.auth_response_callback = callback
        return callback

    def auth_request_handler(self, callback: Callable) -> Callable:
        """Specifies the authentication request handler function.

        :param callable callback: the auth request handler function

        .. deprecated:: 0.3.2
           Set ``JWT_AUTH_URL_RULE = None`` and register your own authentication resource.
        """
        warnings.warn("This handler is deprecated. The recommended approach to have control over "
                      "the authentication resource is to disable the built-in  resource by "
                      "setting JWT_AUTH_URL_RULE=None and registering your own authentication "
                      "resource directly on your application.", DeprecationWarning, stacklevel=2)
        self.auth_request_callback = callback
        return callback

    def request_handler(self, callback: Callable) -> Callable:
        """Specifies the request handler function. This function returns a JWT from the
        current request, or None when it has none. Example::

            @jwt.request_handler
            def from_cookie():
                return request.cookies.get('token')

        :param callable callback: the request handler function
        """
        self.request_callback = callback
        return callback

    def jwt_encode_handler(self, callback: Callable) -> Callable:
        """Specifies the encoding handler function. This function receives the identity and
        returns the signed token. Example::

            @jwt.jwt_encode_handler
            def encode(identity):
                return jwt.encode({'sub': str(identity.id)}, secret, algorithm='HS256')

        :param callable callback: the encoding handler function
        """
        self.jwt_encode_callback = callback
        return callback

    def jwt_decode_handler(self, callback: Callable) -> Callable:
        """Specifies the decoding handler function. This function receives a signed token
        and returns its payload, raising ``jwt.InvalidTokenError`` when it can't. Example::

            @jwt.jwt_decode_handler
            def decode(token):
                return jwt.decode(token, secret, algorithms=['HS256'])

        :param callable callback: the decoding handler function
        """
        self.jwt_decode_callback = callback
        return callback

    def jwt_payload_handler(self, callback: Callable) -> Callable:
        """Specifies the JWT payload handler function. This function receives the return
        value from the ``authentication_handler`` function. Example::

            @jwt.jwt_payload_handler
            def make_payload(identity):
                return {'user_id': identity.id}

        :param callable callback: the payload handler function
        """
        self.jwt_payload_callback = callback
        return callback

    def jwt_headers_handler(self, callback: Callable) -> Callable:
        """Specifies the JWT headers handler function. This function receives the return
        value from the ``authentication_handler`` function and returns extra JOSE headers,
        or None. Example::

            @jwt.jwt_headers_handler
            def make_headers(identity):
                return {'kid': 'key-1'}

        :param callable callback: the headers handler function
        """
        self.jwt_headers_callback = callback
        return callback
