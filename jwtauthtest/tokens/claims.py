"""Minting and checking the JWTs: claims, lifetimes, types."""

import secrets
import time
from datetime import datetime, timezone
from typing import Any

import jwt as pyjwt
from flask import Flask, current_app

from jwtauthtest.keys import signing
from jwtauthtest.keys.signing import REQUIRED_CLAIMS
from jwtauthtest.settings import DURATIONS, duration
from jwtauthtest.web.refusals import Refused

ACCESS = "access"
REFRESH = "refresh"
LIFETIME_KEYS = {ACCESS: "JWT_EXPIRATION_DELTA", REFRESH: "JWT_REFRESH_EXPIRATION_DELTA"}
# Why PyJWT refused a token, for the metrics (any other refusal: "invalid").
REASONS = ((pyjwt.ExpiredSignatureError, "expired"), (pyjwt.InvalidSignatureError, "bad_signature"))


def init_tokens(app: Flask) -> None:
    """Every duration as a timedelta, whichever way it was given."""
    for key in DURATIONS:
        app.config[key] = duration(app.config, key)


def new_id() -> str:
    return secrets.token_urlsafe(16)


def claims(user_id: int, token_type: str, family: str, jti: str | None = None) -> dict[str, Any]:
    """Flask-JWT's claims (exp, iat, nbf, identity) and ours (jti, type, fam)."""
    config = current_app.config
    issued_at = datetime.now(timezone.utc)
    return {
        "exp": issued_at + config[LIFETIME_KEYS[token_type]],
        "iat": issued_at,
        "nbf": issued_at + config["JWT_NOT_BEFORE_DELTA"],
        "identity": user_id,
        "jti": jti or new_id(),
        "type": token_type,
        "fam": family,
    }


def encode_token(user_id: int, token_type: str, family: str, jti: str | None = None) -> str:
    return signing.sign(claims(user_id, token_type, family, jti))


# PyJWT's descriptions of a token it can't parse that quote Python's own errors ("Invalid
# header string: 'utf-8' codec can't decode byte 0xff ..."), by their beginnings, in ours.
UNPARSED = (("Invalid header string: ", "The token's header is not a JSON object in UTF-8"),
            ("Invalid payload string: ", "The token's payload is not a JSON object in UTF-8"),
            ("Invalid header padding", "The token's header is not base64url"),
            ("Invalid payload padding", "The token's payload is not base64url"),
            ("Invalid crypto padding", "The token's signature is not base64url"))


def decode_token(token: str) -> dict[str, Any]:
    """The verified claims, of the types the app relies on (the decode handler). A refused
    token raises Refused with PyJWT's own description (the Flask-JWT contract's), or ours
    where PyJWT's would quote Python's, and why. A Flask-JWT token (no kid) is never fresh:
    only a password login of ours makes one, and a kid-less ``fresh`` claim is anyone's with
    the secret."""
    try:
        payload, kid = signing.verify(token)
        check_claims(payload)
    except pyjwt.InvalidTokenError as refused:
        reason = next((word for kind, word in REASONS if isinstance(refused, kind)), "invalid")
        raise Refused("Invalid token", in_our_words(str(refused)), reason) from None
    if kid is None:
        payload.pop("fresh", None)
    return payload


def in_our_words(description: str) -> str:
    if description.endswith(": must be a json object"):  # PyJWT's own words: kept
        return description
    return next((ours for start, ours in UNPARSED if description.startswith(start)),
                description)


def check_claims(payload: dict[str, Any]) -> None:
    """What PyJWT leaves to us: the types of the claims the app relies on."""
    for claim in REQUIRED_CLAIMS:  # PyJWT lets a numeric string through for iat
        if not isinstance(payload[claim], (int, float)) or isinstance(payload[claim], bool):
            raise pyjwt.InvalidTokenError(f"The {claim} claim must be a number")
    kind = token_type(payload)
    if kind not in (ACCESS, REFRESH):
        raise pyjwt.InvalidTokenError("Unknown token type")
    for claim in ("fam", "jti"):
        if claim in payload and not isinstance(payload[claim], str):
            raise pyjwt.InvalidTokenError(f"The {claim} claim must be a string")
    if "fresh" in payload and not isinstance(payload["fresh"], bool):
        raise pyjwt.InvalidTokenError("The fresh claim must be true or false")
    if kind == REFRESH and not ("fam" in payload and "jti" in payload):
        raise pyjwt.InvalidTokenError("A refresh token needs fam and jti claims")


def is_fresh(payload: dict[str, Any]) -> bool:
    """Minted by a password login (not by a refresh) less than JWT_FRESH_DELTA ago."""
    fresh_until = payload["iat"] + current_app.config["JWT_FRESH_DELTA"].total_seconds()
    return payload.get("fresh") is True and time.time() < fresh_until


def token_type(payload: dict[str, Any]) -> str:
    # Flask-JWT's tokens have no type: they are access tokens.
    return payload.get("type", ACCESS)


def user_id(payload: dict[str, Any]) -> int | None:
    """The id of the user a verified token speaks for, or None for a value no row can have
    (a huge int would overflow the driver)."""
    value = payload.get("identity")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**63:
        return None
    return value


def earliest_issue(payload: dict[str, Any]) -> float:
    """The earliest a verified token may have been issued: its iat may run ahead of the clock
    by up to the leeway, so a Flask-JWT token is refused unless it was surely issued after
    its user's cut-off."""
    return payload["iat"] - current_app.config["JWT_LEEWAY"].total_seconds()


def session_expires_at() -> float:
    """Epoch seconds after which no token minted now is accepted any more."""
    config = current_app.config
    lifetime = max(config[key] for key in LIFETIME_KEYS.values()) + config["JWT_LEEWAY"]
    return (datetime.now(timezone.utc) + lifetime).timestamp()
