"""Fixed-window counters of login attempts, in shared storage, with an in-memory stand-in
while that storage is unreachable. Counted with `limits`, the library under Flask-Limiter."""

import logging
import threading
import time
from typing import Any, NoReturn

from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

from jwtauthtest.schema import database_problem

STORAGE_RETRY_INTERVAL_S = 10
logger = logging.getLogger("jwtauthtest.throttle")


class LoginAttempts:
    """Two limits per key: on every attempt (``attempts``), and on failed ones
    (``failures``: each attempt is counted before its password is checked, and given back
    unless it failed)."""

    def __init__(self, storage: Storage, attempts: RateLimitItem, failures: RateLimitItem,
                 key_prefix: str, fallback_enabled: bool) -> None:
        self.limits = [(failures, "Too many failed logins"),
                       (attempts, "Too many login attempts")]
        self.failures = failures
        self.key_prefix = key_prefix
        self.shared = FixedWindowRateLimiter(storage)
        self.fallback = FixedWindowRateLimiter(MemoryStorage()) if fallback_enabled else None
        self._lock = threading.Lock()
        self._retry_shared_at: float | None = None  # set while the shared storage is away

    def count(self, keys: list[str]) -> list[str]:
        """Count one attempt under each key, one atomic step per counter; raises
        TooManyRequests (and counts no further) at the first counter past its limit.
        Returns the keys whose failure counters were counted."""
        counted = []
        for limit, message in self.limits:
            for key in keys:
                self.take(limit, key, message)
                if limit is self.failures:
                    counted.append(key)
        return counted

    def take(self, limit: RateLimitItem, key: str, message: str) -> None:
        """Count one under the key, or raise TooManyRequests (with MESSAGE) past the limit."""
        if not self._call("hit", limit, self.key_prefix, key):
            self.refuse(limit, key, message)

    def check(self, limit: RateLimitItem, key: str, message: str) -> None:
        """TooManyRequests if the key is past the limit; counts nothing (a read)."""
        if not self._call("test", limit, self.key_prefix, key):
            self.refuse(limit, key, message)

    def hit(self, limit: RateLimitItem, key: str) -> None:
        """Count one under the key, past the limit or not."""
        self._call("hit", limit, self.key_prefix, key)

    def refuse(self, limit: RateLimitItem, key: str, message: str) -> NoReturn:
        reset_at = self._call("get_window_stats", limit, self.key_prefix, key).reset_time
        raise TooManyRequests(message, retry_after=max(1, int(reset_at - time.time())))

    def give_back(self, keys: list[str]) -> None:
        """Undo the failure counts of an attempt that didn't fail."""
        try:
            for key in keys:
                self._call("hit", self.failures, self.key_prefix, key, cost=-1)
        except StorageError as e:
            logger.warning("Could not give back a login attempt: %s", storage_problem(e))

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        limiter = self._limiter()
        try:
            return getattr(limiter, method)(*args, **kwargs)
        except StorageError as e:
            if self.fallback is None or limiter is self.fallback:
                raise
            with self._lock:
                if self._retry_shared_at is None:
                    logger.warning("Throttle storage failed (%s): counting in this process's "
                                   "memory until it answers again", storage_problem(e))
                self._retry_shared_at = time.monotonic() + STORAGE_RETRY_INTERVAL_S
            return getattr(self.fallback, method)(*args, **kwargs)

    def _limiter(self) -> FixedWindowRateLimiter:
        with self._lock:
            if self._retry_shared_at is None:
                return self.shared
            if time.monotonic() < self._retry_shared_at:
                return self.fallback
            self._retry_shared_at = time.monotonic() + STORAGE_RETRY_INTERVAL_S
        if not self.shared.storage.check():
            return self.fallback
        with self._lock:
            if self._retry_shared_at is not None:
                self._retry_shared_at = None
                logger.info("Throttle storage answers again: counting in it again")
        return self.shared


def storage_problem(error: StorageError) -> str:
    """The storage's error in one line: for the database, without SQL or parameters."""
    cause = error.storage_error
    if isinstance(cause, SQLAlchemyError):
        return database_problem(cause)
    return " ".join(str(cause).split())
