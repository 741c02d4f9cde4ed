"""The API's own views: the tutorial's /hello, and the token lifecycle."""

from flask import Blueprint, Response, after_this_request, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from jwtauthtest.apidocs.openapi import openapi_document
from jwtauthtest.database import db, write_refusal
from jwtauthtest.jwt import (
    JWTError,
    current_identity,
    jwt_required,
    refresh_token_required,
    session_of_the_token,
)
from jwtauthtest.keys.keyset import key_set
from jwtauthtest.models import User
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import log_change
from jwtauthtest.ops.errors import REFRESH_REUSED
from jwtauthtest.schema import schema_is_current
from jwtauthtest.tokens.sessions import (
    GRACE,
    REUSED,
    REVOKED,
    client_digest,
    end_session,
    may_end,
    rotate_session,
)
from jwtauthtest.web.answers import private
from jwtauthtest.web.cookies import (
    authenticated_by_cookie,
    clear_session_cookies,
    cookie_token_response,
)
from jwtauthtest.web.refusals import Refused, revoked_token

bp = Blueprint("views", __name__)
AUDITED_REFRESHES = {REUSED: "refresh_reuse", GRACE: "refresh_grace"}


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
    """200 when the database answers with the current schema and can be written; 503
    otherwise (an unreachable database becomes 503 in ops/errors.py)."""
    if not schema_is_current():
        raise ServiceUnavailable("The database schema is not up to date")
    refusal = write_refusal()
    if refusal is not None:
        raise ServiceUnavailable(f"The database can't be written: {refusal}")
    return {"status": "ok"}


@bp.route("/hello")
@jwt_required()
def hello() -> str:
    return "Hello world!"


@bp.route("/me")
@jwt_required()
def me() -> Response:
    user = db.session.get(User, current_identity.id)
    if user is None:  # deleted since the token was checked
        raise revoked_token()
    return private({"id": user.id, "username": user.username, "email": user.email,
                    "email_verified": user.email_verified})


@bp.post("/auth/refresh")
@refresh_token_required
def refresh() -> Response:
    """A new pair for the refresh token of the Authorization header, or of a browser's
    cookie (then the new refresh token goes in the cookie)."""
    pair, outcome = rotate_session(current_identity.id, current_identity.family,
                                   current_identity.token_id, requesting_client())
    if outcome == REVOKED:  # ended meanwhile: the cookie may already be a newer session's
        raise revoked_token()
    if outcome in AUDITED_REFRESHES:
        log_change(AUDITED_REFRESHES[outcome], user_id=current_identity.id,
                   address=request.remote_addr)
    if pair is None:
        raise refresh_reused()
    metrics.count("token_refreshes", outcome=outcome)
    if authenticated_by_cookie():
        return cookie_token_response(pair["access_token"], pair["refresh_token"],
                                     new_login=False)
    return private(pair)


@bp.post("/auth/logout")
@jwt_required()
def logout() -> Response:
    """End the session of the access token, or of a browser's refresh-token cookie (and
    clear the cookies). A spent refresh token in the cookie is reuse, as at a refresh."""
    family = session_of_the_token()
    reused = authenticated_by_cookie() and not may_end(family, current_identity.token_id,
                                                       requesting_client())
    end_session(family)
    if reused:
        log_change("refresh_reuse", user_id=current_identity.id, address=request.remote_addr)
        raise refresh_reused()
    log_change("logout", user_id=current_identity.id, address=request.remote_addr)
    response = jsonify({"status": "logged out"})
    if authenticated_by_cookie():
        clear_session_cookies(response)
    return response


def requesting_client() -> str:
    return client_digest(request.remote_addr, request.user_agent.string)


def refresh_reused() -> JWTError:
    """A spent refresh token: its session has just been ended, and a browser forgets it."""
    if authenticated_by_cookie():
        after_this_request(clear_session_cookies)
    return Refused("Invalid token", REFRESH_REUSED, "reused")
