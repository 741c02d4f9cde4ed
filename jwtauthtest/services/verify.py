"""Forward authentication: ``GET /auth/verify``, which a reverse proxy (NGINX's
``auth_request``, Traefik's ``ForwardAuth``, Caddy's ``forward_auth``) asks before it passes a
request on, with the request's Authorization header. 200 lets the request through and names
its user in two headers that the proxy sets on the upstream request; 401 refuses it.

The token is checked as on every protected view (``jwt_required``: the verified-token
memory, one revocation query); here only, ``Bearer <token>`` is taken as well as
``JWT <token>`` (jwt.py, FORWARD_AUTHENTICATION). Nothing is stored or logged per request:
refusals count in the ``tokens_rejected`` metric, as everywhere.
"""

from urllib.parse import quote

from flask import Blueprint, Response, current_app

from jwtauthtest.jwt import current_identity, jwt_required
from jwtauthtest.web.answers import NO_STORE

bp = Blueprint("verify", __name__)  # its view is jwt.FORWARD_AUTHENTICATION
USER_HEADER = "X-Auth-User"
USER_ID_HEADER = "X-Auth-User-Id"


# No automatic OPTIONS: its 200 would let a request through that a proxy asked about with
# that method. Every method but GET and HEAD is 405.
@bp.get("/auth/verify", provide_automatic_options=False)
@jwt_required()
def verify() -> Response:
    """200 with an empty body, for a live access token: its user's name, percent-encoded
    UTF-8 (RFC 3986), so that any name fits in a header, and id, which upstreams should key
    on (a name may be reused after a deletion)."""
    response = Response(headers={USER_HEADER: quote(current_identity.username, safe=""),
                                 USER_ID_HEADER: str(current_identity.id)})
    del response.headers["Content-Type"]  # (no body to type)
    return response


@bp.after_request
def never_stored(response: Response) -> Response:
    """No cache (a proxy's least of all) may keep a decision about a token: every answer is
    no-store. A refusal names both schemes taken here, whatever refused the token."""
    response.headers.update(NO_STORE)
    if response.status_code == 401:
        realm = current_app.config["JWT_DEFAULT_REALM"]
        response.headers["WWW-Authenticate"] = f'JWT realm="{realm}", Bearer realm="{realm}"'
    return response
