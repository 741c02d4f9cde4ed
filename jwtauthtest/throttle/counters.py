"""Throttle counters in the app's own database (``RATELIMIT_STORAGE_URI = "database://"``).

Every process that uses the database counts in the same rows, and the counts outlive a
restart, without a Redis. Each change is one atomic statement (an upsert), so concurrent
attempts in several processes are counted exactly.
"""

import time

from limits.storage import Storage
from sqlalchemy import Engine, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.models import ThrottleCounter
from jwtauthtest.settings import ConfigurationError

DATABASE_STORAGE = "database://"
PURGE_INTERVAL_S = 60
# The dialects whose INSERT ... ON CONFLICT DO UPDATE ... RETURNING makes the upsert atomic.
UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_counters = ThrottleCounter.__table__


class DatabaseCounters(Storage):
    """A `limits` storage of fixed-window counters, one row each."""

    STORAGE_SCHEME = None  # made by the app from its engine, not from a URI

    def __init__(self, engine: Engine) -> None:
        super().__init__(wrap_exceptions=True)
        if engine.dialect.name not in UPSERTS:
            raise ConfigurationError(f'RATELIMIT_STORAGE_URI "{DATABASE_STORAGE}" needs SQLite or '
                             f"PostgreSQL, not {engine.dialect.name}; use redis://host:6379")
        self.engine = engine
        self._insert = UPSERTS[engine.dialect.name]
        self._next_purge = 0.0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """The counter after adding ``amount``; a counter whose window has passed starts again."""
        now = time.time()
        if amount < 0:  # a refund counts only in the window that counted the attempt
            statement = (update(_counters)
                         .where(_counters.c.key == key, _counters.c.expires_at > now)
                         .values(hits=_counters.c.hits + amount).returning(_counters.c.hits))
        else:
            new = self._insert(_counters).values(key=key, hits=amount, expires_at=now + expiry)
            window_passed = _counters.c.expires_at <= now
            statement = new.on_conflict_do_update(index_elements=[_counters.c.key], set_={
                "hits": case((window_passed, new.excluded.hits),
                             else_=_counters.c.hits + new.excluded.hits),
                "expires_at": case((window_passed, new.excluded.expires_at),
                                   else_=_counters.c.expires_at),
            }).returning(_counters.c.hits)
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar()
            if now >= self._next_purge:
                self._next_purge = now + PURGE_INTERVAL_S
                connection.execute(delete(_counters).where(_counters.c.expires_at <= now))
        return hits or 0

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            return connection.scalar(select(_counters.c.hits).where(
                _counters.c.key == key, _counters.c.expires_at > time.time())) or 0

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            return connection.scalar(select(_counters.c.expires_at).where(
                _counters.c.key == key)) or time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.scalar(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int:
        with self.engine.begin() as connection:
            return connection.execute(delete(_counters)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_counters).where(_counters.c.key == key))
