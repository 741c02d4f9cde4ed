"""Flask-JWT, revived: token authentication for Flask with Flask-JWT 0.3.2's API, on
Flask 3 and PyJWT 2.

``JWT(app, authenticate, identity)`` adds ``POST /auth``, where a username and password
buy a signed token; ``@jwt_required()`` keeps a view for requests that carry one, and sets
``current_identity``. Each step is a handler the app can replace, and each refusal is a
``JWTError``, answered as ``{"status_code", "error", "description"}``.
"""

from .auth import (
    _default_auth_request_handler,
    _default_auth_response_handler,
    _default_request_handler,
    request_json,
)
from .errors import JWTError, _default_jwt_error_handler, logger
from .extension import JWT
from .protection import _jwt_required, current_identity, jwt_required, verify_jwt
from .settings import CONFIG_DEFAULTS, _jwt
from .tokens import (
    _default_jwt_decode_handler,
    _default_jwt_encode_handler,
    _default_jwt_headers_handler,
    _default_jwt_payload_handler,
)

__version__ = "0.4.0"

__all__ = [
    "CONFIG_DEFAULTS", "JWT", "JWTError", "current_identity", "jwt_required", "request_json",
    "verify_jwt", "_default_auth_request_handler", "_default_auth_response_handler",
    "_default_jwt_decode_handler", "_default_jwt_encode_handler", "_default_jwt_error_handler",
    "_default_jwt_headers_handler", "_default_jwt_payload_handler", "_default_request_handler",
    "_jwt", "_jwt_required", "logger",
]
