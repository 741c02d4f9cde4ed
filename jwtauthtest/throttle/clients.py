"""Counting introspections: failed client authentications per client address, as failed
logins are counted (each counted first, given back unless it failed, under
RATELIMIT_LOGIN_FAILURES), and every introspection per client (RATELIMIT_INTROSPECTION)."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app
from limits import RateLimitItem

from jwtauthtest.throttle.attempts import EXTENSION_KEY, client_address, rate_limit

LIMIT_KEY = "jwtauthtest.throttle.introspection"


def init_client_throttle(app: Flask) -> None:
    if app.config["RATELIMIT_ENABLED"]:
        app.extensions[LIMIT_KEY] = rate_limit(app, "RATELIMIT_INTROSPECTION")


@contextmanager
def client_authentication() -> Iterator[None]:
    """Count a client authentication under the client's address (when known) before its
    credentials are checked; given back unless it failed (the block raised a 401). 429 past
    the limit, without checking them."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    address = client_address(throttle) if throttle is not None else None
    if address is None:
        yield
        return
    key = f"client-address:{address}"
    throttle.attempts.take(throttle.attempts.failures, key, "Too many failed client "
                           "authentications from your address")
    failed = False
    try:
        yield
    except Exception as error:
        failed = getattr(error, "code", None) == 401
        raise
    finally:
        if not failed:
            throttle.attempts.give_back([key])


def introspection_by(client_id: str) -> None:
    """Count one introspection by the client: 429 past RATELIMIT_INTROSPECTION."""
    limit: RateLimitItem | None = current_app.extensions.get(LIMIT_KEY)
    throttle = current_app.extensions.get(EXTENSION_KEY)
    if limit is not None and throttle is not None:
        throttle.attempts.take(limit, f"introspection:{client_id}",
                               "Too many introspections by this client")
