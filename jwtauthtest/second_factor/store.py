"""Second factors and recovery codes in the database.

A secret is stored encrypted under a key derived from SECRET_KEY (as the signing keys are);
replacing SECRET_KEY leaves it unreadable, and its user needs an operator's reset and a new
enrolment (docs/second-factor.md says why that, not re-encryption, is the answer to a leak).
Recovery codes are random, so an HMAC keyed from SECRET_KEY stores them: a database leak
without the secret reveals none, and checking one costs microseconds, not ten argon2 runs.
"""

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select, update

from jwtauthtest.database import db
from jwtauthtest.keys.material import derive_key, storage_cipher
from jwtauthtest.models import LoginChallenge, RecoveryCode, SecondFactor
from jwtauthtest.second_factor import totp
from jwtauthtest.secret import app_secret
from jwtauthtest.settings import ConfigurationError, whole_number
from jwtauthtest.users import LockDown, lock_down

EXTENSION_KEY = "jwtauthtest.second_factor"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read off a sheet
logger = logging.getLogger("jwtauthtest.second_factor")


@dataclass(frozen=True)
class Secrets:
    cipher: Fernet
    recovery_key: bytes


def init_second_factor(app: Flask) -> None:
    issuer = app.config["SECOND_FACTOR_ISSUER"]
    if not isinstance(issuer, str) or not issuer or ":" in issuer:
        raise ConfigurationError("SECOND_FACTOR_ISSUER must be a name without ':', such as "
                                 f"'Example API', not {issuer!r}")
    whole_number(app.config, "SECOND_FACTOR_CHALLENGE_SECONDS", "seconds", 1, 300)
    whole_number(app.config, "SECOND_FACTOR_MAX_FAILURES", "wrong codes a day", 1)
    secret = app_secret(app)
    app.extensions[EXTENSION_KEY] = Secrets(storage_cipher(secret, b"second factors"),
                                            derive_key(secret, b"recovery codes"))


def _secrets() -> Secrets:
    return current_app.extensions[EXTENSION_KEY]


def factor_of(user_id: int) -> SecondFactor | None:
    return db.session.get(SecondFactor, user_id)


def is_on(user_id: int) -> bool:
    enabled = db.session.scalar(select(SecondFactor.enabled_at)
                                .where(SecondFactor.user_id == user_id))
    return enabled is not None


def readable_secret(factor: SecondFactor) -> str | None:
    """The factor's TOTP secret, or None when it was stored under another SECRET_KEY."""
    try:
        return _secrets().cipher.decrypt(factor.secret.encode()).decode()
    except InvalidToken:
        logger.warning("The second factor of user %s was stored under another SECRET_KEY: "
                       "no code matches it; reset it with `flask --app jwtauthtest users "
                       "second-factor reset NAME`", factor.user_id)
        return None


def matching_step(factor: SecondFactor, code: object) -> int | None:
    """The time step the code is for, under the factor's secret (None if none, or if the
    secret can't be read)."""
    secret = readable_secret(factor)
    return totp.matching_step(secret, code) if secret else None


def start_enrolment(user_id: int) -> str:
    """A new secret waiting for its first code (replacing one that waited); committed."""
    secret = totp.new_secret()
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user_id,
                                                  SecondFactor.enabled_at.is_(None)))
    db.session.execute(insert(SecondFactor).values(
        user_id=user_id, secret=_secrets().cipher.encrypt(secret.encode()).decode(),
        created_at=time.time(), enabled_at=None, last_step=0))
    db.session.commit()
    return secret


def confirm_enrolment(user_id: int, code: object,
                      kept_session: str | None = None) -> tuple[list[str], LockDown] | None:
    """Turn the waiting secret on if the code is one of its, and in the same transaction lock
    the account down but for kept_session (the confirming one): whoever had the password
    alone keeps no session and no passkey. Its new recovery codes, and what ended
    (committed); None if the code is not right, or nothing waits."""
    factor = factor_of(user_id)
    step = matching_step(factor, code) if factor and factor.enabled_at is None else None
    if step is None:
        return None
    turned_on = db.session.execute(
        update(SecondFactor).where(SecondFactor.user_id == user_id,
                                   SecondFactor.enabled_at.is_(None))
        .values(enabled_at=time.time(), last_step=step))
    if turned_on.rowcount != 1:
        db.session.rollback()
        return None
    ended = lock_down(user_id, kept_session)
    return replace_recovery_codes(user_id), ended


ACCEPTED, USED_ALREADY, WRONG = "accepted", "used already", "wrong"


def accept_code(user_id: int, code: object) -> str:
    """ACCEPTED if the code is right for the user's second factor and for a later time step
    than any accepted before: that step is then spent (one statement, so of two requests
    with one code exactly one wins), once the caller commits. USED_ALREADY if it is right
    for that step or an earlier one; WRONG otherwise."""
    factor = factor_of(user_id)
    step = matching_step(factor, code) if factor and factor.enabled_at is not None else None
    if step is None:
        return WRONG
    spent = db.session.execute(update(SecondFactor).where(
        SecondFactor.user_id == user_id, SecondFactor.last_step < step)
        .values(last_step=step))
    return ACCEPTED if spent.rowcount == 1 else USED_ALREADY


def recovery_digest(user_id: int, code: str) -> str:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return hmac.new(_secrets().recovery_key, f"{user_id}:{normalised}".encode(),
                    hashlib.sha256).hexdigest()


def new_recovery_code() -> str:
    """50 random bits, as two groups of five letters and digits: aaaaa-bbbbb."""
    characters = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
    return f"{characters[:5]}-{characters[5:]}"


def replace_recovery_codes(user_id: int) -> list[str]:
    """Ten new recovery codes, the old ones gone (committed); shown to the user once."""
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(insert(RecoveryCode), [
        {"digest": recovery_digest(user_id, code), "user_id": user_id} for code in codes])
    db.session.commit()
    return codes


def spend_recovery_code(user_id: int, code: object) -> int | None:
    """How many of the user's recovery codes are left after spending this one, or None if
    it is not one of them, or spent (once the caller commits)."""
    if not isinstance(code, str) or len(code) > 64 or not is_on(user_id):
        return None
    spent = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None),
        RecoveryCode.digest == recovery_digest(user_id, code)).values(used_at=time.time()))
    return recovery_codes_left(user_id) if spent.rowcount == 1 else None


def recovery_codes_left(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0


def turn_off(user_id: int) -> LockDown:
    """Remove the user's second factor, recovery codes and challenges, and lock the account
    down: every session ends (their tokens are refused from now on), and every passkey goes,
    those added with this factor too (committed)."""
    for table in (SecondFactor, RecoveryCode, LoginChallenge):
        db.session.execute(delete(table).where(table.user_id == user_id))
    ended = lock_down(user_id, second_factor_gone=True)
    db.session.commit()
    return ended


def status(user_id: int) -> dict[str, object]:
    """What the account API and the operator's command show."""
    factor = factor_of(user_id)
    enabled = factor is not None and factor.enabled_at is not None
    return {"enabled": enabled, "pending": factor is not None and not enabled,
            "recovery_codes_left": recovery_codes_left(user_id) if enabled else 0}
