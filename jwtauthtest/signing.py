"""Signing and verifying tokens with the key set: a ``kid`` header on every token we mint,
the key it names to verify it, and ``iss``/``aud`` when JWT_ISSUER/JWT_AUDIENCE are set
(RFC 8725 sections 3.8 and 3.9). A token without ``kid`` — minted by Flask-JWT — is checked
against JWT_SECRET_KEY, as Flask-JWT checked it."""

from typing import Any

import jwt as pyjwt
from flask import Flask, current_app

from .key_material import HMAC_ALGORITHMS
from .keys import key_set
from .secret import ConfigurationError

REQUIRED_CLAIMS = ["exp", "iat", "nbf"]
ISSUER_AND_AUDIENCE = {"iss": "JWT_ISSUER", "aud": "JWT_AUDIENCE"}


def init_signing(app: Flask) -> None:
    issuer, audience = app.config.get("JWT_ISSUER"), app.config.get("JWT_AUDIENCE")
    if issuer is not None and not isinstance(issuer, str):
        raise ConfigurationError(f"JWT_ISSUER must be a string, not {issuer!r}")
    audiences = audience if isinstance(audience, list) else [audience]
    if audience not in (None, "") and not (audiences and all(isinstance(a, str) and a
                                                             for a in audiences)):
        raise ConfigurationError("JWT_AUDIENCE must be a string or a JSON list of strings, "
                                 f"not {audience!r}")


def configured_claims() -> dict[str, Any]:
    """iss and aud, those of them that are configured."""
    config = current_app.config
    return {claim: config[setting] for claim, setting in ISSUER_AND_AUDIENCE.items()
            if config.get(setting)}


def sign(payload: dict[str, Any]) -> str:
    key = key_set().signing_key()
    return pyjwt.encode({**payload, **configured_claims()}, key.signing,
                        algorithm=key.algorithm, headers={"kid": key.kid})


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
    required = REQUIRED_CLAIMS + list(configured_claims())
    return pyjwt.decode(token, secret, algorithms=algorithms, leeway=config["JWT_LEEWAY"],
                        options={"require": required}, issuer=config.get("JWT_ISSUER") or None,
                        audience=config.get("JWT_AUDIENCE") or None)
