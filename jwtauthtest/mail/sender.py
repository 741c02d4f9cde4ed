"""The senders: a round (``send_due``) runs the jobs registered with ``on_each_round``, then
hands every due message of the outbox to the mail server over one connection. A daemon thread
in each server process runs a round every MAIL_POLL_SECONDS, and at once when a request that
queued a message calls ``wake_sender()``; ``flask mail send`` runs one where no server does.

A message is deleted once the server has accepted it; a try that fails leaves it for later
(MAIL_RETRY_SECONDS, doubled each try, an hour at most); a message the server refuses for
good (5xx, or an address it lacks SMTPUTF8 for) is logged and deleted. So every message is sent
at least once, and once more only when a process stops between the server's acceptance and the
delete (or fails there: nothing puts off a message the server took). A job or a message that
raises what nothing expected is set aside (``setaside``): the round goes on with the others.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.database import db
from jwtauthtest.mail import claims, transport
from jwtauthtest.mail.outbox import message_of
from jwtauthtest.mail.setaside import described, set_message_aside
from jwtauthtest.mail.settings import MailSettings, mail_settings
from jwtauthtest.ops.metrics import count
from jwtauthtest.schema import database_problem

THREAD_KEY = "jwtauthtest.mail.sender"
JOBS_KEY = "jwtauthtest.mail.jobs"
BATCH = 100  # messages looked up at a time


@dataclass
class Round:
    """What one round did, and what it left."""

    sent: int = 0
    failed: int = 0  # tries the server could not take: those messages wait for their next
    refused: int = 0  # refused for good by the server, and deleted
    waiting: int = 0  # messages in the outbox after the round
    next_try_at: float | None = None  # the earliest of their next tries
    unreachable: str | None = None  # why the round could not reach the server, if it couldn't


def on_each_round(app: Flask, job: Callable[[], None]) -> None:
    """Run JOB, in an app context, at the start of each of APP's rounds, before the due
    messages are sent (turning stored requests into messages, say). A job commits its own
    work; a database error in it, or any other it raises, is logged and the round goes on."""
    app.extensions.setdefault(JOBS_KEY, []).append(job)


def wake_sender() -> None:
    """Have this process's sender start a round now (after the commit of a queued message);
    nothing where no sender runs (a command, a test)."""
    sender = current_app.extensions.get(THREAD_KEY)
    if sender is not None:
        sender.wake.set()


def send_due(app: Flask) -> Round:
    """One round, now, in this thread: the jobs, then every message due."""
    for job in app.extensions.get(JOBS_KEY, []):
        with app.app_context():
            try:
                job()
            except SQLAlchemyError as e:
                db.session.rollback()
                app.logger.warning("Mail job %s failed: %s", getattr(job, "__name__", job),
                                   database_problem(e))
            except Exception as e:  # one job's surprise must not keep the messages back
                db.session.rollback()
                app.logger.error("Mail job %s failed: %s", getattr(job, "__name__", job),
                                 described(e))
    result = Round()
    with app.app_context():
        settings = mail_settings()
        if settings.problem is None:
            send_messages(settings, result)
        result.waiting, result.next_try_at = claims.outbox_state()
    return result


def send_messages(settings: MailSettings, result: Round) -> None:
    """Claim and send the messages due when the round began, over one connection."""
    began = time.time()
    connection: transport.Connection | None = None
    away: list[tuple[int, float]] = []  # (id, delay) of each put off, the server being away
    try:
        while due := claims.due_messages(began, BATCH):
            for message_id, tries in due:
                if result.unreachable is not None:  # none can go: each waits for its next try
                    delay = claims.put_off(message_id, tries, result.unreachable,
                                           settings.retry_seconds)
                    if delay is not None:
                        away.append((message_id, delay))
                        note_failure(result)
                    continue
                claimed = claims.claim(message_id)
                if claimed is None:
                    continue  # another sender has it
                if connection is None:
                    try:
                        connection = transport.connect(settings)
                    except transport.NotSent as e:
                        result.unreachable = str(e)
                        delay = put_off(claimed, e, settings, result, log=False)
                        if delay is not None:
                            away.append((message_id, delay))
                        continue
                connection = send_one(connection, claimed, settings, result)
    finally:
        if connection is not None:
            transport.close(connection)
        if away:
            log_unreachable(away, result.unreachable)


def send_one(connection: transport.Connection, claimed: claims.Claim,
             settings: MailSettings, result: Round) -> transport.Connection | None:
    """Send one claimed message; the connection, or None once it is closed."""
    number = claimed.message.id
    try:
        message = message_of(claimed.message)
    except InvalidToken:  # sealed under another SECRET_KEY: no one can read it any more
        claims.settle(claimed)
        current_app.logger.error("Mail %d deleted: it was queued under another SECRET_KEY and "
                                 "can't be read", number)
        return connection
    except Exception as error:  # a row no code can make a message of: the connection is fine
        set_aside(claimed, error, result)
        return connection
    try:
        transport.deliver(connection, message, settings)
    except transport.NotSent as e:
        if e.permanent:
            claims.settle(claimed)
            result.refused += 1
            count("mail", event="refused")
            current_app.logger.warning("Mail %d refused for good by the server: %s; deleted",
                                       number, e)
        else:
            put_off(claimed, e, settings, result)
        if transport.still_open(connection):
            return connection
        transport.close(connection)
        return None
    except Exception as error:  # halfway through a message: the connection's state is unknown
        set_aside(claimed, error, result)
        transport.close(connection)
        return None
    # Sent: from here on nothing puts it off, lest every retry send it again.
    if claims.settle(claimed):
        result.sent += 1
        count("mail", event="sent")
        current_app.logger.info("Mail %d sent (%s)", number, claimed.message.message_id)
    else:
        current_app.logger.warning("Mail %d sent, after its claim ran out: another sender may "
                                   "send it again", number)
    return connection


def set_aside(claimed: claims.Claim, error: Exception, result: Round) -> None:
    """``set_message_aside``, its try counted as failed."""
    if set_message_aside(claimed, error) is not None:
        note_failure(result)


def put_off(claimed: claims.Claim, error: transport.NotSent, settings: MailSettings,
            result: Round, log: bool = True) -> float | None:
    """Count the failed try of a claimed message; its delay, or None when the claim ran out."""
    delay = claims.put_off(claimed.message.id, claimed.message.tries, str(error),
                           settings.retry_seconds, claimed.lease)
    if delay is not None:
        note_failure(result)
        if log:
            current_app.logger.warning("Mail %d not sent: %s; next try in %s s",
                                       claimed.message.id, error, seconds(delay))
    return delay


def note_failure(result: Round) -> None:
    result.failed += 1
    count("mail", event="failed")


def log_unreachable(away: list[tuple[int, float]], reason: str | None) -> None:
    """One line for the messages a round could not send because the server was away."""
    ids = ", ".join(str(message_id) for message_id, _ in away[:10])
    if len(away) > 10:
        ids += f" and {len(away) - 10} more"
    current_app.logger.warning("Mail %s not sent: %s; next try in %s s", ids, reason,
                               seconds(min(delay for _, delay in away)))


def seconds(value: float) -> str:
    """A number of seconds as people write it: 30, 0.5, 3600."""
    return f"{value:g}"


def start_sender(app: Flask) -> None:
    """Start this process's sender for APP: a daemon thread, a round at once and then every
    MAIL_POLL_SECONDS or when woken."""
    if THREAD_KEY not in app.extensions:
        sender = app.extensions[THREAD_KEY] = SenderThread(app)
        sender.start()


def stop_sender(app: Flask, timeout: float | None = None) -> None:
    """Stop APP's sender after the round it may be in (waiting at most TIMEOUT seconds)."""
    sender = app.extensions.pop(THREAD_KEY, None)
    if sender is not None:
        sender.stopping = True
        sender.wake.set()
        sender.join(timeout)


class SenderThread(threading.Thread):
    def __init__(self, app: Flask) -> None:
        super().__init__(name="mail sender", daemon=True)
        self.app = app
        self.wake = threading.Event()
        self.stopping = False
        with app.app_context():
            self.poll_seconds = mail_settings().poll_seconds

    def run(self) -> None:
        said = None  # the last failure logged, so that one that lasts is logged once
        while not self.stopping:
            self.wake.clear()  # before the round: a wake during it starts the next one
            try:
                send_due(self.app)
                said = None
            except SQLAlchemyError as e:
                with self.app.app_context():
                    problem = database_problem(e)
                if problem != said:
                    self.app.logger.warning("Mail round failed: %s", problem)
                said = problem
            except Exception:  # a round's surprise must not end the sending
                self.app.logger.exception("Mail round failed")
            self.wake.wait(self.poll_seconds)
