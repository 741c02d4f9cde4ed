"""What a round sets aside: one outbox message or one mail request whose handling raised what
nothing here expected (a bug, a row no code can read, a setting that broke) must not stop the
round for the others, nor every round after it.

Such a job is logged in one line (its id, the exception's type and words; never a message's
text, a link or a password) and tried again later, backing off as a message the server could
not take does (MAIL_RETRY_SECONDS, doubled each time, an hour at most): once the code or the
settings are fixed it goes. It is not dropped, since whether it could ever succeed is not known.
A database that is away (OperationalError) is no one row's fault: that still ends the job for
this round, as before, and its rows are tried at the next.
"""

import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy.exc import OperationalError

from jwtauthtest.database import db
from jwtauthtest.mail.claims import Claim, put_off, retry_delay
from jwtauthtest.mail.settings import mail_settings

MAX_WORDS = 200  # characters of an exception's words kept


def is_surprise(error: Exception) -> bool:
    """Whether ERROR is one job's own trouble, to set aside (not the database being away)."""
    return not isinstance(error, OperationalError)


def described(error: BaseException) -> str:
    """The exception in one line: its type and its words, cut short."""
    words = " ".join(str(error).split())[:MAX_WORDS]
    return f"{type(error).__name__}: {words}" if words else type(error).__name__


def log_set_aside(what: str, key: int, error: BaseException, delay: float | None) -> None:
    """One line: "Mail 12 set aside: KeyError: 'html'; next try in 30 s"."""
    current_app.logger.error("%s %d set aside: %s%s", what, key, described(error),
                             "" if delay is None else f"; next try in {delay:g} s")


def set_message_aside(claimed: Claim, error: Exception) -> float | None:
    """Put off a claimed message whose making or sending raised ERROR, as a failed try with
    the error as its last, and log it; its delay, or None when its claim ran out. A database
    that is away is raised on: the round ends."""
    if not is_surprise(error):
        raise error
    db.session.rollback()
    number, tries = claimed.message.id, claimed.message.tries
    delay = put_off(number, tries, described(error), mail_settings().retry_seconds,
                    claimed.lease)
    log_set_aside("Mail", number, error, delay)
    return delay


class SetAside:
    """The mail requests this process set aside, each id with its failures and when it may be
    tried again. Kept in memory (a request has no column for it): a restart tries each one at
    once."""

    def __init__(self) -> None:
        self.failures: dict[int, tuple[int, float]] = {}

    def due(self, key: int) -> bool:
        return self.failures.get(key, (0, 0.0))[1] <= time.time()

    def run(self, key: int, job: Callable[[int], None]) -> None:
        """JOB(KEY) in the current transaction; a surprise it raises is rolled back, logged
        and KEY set aside until its next try."""
        try:
            job(key)
        except Exception as error:
            if not is_surprise(error):
                raise
            db.session.rollback()
            tries = self.failures.get(key, (0, 0.0))[0] + 1
            delay = retry_delay(tries, mail_settings().retry_seconds)
            self.failures[key] = (tries, time.time() + delay)
            log_set_aside("Mail request", key, error, delay)
        else:
            self.failures.pop(key, None)

    def keep_only(self, keys: set[int]) -> None:
        """Forget every id but KEYS (those still waiting): another process may have handled
        one, and on SQLite a new request may get its id."""
        self.failures = {key: kept for key, kept in self.failures.items() if key in keys}


def requests_set_aside() -> SetAside:
    """The current app's record of the mail requests set aside."""
    return current_app.extensions.setdefault("jwtauthtest.mail.requests_set_aside", SetAside())
