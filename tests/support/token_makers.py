"""Tokens built by hand with the stdlib, the way Flask-JWT 0.3.2 / PyJWT 1.4 wrote them."""

import base64
import hashlib
import hmac
import json
import time


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(payload: dict, secret: str, header: dict | None = None, alg: str = "HS256") -> str:
    header = header or {"typ": "JWT", "alg": alg}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload))
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url(signature)}"


def unsigned(payload: dict) -> str:
    """An ``alg: none`` token, which must never be accepted."""
    header = b64url(json.dumps({"typ": "JWT", "alg": "none"}).encode())
    return f"{header}.{b64url(json.dumps(payload).encode())}."


def flask_jwt_claims(user_id: int, lifetime: int = 300, now: int | None = None) -> dict:
    """Exactly the claims Flask-JWT 0.3.2's default payload handler put in a token."""
    now = int(time.time()) if now is None else now
    return {"exp": now + lifetime, "iat": now, "nbf": now, "identity": user_id}
