"""Signing and verifying tokens with the key set: a ``kid`` header on every token we mint,
the key it names to verify it, and ``iss``/``aud`` when JWT_ISSUER/JWT_AUDIENCE are set
(RFC 8725 sections 3.8 and 3.9). A token without ``kid`` — minted by Flask-JWT — is checked
against JWT_SECRET_KEY, as Flask-JWT checked it, while the key set holds that key."""

from typing import Any

import jwt as pyjwt
from flask import Flask, current_app

from jwtauthtest.keys.keyset import KeySet, key_set
from jwtauthtest.keys.material import Key
from jwtauthtest.settings import ConfigurationError

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


def verify(token: str) -> tuple[dict[str, Any], str | None]:
    """The verified claims and the token's kid (None for Flask-JWT's); raises
    pyjwt.InvalidTokenError with PyJWT's own message. A token verified lately and not
    expired since is not verified again (keys/verified.py).
    """
    keys = key_set()
    remembered = keys.verified_token(token)
    if remembered is not None:
        return remembered
    generation = keys.verified.generation
    claims, kid = verify_by_kid(keys, token)
    keys.verified.remember(token, claims, kid,
                           current_app.config["JWT_LEEWAY"].total_seconds(), generation)
    return claims, kid


def verify_by_kid(keys: KeySet, token: str) -> tuple[dict[str, Any], str | None]:
    """The full check. A token is accepted only by the key its kid names. Nearly every token
    names the key that signs now, so that key is tried first: the token is parsed once, and
    accepted if its verified header names that key. Anything else is checked by the kid's key.
    """
    current, refused = keys.current_key(), None
    if current is not None:
        try:
            verified = decode_with(current, token)
        except pyjwt.InvalidTokenError as error:
            refused = error  # another key's token, or a bad one: its kid says which
        else:
            if verified["header"].get("kid") == current.kid:
                return verified["payload"], current.kid
    kid = pyjwt.get_unverified_header(token).get("kid")
    if refused is not None and kid == current.kid:
        raise refused  # what the full check by this same key would raise again
    key = keys.verifying_key(kid) if kid is not None else keys.kidless_key()
    if key is None:
        raise pyjwt.InvalidTokenError("Unknown key id" if kid is not None else
                                      "Tokens without a key id are no longer accepted")
    return decode_with(key, token)["payload"], kid


def decode_with(key: Key, token: str) -> dict[str, Any]:
    """PyJWT's decode_complete (header, payload) of a token signed by this key, by its
    algorithm alone, its claims checked: exp, iat and nbf within JWT_LEEWAY, and iss and aud
    as configured."""
    config = current_app.config
    return pyjwt.decode_complete(
        token, key.verifying, algorithms=[key.algorithm], leeway=config["JWT_LEEWAY"],
        options={"require": REQUIRED_CLAIMS + list(configured_claims())},
        issuer=config.get("JWT_ISSUER") or None, audience=config.get("JWT_AUDIENCE") or None)
