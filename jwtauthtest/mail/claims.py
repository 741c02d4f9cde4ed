"""Which sender sends which message: a sender claims a due message with one conditional UPDATE
and commits the claim before it talks to the mail server, so that among any number of
processes (each server worker's sender, ``flask mail send``) one sender has it at a time.

A claim is a lease: ``claimed_until`` a few minutes ahead, a value of this sender's own that
the later writes name, so that a sender whose lease ran out (a process that stopped, a
server that took longer than that) can't delete or reschedule a message another has claimed
since. A claim whose process died runs out, and the message is sent again, with the same
Message-ID.
"""

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update

from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.models import MailMessage

LEASE_SECONDS = 300
MAX_RETRY_SECONDS = 3600
MAX_ERROR_LENGTH = 255  # the column's


@dataclass(frozen=True)
class Claim:
    message: MailMessage
    lease: float  # its claimed_until, which only this claim wrote


def due(now: float) -> ColumnElement[bool]:
    """Messages whose time has come and which no live claim holds."""
    return and_(MailMessage.next_try_at <= now,
                or_(MailMessage.claimed_until.is_(None), MailMessage.claimed_until < now))


def due_messages(now: float, limit: int) -> list[tuple[int, int]]:
    """The ids and tries of up to LIMIT messages due at NOW, the longest waiting first."""
    rows = db.session.execute(
        select(MailMessage.id, MailMessage.tries).where(due(now))
        .order_by(MailMessage.next_try_at, MailMessage.id).limit(limit)).all()
    end_read_transaction()  # each claim's transaction starts with its write
    return [(row.id, row.tries) for row in rows]


def claim(message_id: int) -> Claim | None:
    """The message, claimed and committed, or None when another sender has it (or sent it)."""
    now = time.time()
    # A few microseconds of chance make the value this claim's alone.
    lease = now + LEASE_SECONDS + secrets.randbelow(1_000_000) / 1e9
    claimed = db.session.execute(
        update(MailMessage).where(MailMessage.id == message_id, due(now))
        .values(claimed_until=lease).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        return None
    message = db.session.execute(
        select(MailMessage).where(MailMessage.id == message_id)
        .execution_options(populate_existing=True)).scalar_one()
    db.session.commit()
    return Claim(message, lease)


def settle(claimed: Claim) -> bool:
    """Delete a message the server accepted (or refused for good); False when the claim had
    run out and another sender has the message now."""
    deleted = db.session.execute(
        delete(MailMessage).where(MailMessage.id == claimed.message.id,
                                  MailMessage.claimed_until == claimed.lease)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return deleted.rowcount == 1


def retry_delay(tries: int, retry_seconds: float) -> float:
    """Seconds to wait after the TRIES-th failed try: MAIL_RETRY_SECONDS, doubled for each
    try before, an hour at most."""
    return min(retry_seconds * 2 ** min(tries - 1, 64), MAX_RETRY_SECONDS)


def put_off(message_id: int, tries: int, error: str, retry_seconds: float,
            lease: float | None = None) -> float | None:
    """Count a failed try of a message and release it until its next: the one claimed with
    LEASE, or else one still due and unclaimed that has had TRIES tries. The delay, or None
    when another sender has it."""
    now = time.time()
    delay = retry_delay(tries + 1, retry_seconds)
    held = MailMessage.claimed_until == lease if lease is not None \
        else and_(due(now), MailMessage.tries == tries)
    changed = db.session.execute(
        update(MailMessage).where(MailMessage.id == message_id, held)
        .values(tries=tries + 1, next_try_at=now + delay, claimed_until=None,
                last_error=error[:MAX_ERROR_LENGTH])
        .execution_options(synchronize_session=False))
    db.session.commit()
    return delay if changed.rowcount == 1 else None


def outbox_state() -> tuple[int, float | None]:
    """How many messages wait in the outbox, and the earliest next try among them."""
    waiting, earliest = db.session.execute(
        select(func.count(), func.min(MailMessage.next_try_at)).select_from(MailMessage)).one()
    end_read_transaction()
    return waiting, earliest
