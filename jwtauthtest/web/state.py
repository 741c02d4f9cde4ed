"""What the app learns about a request while answering it, kept in one place: the kind of
token the view wants, whether the token was fresh, whether the refresh token came in a
browser's cookie, and whether the login was written to the audit log yet.

One object a request (on ``flask.g``), made at the first question about it; each fact is
set by one module and read by another, which the fields name.
"""

from dataclasses import dataclass

from flask import g

ACCESS, REFRESH = "access", "refresh"  # the token types (tokens/claims.py's, by their names)


@dataclass
class RequestState:
    # The type of token the view takes: set by jwt_required (jwt.py) and by a refresh token
    # found in a cookie (web/cookies.py); read by the identity handler (jwt.py).
    token_type: str = ACCESS
    # Whether the request's access token is fresh: set by the identity handler (jwt.py), read
    # by jwt_required(fresh=True) and the password change (jwt.token_is_fresh).
    fresh: bool = False
    # Whether the token came from the refresh cookie (web/cookies.py): the answer sets cookies.
    by_cookie: bool = False
    # Whether this login has an audit event yet (ops/audit.py): the error handler writes one
    # for a login refused before the app's handlers saw it.
    login_logged: bool = False


def request_state() -> RequestState:
    """This request's state, made at the first call."""
    state = g.get("_jwtauthtest")
    if state is None:
        state = g._jwtauthtest = RequestState()
    return state
