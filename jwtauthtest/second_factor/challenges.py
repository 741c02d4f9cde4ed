"""The login challenge: what a right password of a user with a second factor gets instead
of tokens, to send back with a code to ``POST /auth/second-factor``.

Random (256 bits), stored as its SHA-256 only, for SECOND_FACTOR_CHALLENGE_SECONDS (at most
five minutes), and spent by the one request that logs in with it. A wrong code leaves it,
four times (the login throttle counts each, by user and address); the fifth ends it. Each
try is counted before its code is checked, so racing requests can't have more checked. A
password change, disable or reset of the user since refuses it.
"""

import hashlib
import secrets
import time

from flask import current_app
from flask_jwt import JWTError
from sqlalchemy import delete, insert, select, update

from jwtauthtest.database import db
from jwtauthtest.models import LoginChallenge, User
from jwtauthtest.web.refusals import CHALLENGE_HEADER, PasswordAccepted

CHALLENGE_LENGTH = 43  # secrets.token_urlsafe(32)
MAX_WRONG_CODES = 5  # then the password again
SECOND_FACTOR_REQUIRED = "Second factor required"


def no_challenge() -> JWTError:
    return JWTError("Invalid challenge",
                    "The challenge is unknown, expired or spent: log in with the password again")


def digest(challenge: str) -> str:
    return hashlib.sha256(challenge.encode()).hexdigest()


def issue_challenge(user: User) -> str:
    """A new challenge for the user (committed); expired ones go meanwhile."""
    challenge, now = secrets.token_urlsafe(32), time.time()
    db.session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at <= now))
    db.session.execute(insert(LoginChallenge).values(
        digest=digest(challenge), user_id=user.id, tokens_valid_after=user.tokens_valid_after,
        failures=0,
        expires_at=now + current_app.config["SECOND_FACTOR_CHALLENGE_SECONDS"]))
    db.session.commit()
    return challenge


def ask_for_second_factor(user: User) -> PasswordAccepted:
    """The 401 that hands out a challenge: raise it."""
    return PasswordAccepted(
        SECOND_FACTOR_REQUIRED, "The password is right; send a code from your authenticator "
        f"app, or a recovery code, with the {CHALLENGE_HEADER} header's challenge to "
        "POST /auth/second-factor", 401, {CHALLENGE_HEADER: issue_challenge(user)})


def challenged_user(challenge: object) -> User:
    """The active user a live challenge stands for, whose password and state haven't changed
    since it was issued; raises JWTError (401) otherwise."""
    if not (isinstance(challenge, str) and len(challenge) == CHALLENGE_LENGTH):
        raise no_challenge()
    row = db.session.execute(select(LoginChallenge.user_id, LoginChallenge.tokens_valid_after)
                             .where(LoginChallenge.digest == digest(challenge),
                                    LoginChallenge.expires_at > time.time())).first()
    user = db.session.get(User, row.user_id) if row is not None else None
    if user is None or not user.active or user.tokens_valid_after != row.tokens_valid_after:
        raise no_challenge()
    return user


def spend_challenge(challenge: str) -> None:
    """Spend a challenge, with whatever the transaction spent before (its code): of two
    requests with it, the second is refused, and its code is not spent."""
    spent = db.session.execute(delete(LoginChallenge).where(
        LoginChallenge.digest == digest(challenge), LoginChallenge.expires_at > time.time()))
    if spent.rowcount != 1:
        db.session.rollback()
        raise no_challenge()
    db.session.commit()


def reserve_try(challenge: str) -> int:
    """Count a code about to be checked with the challenge (committed): its tries, this one
    included. Raises the 401 of no_challenge() (nothing counted, the code unchecked) when it
    is unknown, expired, or has had its MAX_WRONG_CODES."""
    tries = db.session.execute(
        update(LoginChallenge).where(LoginChallenge.digest == digest(challenge),
                                     LoginChallenge.expires_at > time.time(),
                                     LoginChallenge.failures < MAX_WRONG_CODES)
        .values(failures=LoginChallenge.failures + 1).returning(LoginChallenge.failures)
    ).scalar()
    db.session.commit()
    if tries is None:
        raise no_challenge()
    return tries


def release_try(challenge: str) -> None:
    """Give back the try of a code that was not checked after all (committed)."""
    db.session.execute(update(LoginChallenge).where(LoginChallenge.digest == digest(challenge),
                                                    LoginChallenge.failures > 0)
                       .values(failures=LoginChallenge.failures - 1))
    db.session.commit()


def end_challenge(challenge: str) -> None:
    """After its last wrong code (committed)."""
    db.session.execute(delete(LoginChallenge).where(LoginChallenge.digest == digest(challenge)))
    db.session.commit()
