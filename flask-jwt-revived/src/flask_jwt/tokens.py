"""The default token handlers: the claims of a new token, its JOSE header, signing it, and
reading a token back."""

from datetime import datetime, timezone
from typing import Any

import jwt
from flask import current_app

from .settings import _jwt, token_secret


def _default_jwt_headers_handler(identity: Any) -> dict[str, Any] | None:
    """No JOSE header fields beyond PyJWT's own (``alg``, ``typ``)."""
    return None


def _default_jwt_payload_handler(identity: Any) -> dict[str, Any]:
    """``iat`` now, ``nbf`` ``JWT_NOT_BEFORE_DELTA`` and ``exp`` ``JWT_EXPIRATION_DELTA`` after
    it, and ``identity``: the identity's ``id`` attribute, or else its ``id`` key."""
    config = current_app.config
    issued = datetime.now(timezone.utc)
    user_id = identity.id if hasattr(identity, "id") else identity["id"]
    return {"exp": issued + config["JWT_EXPIRATION_DELTA"], "iat": issued,
            "nbf": issued + config["JWT_NOT_BEFORE_DELTA"], "identity": user_id}


def _default_jwt_encode_handler(identity: Any) -> bytes:
    """The signed token of the identity, as bytes, as 0.3.2 handed it to the auth response
    handler. Signed with ``JWT_SECRET_KEY`` by ``JWT_ALGORITHM``; every claim named in
    ``JWT_REQUIRED_CLAIMS`` must be in the payload (RuntimeError if not)."""
    secret = token_secret()
    payload = _jwt.jwt_payload_callback(identity)
    missing = set(current_app.config["JWT_REQUIRED_CLAIMS"]) - set(payload)
    if missing:
        raise RuntimeError(f"Payload is missing required claims: {', '.join(sorted(missing))}")
    token = jwt.encode(payload, secret, algorithm=current_app.config["JWT_ALGORITHM"],
                       headers=_jwt.jwt_headers_callback(identity))
    return token.encode("utf-8")  # PyJWT 2 gives text; PyJWT 1, and so 0.3.2, gave bytes


def _default_jwt_decode_handler(token: str) -> dict[str, Any]:
    """The payload of a token signed with ``JWT_SECRET_KEY`` by ``JWT_ALGORITHM`` (no other
    algorithm), its ``JWT_VERIFY_CLAIMS`` checked within ``JWT_LEEWAY`` and its
    ``JWT_REQUIRED_CLAIMS`` present; ``jwt.InvalidTokenError`` when any of that fails."""
    config = current_app.config
    options: dict[str, Any] = {f"verify_{claim}": True for claim in config["JWT_VERIFY_CLAIMS"]}
    options["require"] = list(config["JWT_REQUIRED_CLAIMS"])
    return jwt.decode(token, token_secret(), algorithms=[config["JWT_ALGORITHM"]],
                      leeway=config["JWT_LEEWAY"], options=options)
