"""Signing and verifying tokens with the key set: a ``kid`` header on every token we mint,
the key it names to verify it, and ``iss``/``aud`` when JWT_ISSUER/JWT_AUDIENCE are set
(RFC 8725 sections 3.8 and 3.9). A token without ``kid`` — minted by Flask-JWT — is checked
against JWT_SECRET_KEY, as Flask-JWT checked it."""

from typing import Any

import jwt as pyjwt
from flask import current_app

from .keys import HMAC_ALGORITHMS, key_set

REQUIRED_CLAIMS = ["exp", "iat", "nbf"]


def sign(payload: dict[str, Any]) -> str:
    key = key_set().signing_key()
    config = current_app.config
    for claim, setting in (("iss", "JWT_ISSUER"), ("aud", "JWT_AUDIENCE")):
        if config.get(setting):
            payload = {**payload, claim: config[setting]}
    return pyjwt.encode(payload, key.signing, algorithm=key.algorithm, headers={"kid": key.kid})


def verify(token: str) -> dict[str, Any]:
    """The verified claims; raises pyjwt.InvalidTokenError with PyJWT's own message."""
    config = current_app.config
    kid = pyjwt.get_unverified_header(token).get("kid")
    if kid is None:
        algorithm = config["JWT_ALGORITHM"]
        secret, algorithms = config["JWT_SECRET_KEY"], [
            algorithm if algorithm in HMAC_ALGORITHMS else "HS256"]
    else:
        key = key_set().verifying_key(kid)
        if key is None:
            raise pyjwt.InvalidTokenError("Unknown key id")
        secret, algorithms = key.verifying, [key.algorithm]
    required = REQUIRED_CLAIMS + [claim for claim, setting in (("iss", "JWT_ISSUER"),
                                                              ("aud", "JWT_AUDIENCE"))
                                  if config.get(setting)]
    return pyjwt.decode(token, secret, algorithms=algorithms, leeway=config["JWT_LEEWAY"],
                        options={"require": required}, issuer=config.get("JWT_ISSUER"),
                        audience=config.get("JWT_AUDIENCE"))
