"""Throttling of failed logins, per client address and per username.

Counted with `limits` (the library under Flask-Limiter, with its storages and its
``RATELIMIT_*`` settings) by a wrapper around the login view only: Flask-Limiter's
check runs before every request of the app and cost ~20% of a protected request.
"""

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from .audit import log_login
from .counters import DATABASE_STORAGE, DatabaseCounters
from .credentials import request_json
from .database import db
from .errors import JWTError
from .models import username_key

EXTENSION_KEY = "jwtauthtest.throttle"
CONFIG_DEFAULTS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN_FAILURES": "10 per minute",
    # The app's own database: shared by every process using it, kept across restarts.
    "RATELIMIT_STORAGE_URI": DATABASE_STORAGE,
    "RATELIMIT_STORAGE_OPTIONS": {},
    "RATELIMIT_KEY_PREFIX": "",
    # When shared storage (Redis) is unreachable, count in this process's memory
    # meanwhile, and go back to it once it answers again.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}
STORAGE_RETRY_INTERVAL_S = 10
logger = logging.getLogger("jwtauthtest.throttle")


class LoginThrottle:
    """Fixed-window counters of login attempts in shared storage, with an in-memory
    stand-in (if enabled) while that storage is unreachable."""

    def __init__(self, storage: Storage, limit: RateLimitItem, key_prefix: str,
                 fallback_enabled: bool, signing_secret: str | bytes) -> None:
        self.limit = limit
        self.key_prefix = key_prefix
        self.counter_key = derive_counter_key(signing_secret)
        self.shared = FixedWindowRateLimiter(storage)
        self.fallback = FixedWindowRateLimiter(MemoryStorage()) if fallback_enabled else None
        self._lock = threading.Lock()
        self._retry_shared_at: float | None = None  # set while the shared storage is away

    def count_attempt(self, keys: list[str]) -> list[str]:
        """Count one attempt under each key, in one atomic step per counter, before any
        password is checked; raises TooManyRequests (and counts no further) at the first
        counter past the limit. Returns the keys counted."""
        counted = []
        for key in keys:
            if not self._call("hit", self.limit, self.key_prefix, key):
                reset_at = self._call("get_window_stats", self.limit, self.key_prefix,
                                      key).reset_time
                raise TooManyRequests("Too many failed logins",
                                      retry_after=max(1, int(reset_at - time.time())))
            counted.append(key)
        return counted

    def give_back(self, keys: list[str]) -> None:
        """Undo count_attempt for an attempt that didn't fail."""
        try:
            for key in keys:
                self._call("hit", self.limit, self.key_prefix, key, cost=-1)
        except StorageError as e:
            logger.warning("Could not give back a login attempt: %s", e)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        limiter = self._limiter()
        try:
            return getattr(limiter, method)(*args, **kwargs)
        except StorageError as e:
            if self.fallback is None or limiter is self.fallback:
                raise
            with self._lock:
                if self._retry_shared_at is None:
                    logger.warning("Throttle storage unreachable (%s): counting in this "
                                   "process's memory until it answers again", e.storage_error)
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


def init_throttle(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    logger.setLevel(logging.INFO)  # the recovery line is INFO; Python's default shows WARNING+
    endpoint = app.config["JWT_AUTH_ENDPOINT"]
    if not app.config["RATELIMIT_ENABLED"] or endpoint not in app.view_functions:
        return
    app.extensions[EXTENSION_KEY] = LoginThrottle(
        make_storage(app), parse(app.config["RATELIMIT_LOGIN_FAILURES"]),
        app.config["RATELIMIT_KEY_PREFIX"], app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"],
        app.config["JWT_SECRET_KEY"])
    app.view_functions[endpoint] = throttled(app.view_functions[endpoint])


def make_storage(app: Flask) -> Storage:
    uri = app.config["RATELIMIT_STORAGE_URI"]
    if uri == DATABASE_STORAGE:
        with app.app_context():
            return DatabaseCounters(db.engine)
    options = dict(app.config["RATELIMIT_STORAGE_OPTIONS"])
    if uri.startswith("redis"):
        # An unreachable Redis costs a login one second at most, not a hang.
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
    return storage_from_string(uri, wrap_exceptions=True, **options)


def throttled(login_view: Callable) -> Callable:
    """The login view, counting each attempt first and giving it back unless it failed (401)."""

    @wraps(login_view)
    def login(*args: Any, **kwargs: Any) -> Any:
        throttle = current_app.extensions[EXTENSION_KEY]
        try:
            counted = throttle.count_attempt([address_key(), username_hash_key(throttle)])
        except TooManyRequests:
            log_login(False, typed_username(), "throttled")
            raise
        try:
            response = login_view(*args, **kwargs)
        except JWTError as error:
            if error.status_code != 401:  # refused before any password was checked
                throttle.give_back(counted)
            raise
        except Exception:
            throttle.give_back(counted)
            raise
        throttle.give_back(counted)
        return response

    return login


def address_key() -> str:
    return f"address:{request.remote_addr}"


def username_hash_key(throttle: LoginThrottle) -> str:
    """Counts failures per user under every spelling of the name. An HMAC, so the
    counters' keys (in Redis, say) don't reveal or confirm names."""
    username = typed_username()
    key = username_key(username) if isinstance(username, str) else ""
    digest = hmac.new(throttle.counter_key, key.encode("utf-8", "surrogatepass"),
                      hashlib.sha256)
    return "username:" + digest.hexdigest()


def derive_counter_key(signing_secret: str | bytes) -> bytes:
    """A key of its own for the counters' names, derived from the signing secret."""
    secret = signing_secret.encode() if isinstance(signing_secret, str) else signing_secret
    return hmac.new(secret, b"jwtauthtest throttle keys", hashlib.sha256).digest()


def typed_username() -> object:
    try:
        data = request_json()
    except RequestEntityTooLarge:  # answered 413 by the view; no name to count
        return None
    return data.get(current_app.config["JWT_AUTH_USERNAME_KEY"]) if isinstance(data, dict) else None
