"""Whether a token is live, read only: the checks a request presenting it would pass, and
none of what such a request does — no rotation, no refresh grace, no reuse detection, no
last-used time. Token introspection (services/introspection.py) answers with it.

Read from what every request reads (the key set, the user's row and cut-off, the session),
so an ending seen by one instance is seen by every instance at the next call.
"""

from dataclasses import dataclass
from typing import Any

from jwtauthtest.tokens import claims
from jwtauthtest.tokens.sessions import Identity, is_spendable, load_token_owner
from jwtauthtest.web.refusals import Refused

KINDS = (claims.ACCESS, claims.REFRESH)


@dataclass(frozen=True)
class LiveToken:
    """A live token's verified claims, its kind and its active user."""

    payload: dict[str, Any]
    kind: str
    owner: Identity


def verified_claims(token: str) -> dict[str, Any] | None:
    """The token's verified claims (claims.decode_token: a signature by a key in the set,
    claims of the right types, not expired), or None if it has none: the checks made
    without reading the database. live_payload says whether the token they came from is
    live."""
    try:
        return claims.decode_token(token)
    except Refused:
        return None


def live_payload(payload: dict[str, Any], hint: str | None = None) -> LiveToken | None:
    """The token of these verified claims if it is live, else None: revoked (its session
    ended, issued before its user's cut-off, the user disabled or deleted) or a spent
    refresh token.

    ``hint`` (``access`` or ``refresh``) says which kind's rules to try first. Our tokens say
    their kind in a signed claim, so a wrong hint finds the same answer, at the same cost."""
    rules = {claims.ACCESS: live_access_token, claims.REFRESH: live_refresh_token}
    kind = claims.token_type(payload)
    for tried in sorted(KINDS, key=lambda k: k != hint):
        if tried == kind:
            return rules[kind](payload)
    return None


def live_access_token(payload: dict[str, Any]) -> LiveToken | None:
    """Live if its user is active and its session goes on (a Flask-JWT token, which has no
    session: if it was issued after the user's cut-off): what jwt.identity checks."""
    user_id = claims.user_id(payload)
    if user_id is None:
        return None
    owner, revoked = load_token_owner(user_id, payload.get("fam"),
                                      claims.earliest_issue(payload), payload.get("jti"))
    if owner is None or revoked:
        return None
    return LiveToken(payload, claims.token_type(payload), owner)


def live_refresh_token(payload: dict[str, Any]) -> LiveToken | None:
    """Live if it is live as an access token would be and a refresh would spend it."""
    live = live_access_token(payload)
    if live is None or not is_spendable(payload["fam"], payload["jti"]):
        return None
    return live
