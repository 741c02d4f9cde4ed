"""POST /auth/introspect: token introspection (RFC 7662) for the resource servers an
operator made clients of (``flask clients add``, clients/).

A client authenticates with HTTP Basic, its client_id and client_secret each form-urlencoded
first (RFC 6749 section 2.3.1), and sends ``token`` (and ``token_type_hint``, if it likes) as
a form. A live token's answer names its user and kind; any other token's is ``{"active":
false}`` and nothing more. Asking changes nothing about the token (tokens/liveness.py).
"""

from urllib.parse import unquote_plus

from flask import Blueprint, Response, current_app, request
from flask_jwt import JWTError
from werkzeug.exceptions import BadRequest

from jwtauthtest.clients.store import NOT_AN_ID, check_client
from jwtauthtest.keys.signing import ISSUER_AND_AUDIENCE
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import log_change
from jwtauthtest.throttle.clients import client_authentication, introspection_by
from jwtauthtest.tokens import claims
from jwtauthtest.tokens.liveness import LiveToken, live_payload, verified_claims
from jwtauthtest.web.answers import NO_STORE, private

bp = Blueprint("introspection", __name__)
REALM = "introspection"
TOKEN_TYPES = {claims.ACCESS: "access_token", claims.REFRESH: "refresh_token"}
HINTS = {name: kind for kind, name in TOKEN_TYPES.items()}  # any other hint is ignored
NO_CREDENTIALS = ("Client authentication required: HTTP Basic with a client_id and "
                  "client_secret from `flask clients add`")


class InvalidRequest(BadRequest):
    """RFC 6749's ``invalid_request``, in our error shape."""

    name = "invalid_request"


@bp.after_request
def not_to_be_kept(response: Response) -> Response:
    """No cache keeps an answer: a token's liveness is of this moment, refusals too."""
    response.headers.update(NO_STORE)
    return response


@bp.post("/auth/introspect")
def introspect() -> Response:
    """Whether the form's token is live, and whose it is, for an authenticated client. Only a
    token that passes the checks made without the database counts against the client's
    RATELIMIT_INTROSPECTION: junk costs no read of its own, and a resource server's
    anonymous users, who may hand it any, can't use up its allowance."""
    client_id = authenticated_client()
    tokens = request.form.getlist("token")
    if len(tokens) != 1:
        raise InvalidRequest("Send the token to introspect once, as the form parameter token "
                             "(application/x-www-form-urlencoded)")
    payload, live = verified_claims(tokens[0]), None
    if payload is not None:
        introspection_by(client_id)
        live = live_payload(payload, HINTS.get(request.form.get("token_type_hint", "")))
    metrics.count("introspections", outcome="inactive" if live is None else "active")
    return private(active(live) if live is not None else {"active": False})


def authenticated_client() -> str:
    """The client_id of the request's Basic credentials, if they are a client's; 401
    otherwise (counted per client address, as failed logins are)."""
    with client_authentication():
        credentials = request.authorization
        if credentials is None or credentials.type != "basic":
            raise refused(None, "no credentials", NO_CREDENTIALS)
        client_id = unquote_plus(credentials.username or "")
        checked = check_client(client_id, unquote_plus(credentials.password or ""))
        if checked.client_id is None:
            raise refused(client_id, checked.refusal, "Unknown client or wrong secret")
        return checked.client_id


def refused(client_id: str | None, reason: str | None, description: str) -> JWTError:
    """A failed client authentication: counted, audited, and the 401 that names the scheme
    to use. The sent client_id is logged unless check_client found it hasn't the shape of
    ours (NOT_AN_ID): what hasn't may be the secret, sent in its place."""
    metrics.count("introspections", outcome="unauthorized")
    log_change("client_refused", client_id=None if reason == NOT_AN_ID else client_id,
               address=request.remote_addr, reason=reason)
    return JWTError("invalid_client", description, 401,
                    {"WWW-Authenticate": f'Basic realm="{REALM}"'})


def active(live: LiveToken) -> dict:
    """RFC 7662's answer for a live token: its user (``sub``, the id as a string), kind and
    times, its id if it has one (Flask-JWT's have none), and its iss and aud when the server
    is configured with them."""
    payload = live.payload
    answer = {"active": True, "sub": str(live.owner.id), "username": live.owner.username,
              "token_type": TOKEN_TYPES[live.kind], "exp": int(payload["exp"]),
              "iat": int(payload["iat"])}
    if "jti" in payload:
        answer["jti"] = payload["jti"]
    for claim, setting in ISSUER_AND_AUDIENCE.items():
        if claim in payload and current_app.config.get(setting):
            answer[claim] = payload[claim]
    return answer

