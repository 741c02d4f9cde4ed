"""Counting introspections: failed client authentications per client address, under
RATELIMIT_LOGIN_FAILURES on counters of their own, and per client the introspections of
tokens that passed verification, the ones that read the database (RATELIMIT_INTROSPECTION).

A resource server may ask on every request it serves, so a right answer writes nothing
shared: the failures' counter is read first and written only when an authentication fails (a
client secret is 256 random bits: there is no race of guesses to win, as there is for a
password), and each process counts its clients' introspections in its own memory.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from jwtauthtest.throttle.attempts import EXTENSION_KEY, client_address, rate_limit

LIMIT_KEY = "jwtauthtest.throttle.introspection"


def init_client_throttle(app: Flask) -> None:
    if app.config["RATELIMIT_ENABLED"]:
        app.extensions[LIMIT_KEY] = (rate_limit(app, "RATELIMIT_INTROSPECTION"),
                                     FixedWindowRateLimiter(MemoryStorage()))


@contextmanager
def client_authentication() -> Iterator[None]:
    """429 for a client address past its failed authentications, before any credential is
    checked; a failed one (the block raised a 401) counted."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    address = client_address(throttle) if throttle is not None else None
    if address is None:
        yield
        return
    key = f"client-address:{address}"
    throttle.attempts.check(throttle.attempts.failures, key,
                            "Too many failed client authentications from your address")
    try:
        yield
    except Exception as error:
        if getattr(error, "code", None) == 401:
            throttle.attempts.hit(throttle.attempts.failures, key)
        raise


def introspection_by(client_id: str) -> None:
    """Count one introspection by the client in this process, of a token that passed
    verification (junk is not counted: services/introspection.py): 429 past
    RATELIMIT_INTROSPECTION."""
    counted: tuple[RateLimitItem, FixedWindowRateLimiter] | None = \
        current_app.extensions.get(LIMIT_KEY)
    if counted is None:
        return
    limit, limiter = counted
    if not limiter.hit(limit, client_id):
        reset_at = limiter.get_window_stats(limit, client_id).reset_time
        raise TooManyRequests("Too many introspections by this client",
                              retry_after=max(1, int(reset_at - time.time())))
