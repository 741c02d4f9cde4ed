"""Counting the attempts: at a password (a login, a password change's current password, a
second factor's code) per username and client address, at a passkey per credential and
address, at a passkey sign-in's options per address; and e-mail requests per client address
(those of every client without one together) and per address written to. A client address
is an IPv4 address or an IPv6 client's /64 (throttle/networks.py).

A wrapper around the login view counts each login (with throttle/limiter.py, on `limits`,
the library under Flask-Limiter, its storages and its ``RATELIMIT_*`` settings); the other
views count with the context managers here: nothing runs for other requests. (Flask-Limiter's
check runs before every request of the app, ~20% of /hello.)
"""

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from flask import Flask, current_app, request
from flask_jwt import JWTError, request_json
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from jwtauthtest.database import db
from jwtauthtest.ops.audit import THROTTLED, log_login
from jwtauthtest.passwords.usernames import username_key
from jwtauthtest.settings import ConfigurationError, secret_bytes
from jwtauthtest.throttle.counters import DATABASE_STORAGE, DatabaseCounters
from jwtauthtest.throttle.limiter import LoginAttempts
from jwtauthtest.throttle.networks import client_key
from jwtauthtest.web.refusals import PasswordAccepted

EXTENSION_KEY = "jwtauthtest.throttle"
MAIL_FROM_UNKNOWN = "mail-from-unknown-address"  # no address's key: one count for them all
logger = logging.getLogger("jwtauthtest.throttle")


class LoginThrottle:
    """What the login view needs to count attempts: the counters, and the key that hides
    usernames in their names. Warns once when client addresses can't be told apart."""

    def __init__(self, attempts: LoginAttempts, signing_secret: str | bytes,
                 mail_limits: tuple[RateLimitItem, RateLimitItem]) -> None:
        self.attempts = attempts
        self.mail_per_client, self.mail_per_address = mail_limits
        self.counter_key = derive_counter_key(signing_secret)
        self.warned: set[str] = set()

    def warn_once(self, reason: str, message: str) -> None:
        if reason not in self.warned:
            self.warned.add(reason)
            logger.warning(message)


