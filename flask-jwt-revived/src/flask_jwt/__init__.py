"""Flask-JWT, revived: token authentication for Flask with Flask-JWT 0.3.2's API, on
Flask 3 and PyJWT 2.

``JWT(app, authenticate, identity)`` adds ``POST /auth``, where a username and password
buy a signed token; ``@jwt_required()`` keeps a view for requests that carry one, and sets
``current_identity``. Each step is a handler the app can replace, and each refusal is a
``JWTError``, answered as ``{"status_code", "error", "description"}``.

Every name an app could import from 0.3.2's module imports from this one, the ones it had
only from its own imports too (``from flask_jwt import JWT, jwt_required, timedelta``), but
``_request_ctx_stack``, which Flask 3.0 removed. ``python -m flask_jwt.upgrade PATH`` (or
``flask-jwt-upgrade PATH``) tells what else an app of 0.3.2's time needs to change.
"""

# What 0.3.2's module had from its own imports, which apps imported from it.
import logging
import warnings
from collections import OrderedDict
from datetime import datetime, timedelta
from functools import wraps

import jwt
from flask import current_app, jsonify, request
from werkzeug.local import LocalProxy

from .auth import (
    _default_auth_request_handler,
    _default_auth_response_handler,
    _default_request_handler,
    request_json,
)
from .errors import JWTError, _default_jwt_error_handler, logger
from .extension import JWT
from .protection import _jwt_required, current_identity, encode_token, jwt_required, verify_jwt
from .settings import CONFIG_DEFAULTS, _jwt
from .tokens import (
    _default_jwt_decode_handler,
    _default_jwt_encode_handler,
    _default_jwt_headers_handler,
    _default_jwt_payload_handler,
)

__version__ = "0.5.0"

# 0.3.2 had no __all__, so `from flask_jwt import *` gave every name without an underscore,
# the imported ones too; this list keeps those and adds the private names apps used.
__all__ = [
    "CONFIG_DEFAULTS", "JWT", "JWTError", "current_identity", "encode_token", "jwt_required",
    "logger", "_default_auth_request_handler", "_default_auth_response_handler",
    "_default_jwt_decode_handler", "_default_jwt_encode_handler", "_default_jwt_error_handler",
    "_default_jwt_headers_handler", "_default_jwt_payload_handler", "_default_request_handler",
    "_jwt", "_jwt_required",
    "LocalProxy", "OrderedDict", "current_app", "datetime", "jsonify", "jwt", "logging",
    "request", "timedelta", "warnings", "wraps",
    "request_json", "verify_jwt",
]
