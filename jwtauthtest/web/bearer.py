"""``Authorization: Bearer <token>`` (RFC 6750), which the clients behind a reverse proxy
send: taken at forward authentication only (jwt.py's FORWARD_AUTHENTICATION); every other
route keeps Flask-JWT 0.3.2's answer to that scheme."""

from flask import request
from flask_jwt import JWTError

SCHEME = "bearer"  # (compared in any case, as Flask-JWT compares its own)


def bearer_token() -> str | None:
    """The token of a Bearer Authorization header; None without one (no header, another
    scheme). Without exactly one token after the scheme, Flask-JWT's answers to a ``JWT``
    header of that shape."""
    words = request.headers.get("Authorization", "").split()
    if not words or words[0].lower() != SCHEME:
        return None
    if len(words) != 2:
        raise JWTError("Invalid JWT header",
                       "Token missing" if len(words) == 1 else "Token contains spaces")
    return words[1]
