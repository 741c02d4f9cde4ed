"""A user's own sessions, as GET /auth/sessions and `users sessions NAME` show them. (Expired
ones wait for the purge and count for nothing; tokens/sessions.py ends them.)"""

import time
from datetime import datetime, timezone

from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.models import TokenFamily


def live_sessions(user_id: int) -> list[TokenFamily]:
    """The user's sessions whose tokens may still be valid, oldest first."""
    return list(db.session.scalars(
        select(TokenFamily).where(TokenFamily.user_id == user_id,
                                  TokenFamily.expires_at >= time.time())
        .order_by(TokenFamily.created_at, TokenFamily.id)))


def session_details(family: TokenFamily) -> dict[str, str | None]:
    """What the user (GET /auth/sessions) or an operator (users sessions) sees of a session."""
    return {"id": family.id, "created_at": shown_time(family.created_at),
            "last_used_at": shown_time(family.last_used_at), "user_agent": family.user_agent,
            "address": family.address}


def shown_time(epoch_seconds: float | None, for_people: bool = False) -> str | None:
    """A time (epoch seconds, as the tables keep every time) as the API shows it, ISO 8601
    in UTC (``2026-11-29T10:02:11+00:00``), or for people, as the commands do (``2026-11-29
    10:02:11``, UTC); None for none."""
    if epoch_seconds is None:
        return None
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") if for_people \
        else moment.isoformat(timespec="seconds")
