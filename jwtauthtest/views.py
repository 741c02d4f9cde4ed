"""The API's own views: the tutorial's /hello, and the token lifecycle."""

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from . import metrics, tokens
from .audit import log_change
from .errors import REFRESH_REUSED
from .jwt import JWTError, current_identity, jwt_required, refresh_token_required
from .keys import key_set
from .openapi import openapi_document
from .schema import schema_is_current
from .sessions import end_session, rotate_session

bp = Blueprint("views", __name__)


@bp.route("/openapi.json")
def openapi() -> dict:
    return openapi_document(current_app.config)


@bp.route("/.well-known/jwks.json")
def jwks() -> Response:
    """The public keys that can verify our tokens (RFC 7517); none with an HMAC algorithm,
    whose secret is no one else's business."""
    keys = [key.public_jwk for key in key_set().live_keys() if key.public_jwk is not None]
    response = jsonify({"keys": keys})
    response.cache_control.public = True
    response.cache_control.max_age = int(current_app.config["JWT_KEY_REFRESH_SECONDS"])
    return response


@bp.route("/healthz")
def healthz() -> dict:
    """200 when the database answers with the current schema; 503 otherwise (an
    unreachable database becomes 503 in errors.py)."""
    if not schema_is_current():
        raise ServiceUnavailable("The database schema is not up to date")
    return {"status": "ok"}


@bp.route("/hello")
@jwt_required()
def hello() -> str:
    return "Hello world!"


@bp.route("/me")
@jwt_required()
def me() -> dict:
    return {"id": current_identity.id, "username": current_identity.username}


@bp.post("/auth/refresh")
@refresh_token_required
def refresh() -> Response:
    pair = rotate_session(current_identity.id, current_identity.family,
                          current_identity.token_id)
    if pair is None:
        log_change("refresh_reuse", user_id=current_identity.id, address=request.remote_addr)
        raise JWTError("Invalid token", REFRESH_REUSED)
    metrics.count("token_refreshes", outcome="rotated")
    return tokens.token_response(pair)


@bp.post("/auth/logout")
@jwt_required()
def logout() -> dict:
    family = current_identity.family
    if family is None:
        raise JWTError("Bad Request", "This token has no session to end (it was issued by "
                       "Flask-JWT); it stays valid until it expires", 400)
    end_session(family)
    log_change("logout", user_id=current_identity.id, address=request.remote_addr)
    return {"status": "logged out"}