def init_throttle(app: Flask) -> None:
    if not app.config["RATELIMIT_ENABLED"]:
        return
    attempts = LoginAttempts(
        make_storage(app), rate_limit(app, "RATELIMIT_LOGIN_ATTEMPTS"),
        rate_limit(app, "RATELIMIT_LOGIN_FAILURES"), app.config["RATELIMIT_KEY_PREFIX"],
        app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"])
    mail_limits = (rate_limit(app, "RATELIMIT_MAIL_PER_CLIENT"),
                   rate_limit(app, "RATELIMIT_MAIL_PER_ADDRESS"))
    app.extensions[EXTENSION_KEY] = LoginThrottle(attempts, app.config["JWT_SECRET_KEY"],
                                                  mail_limits)
    endpoint = app.config["JWT_AUTH_ENDPOINT"]
    if endpoint in app.view_functions:
        app.view_functions[endpoint] = throttled(app.view_functions[endpoint])


def rate_limit(app: Flask, key: str) -> RateLimitItem:
    try:
        return parse(app.config[key])
    except ValueError:
        raise ConfigurationError(f"{key} must be a rate such as '10 per minute', not "
                                 f"{app.config[key]!r}") from None


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
    """The login view, counting each attempt first."""

    @wraps(login_view)
    def login(*args: Any, **kwargs: Any) -> Any:
        with password_attempt(typed_username()):
            return login_view(*args, **kwargs)

    return login


@contextmanager
def password_attempt(username: object) -> Iterator[None]:
    """Count an attempt at this user's password (a login, or the current password of a
    change) under the username and the client's address, and give it back unless it failed
    (401). Raises TooManyRequests past the limits; counts nothing when throttling is off."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    if throttle is None:
        yield
        return
    keys = [username_hash_key(throttle, username)]
    if address := client_address(throttle):
        keys.append(f"address:{address}")
    with attempt(throttle, keys, username):
        yield


@contextmanager
def address_attempt() -> Iterator[None]:
    """Count a request that names no user (a passkey sign-in's options) under the client's
    address. With no address known nothing is counted: one count shared by every such
    client would let one of them lock the others out (the caller bounds the cost instead)."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    address = client_address(throttle) if throttle is not None else None
    if address is None:
        yield
        return
    with attempt(throttle, [f"address:{address}"], None):
        yield


@contextmanager
def passkey_attempt(credential_id: str) -> Iterator[None]:
    """Count a passkey sign-in under the credential its answer names, as a login is counted
    under its username, and under the client's address when known; given back unless the
    answer was refused (401)."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    if throttle is None:
        yield
        return
    keys = [hidden_key(throttle, "passkey", credential_id)]
    if address := client_address(throttle):
        keys.append(f"address:{address}")
    with attempt(throttle, keys, None):
        yield


def mail_request(address_key: str | None = None) -> None:
    """Count an e-mail request under the client's address (every client without one under a
    single shared key) and, when it names an address (its key), under that address: 429
    past either limit. Counted before the address is looked up, so a refusal says nothing of
    whether an account has it."""
    throttle = current_app.extensions.get(EXTENSION_KEY)
    if throttle is None:
        return
    if client := client_address(throttle):
        throttle.attempts.take(throttle.mail_per_client, f"mail-from:{client}",
                               "Too many e-mail requests from your network address")
    else:  # mail to any address must stay bounded: these clients share one client's limit
        throttle.attempts.take(throttle.mail_per_client, MAIL_FROM_UNKNOWN,
                               "Too many e-mail requests from clients without an address")
    if address_key is not None:
        throttle.attempts.take(throttle.mail_per_address,
                               hidden_key(throttle, "mail-to", address_key),
                               "Too many messages to this address")


@contextmanager
def attempt(throttle: LoginThrottle, keys: list[str], username: object) -> Iterator[None]:
    try:
        counted = throttle.attempts.count(keys)
    except TooManyRequests as refused:
        log_login(THROTTLED, username, str(refused.description).lower())
        raise
    try:
        yield
    except JWTError as error:
        # Refused before any password was checked, or the password was right.
        if error.status_code != 401 or isinstance(error, PasswordAccepted):
            throttle.attempts.give_back(counted)
        raise
    except Exception:
        throttle.attempts.give_back(counted)
        raise
    throttle.attempts.give_back(counted)


def client_address(throttle: LoginThrottle) -> str | None:
    """The key of the client's address (an IPv6 client's is its /64: throttle/networks.py),
    or None when it is unknown (a unix socket): an empty address would make every client
    one, and a few failures would lock every user out."""
    if not request.remote_addr:
        throttle.warn_once("no address", "Requests come without a client address (a unix "
                           "socket?): logins are throttled per username (passkeys: per "
                           "credential) only, and e-mail requests from all such clients "
                           "share one client's RATELIMIT_MAIL_PER_CLIENT; behind a proxy, "
                           "set FLASK_TRUSTED_PROXIES so that X-Forwarded-For gives it")
        return None
    if "X-Forwarded-For" in request.headers and not current_app.config["TRUSTED_PROXIES"]:
        throttle.warn_once("proxy", "Logins come through a proxy (X-Forwarded-For) but "
                           "TRUSTED_PROXIES is 0: every client behind it shares the proxy's "
                           "address, and its failures; set FLASK_TRUSTED_PROXIES to the "
                           "number of proxies")
    return client_key(request.remote_addr)


def username_hash_key(throttle: LoginThrottle, username: object) -> str:
    """Counts failures per user under every spelling of the name."""
    key = username_key(username) if isinstance(username, str) else ""
    return hidden_key(throttle, "username", key)


def hidden_key(throttle: LoginThrottle, kind: str, name: str) -> str:
    """A counter's key for a username or a credential id: an HMAC, so the counters' keys (in
    Redis, say) don't reveal or confirm names."""
    digest = hmac.new(throttle.counter_key, name.encode("utf-8", "surrogatepass"),
                      hashlib.sha256)
    return f"{kind}:{digest.hexdigest()}"


def derive_counter_key(signing_secret: str | bytes) -> bytes:
    """A key of its own for the counters' names, derived from the signing secret."""
    return hmac.new(secret_bytes(signing_secret), b"jwtauthtest throttle keys",
                    hashlib.sha256).digest()


def typed_username() -> object:
    try:
        data = request_json()
    except RequestEntityTooLarge:  # answered 413 by the view; no name to count
        return None
    return data.get(current_app.config["JWT_AUTH_USERNAME_KEY"]) if isinstance(data, dict) else None
