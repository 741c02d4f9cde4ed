"""Throttling of failed logins, per client address and per username (Flask-Limiter)."""

import hashlib
import hmac
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from werkzeug.exceptions import RequestEntityTooLarge

from .audit import log_login
from .credentials import request_json
from .errors import http_error_response
from .models import username_key

EXTENSION_KEY = "jwtauthtest.throttle"
COUNTER_KEY = "jwtauthtest.throttle.counter_key"
CONFIG_DEFAULTS = {
    "RATELIMIT_LOGIN_FAILURES": "10 per minute",
    "RATELIMIT_STORAGE_URI": "memory://",
    # When shared storage (Redis) is unreachable, count in this process's memory
    # meanwhile (one warning), and go back to it once it answers again.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}


def init_throttle(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        # An unreachable Redis costs a login one second at most, not a hang.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 1, "socket_timeout": 1})
    # Refunds (below) are counter decrements, which only fixed windows have.
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    limiter = Limiter(key_func=address_key, app=app)
    app.extensions[EXTENSION_KEY] = limiter
    app.extensions[COUNTER_KEY] = derive_counter_key(app.config["JWT_SECRET_KEY"])
    endpoint = app.config["JWT_AUTH_ENDPOINT"]
    if endpoint in app.view_functions:
        login_view = app.view_functions[endpoint]
        for key_func in (address_key, username_hash_key):
            login_view = limiter.limit(login_failure_limit, key_func=key_func,
                                       error_message="Too many failed logins")(login_view)
        app.view_functions[endpoint] = login_view
        app.after_request(refund_unless_failed)
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def login_failure_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


def refund_unless_failed(response: Response) -> Response:
    """Give back the attempt unless the login failed (401) or was throttled (429).

    Every attempt is counted before its password is checked, in one atomic step per
    counter, so concurrent attempts cannot slip past the limit; a success, or a body
    refused before any password was checked, then doesn't use up the allowance.
    """
    if (request.endpoint != current_app.config["JWT_AUTH_ENDPOINT"]
            or response.status_code in (401, 429)):
        return response
    limiter = current_app.extensions[EXTENSION_KEY]
    try:
        for counted in limiter.current_limits:
            limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)
    except Exception as e:  # noqa: BLE001  (storage trouble must not fail a login)
        current_app.logger.warning("Could not give back a login attempt: %s", e)
    return response


def address_key() -> str:
    return f"address:{request.remote_addr}"


def derive_counter_key(signing_secret: str | bytes) -> bytes:
    """A key of its own for the counters' names, derived from the signing secret."""
    secret = signing_secret.encode() if isinstance(signing_secret, str) else signing_secret
    return hmac.new(secret, b"jwtauthtest throttle keys", hashlib.sha256).digest()


def username_hash_key() -> str:
    """Counts failures per user under every spelling of the name. An HMAC, so the
    counters' keys (in Redis, say) don't reveal or confirm names."""
    username = typed_username()
    key = username_key(username) if isinstance(username, str) else ""
    digest = hmac.new(current_app.extensions[COUNTER_KEY],
                      key.encode("utf-8", "surrogatepass"), hashlib.sha256)
    return "username:" + digest.hexdigest()


def typed_username() -> object:
    try:
        data = request_json()
    except RequestEntityTooLarge:  # answered 413 by the view; no name to count
        return None
    return data.get(current_app.config["JWT_AUTH_USERNAME_KEY"]) if isinstance(data, dict) else None


def too_many_requests(error: RateLimitExceeded) -> Response:
    if request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"]:
        log_login(False, typed_username(), "throttled")
    response = http_error_response(error)
    breached = current_app.extensions[EXTENSION_KEY].current_limit
    if breached is not None:
        response.headers["Retry-After"] = str(max(1, int(breached.reset_at - time.time())))
    return response
