"""Checking a code from the authenticator app, or a recovery code, for an act or a login,
within the day's count of wrong codes.

Each code is counted before it is checked, by one conditional UPDATE that refuses to pass
SECOND_FACTOR_MAX_FAILURES, and the count is given back when the code is right: requests
racing each other can't have more codes checked than the count allows, and a request
refused by it is answered without its code being checked. A right code doesn't start the
count again; a day with no wrong code does (so no more than SECOND_FACTOR_MAX_FAILURES wrong
codes are ever checked in 24 hours). Recovery codes are not counted: 50 random bits each.
"""

import time
from dataclasses import dataclass

from flask import current_app, request
from flask_jwt import JWTError
from sqlalchemy import case, or_, update
from werkzeug.exceptions import TooManyRequests

from jwtauthtest.database import db
from jwtauthtest.models import SecondFactor
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import log_change
from jwtauthtest.second_factor import store

CODE, RECOVERY_CODE = "code", "recovery_code"
NOT_RIGHT = "The code is not right"
USED_ALREADY = "This code was used already: wait for the next code"
QUIET_SECONDS = 24 * 3600  # without a wrong code, after which the count starts again


def codes_locked() -> TooManyRequests:
    return TooManyRequests("Too many wrong codes today: use a recovery code, or ask an "
                           "operator to reset the second factor")


def wrong_code(description: str = NOT_RIGHT) -> JWTError:
    metrics.count("second_factor", event="failed")
    return JWTError("Invalid credentials", description)


@dataclass(frozen=True)
class Checked:
    """What the check of a code or a recovery code found."""

    accepted: bool
    recovery_codes_left: int | None = None  # after a recovery code
    used_already: bool = False  # a right code, but of a time step spent before

    def refusal(self) -> JWTError:
        """The 401 of a code that was not accepted."""
        return wrong_code(USED_ALREADY if self.used_already else NOT_RIGHT)


def spend_code(user_id: int, body: dict[str, str]) -> Checked:
    """Whether the body's code (or recovery code) is right for the user's second factor, and
    spent (uncommitted: the caller commits). Raises the 429 of codes_locked(), without
    checking the code, once the day's count is spent. A code used already counts as wrong."""
    if CODE not in body:
        left = store.spend_recovery_code(user_id, body[RECOVERY_CODE])
        return Checked(left is not None, left)
    counted = reserve_code_try(user_id)
    if counted is None:
        if not store.is_on(user_id):  # turned off meanwhile: no code is right
            return Checked(False)
        raise codes_locked()
    verdict = store.accept_code(user_id, body[CODE])
    if verdict == store.ACCEPTED:
        release_code_try(user_id)
        return Checked(True)
    note_wrong_code(user_id)
    if counted == current_app.config["SECOND_FACTOR_MAX_FAILURES"]:
        log_change("second_factor_locked", user_id=user_id, address=request.remote_addr)
    return Checked(False, used_already=verdict == store.USED_ALREADY)


def reserve_code_try(user_id: int) -> int | None:
    """Count a code about to be checked (committed): the count with it, or None (nothing
    counted) when the count is at SECOND_FACTOR_MAX_FAILURES and no quiet day has passed, or
    the user has no second factor on."""
    now = time.time()
    quiet = or_(SecondFactor.last_failure_at.is_(None),
                SecondFactor.last_failure_at <= now - QUIET_SECONDS)
    counted = db.session.execute(
        update(SecondFactor).where(
            SecondFactor.user_id == user_id, SecondFactor.enabled_at.is_not(None),
            or_(quiet, SecondFactor.failures < current_app.config["SECOND_FACTOR_MAX_FAILURES"]))
        .values(failures=case((quiet, 1), else_=SecondFactor.failures + 1),
                last_failure_at=case((quiet, now), else_=SecondFactor.last_failure_at))
        .returning(SecondFactor.failures)).scalar()
    db.session.commit()
    return counted


def release_code_try(user_id: int) -> None:
    """Give back the count of a code that was right (uncommitted)."""
    db.session.execute(update(SecondFactor).where(SecondFactor.user_id == user_id,
                                                  SecondFactor.failures > 0)
                       .values(failures=SecondFactor.failures - 1))


def note_wrong_code(user_id: int) -> None:
    """A counted code was wrong: the quiet day starts again from now (uncommitted)."""
    db.session.execute(update(SecondFactor).where(SecondFactor.user_id == user_id)
                       .values(last_failure_at=time.time()))
