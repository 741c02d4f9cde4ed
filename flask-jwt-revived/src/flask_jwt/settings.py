"""The ``JWT_*`` settings, with 0.3.2's defaults, and the secret they name."""

from datetime import timedelta
from typing import Any

from flask import current_app
from werkzeug.local import LocalProxy

CONFIG_DEFAULTS: dict[str, Any] = {
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

NO_KEY = ("Flask-JWT has no key to sign or verify tokens with: set JWT_SECRET_KEY (or "
          "SECRET_KEY before init_app) to a long random value, e.g. secrets.token_hex(32)")

# The JWT instance of the current app, for the default handlers, which are plain functions.
_jwt: Any = LocalProxy(lambda: current_app.extensions["jwt"])


def token_secret() -> Any:
    """The key the default encode and decode handlers use: ``JWT_SECRET_KEY``.

    Raises RuntimeError when it is missing or empty. This happens here, at the first token,
    and not in ``init_app``: an app that replaces both handlers needs no secret. A short
    secret is accepted; PyJWT warns about it (``InsecureKeyLengthWarning``).
    """
    secret = current_app.config.get("JWT_SECRET_KEY")
    if secret is None or (isinstance(secret, (str, bytes)) and not secret):
        raise RuntimeError(NO_KEY)
    return secret
