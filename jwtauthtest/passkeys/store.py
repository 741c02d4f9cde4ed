"""A user's passkeys as stored: adding one, what their owner and operators see of them,
removing one (the sessions it signed in end with it), and removing those added with the
password alone when the account is locked down.

A passkey signs in with no password and no code, and its session is fresh. One added by
someone who knew only the password would outlive everything the owner does about that
password, so turning the second factor on, a password change and an operator's logout each
remove every passkey added while the account had no second factor. Passkeys added while it
had one stay, as long as it does: turning it off, or an operator's reset, removes them too
(else a password holder who turned on a second factor of their own would keep theirs).
"""

import json
import time
from typing import Any

from sqlalchemy import delete, exists, insert, select, update

from jwtauthtest.database import db
from jwtauthtest.models import Passkey, SecondFactor, TokenFamily
from jwtauthtest.tokens.listing import shown_time
from jwtauthtest.tokens.sessions import end_sessions


def passkeys_of(user_id: int) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def details(passkey: Passkey) -> dict[str, Any]:
    """What the owner (GET /auth/passkeys) and operators (users passkeys list) see."""
    return {"id": passkey.id, "name": passkey.name, "created_at": shown_time(passkey.created_at),
            "last_used_at": shown_time(passkey.last_used_at),
            "transports": json.loads(passkey.transports),
            "with_second_factor": passkey.with_second_factor,
            "address": passkey.added_address, "user_agent": passkey.added_user_agent}


def add_passkey(session_id: str, **values: object) -> bool:
    """Insert a passkey, noting whether its user has a second factor, if the session adding
    it is still live; whether it was (committed). A lock-down (users.lock_down) racing it
    either ends that session first, and nothing is stored, or waits for it and then sees the
    passkey: the insert takes SQLite's one write lock before the session is looked at, and
    on PostgreSQL the session's row is share-locked till the commit."""
    factor_on = exists().where(SecondFactor.user_id == values["user_id"],
                               SecondFactor.enabled_at.is_not(None))
    db.session.execute(insert(Passkey).values(
        **values, with_second_factor=factor_on, created_at=time.time(), last_used_at=None))
    live = db.session.scalar(select(TokenFamily.id).where(TokenFamily.id == session_id)
                             .with_for_update(read=True))
    if live is None:
        db.session.rollback()
        return False
    db.session.commit()
    return True


def remove_passkey(user_id: int, passkey_id: str) -> int | None:
    """Remove one of the user's passkeys and end the sessions it signed in (committed): how
    many ended, or None if the user has no passkey of that id."""
    ended = end_sessions(user_id, started_with=passkey_id)
    removed = db.session.execute(delete(Passkey).where(Passkey.id == passkey_id,
                                                       Passkey.user_id == user_id)).rowcount
    if removed != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return ended


def remove_password_only(user_id: int, kept_session: str | None = None,
                         second_factor_gone: bool = False) -> list[dict[str, str]]:
    """Remove the user's passkeys added with the password alone — with second_factor_gone,
    those added with the second factor too, which no longer stands behind them — with the
    sessions they signed in, but for kept_session (the one locking the account down, which
    has just proved the account's factors itself); the removed passkeys' ids and names.
    Uncommitted: part of the caller's transaction."""
    if kept_session is not None:  # kept, whichever passkey started it
        db.session.execute(update(TokenFamily).where(TokenFamily.id == kept_session)
                           .values(passkey_id=None))
    unvouched = [] if second_factor_gone else [Passkey.with_second_factor.is_(False)]
    removed = db.session.execute(
        delete(Passkey).where(Passkey.user_id == user_id, *unvouched)
        .returning(Passkey.id, Passkey.name)).all()  # their sessions go by the foreign key
    return [{"id": row.id, "name": row.name} for row in sorted(removed, key=lambda r: r.name)]
