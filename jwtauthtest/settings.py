"""Every setting the app reads, with its default, in one mapping; the error a setting that
can't be used raises; and the readers that check a setting's kind.

Settings are read the Flask way (``create_app``'s ``load_config``): these defaults, then the
``FLASK_*`` environment, then ``instance/config.py`` (or a test's config), each overriding
the one before. A default of None is worked out at start from other settings, by the module
that reads it (noted beside it). docs/configuration.md's table lists the same settings, and a
test holds the two to one set.

At the bottom of the house: imports nothing of jwtauthtest; everything may import it.
"""

import copy
from datetime import timedelta
from typing import Any

from flask import Config
from flask_jwt import CONFIG_DEFAULTS as FLASK_JWT_DEFAULTS

DEFAULTS: dict[str, Any] = {
    # Flask-JWT's own (JWT_AUTH_URL_RULE, JWT_ALGORITHM, JWT_LEEWAY, JWT_EXPIRATION_DELTA, ...).
    **FLASK_JWT_DEFAULTS,
    "SECRET_KEY": None,  # generated into the instance folder (secret.py)
    "JWT_SECRET_KEY": None,  # SECRET_KEY's (secret.py)
    "SQLALCHEMY_DATABASE_URI": None,  # sqlite:///<instance>/jwtauthtest.sqlite (load_config)
    "SQLALCHEMY_ENGINE_OPTIONS": {},  # for PostgreSQL, a connect timeout (database.py)
    "DATABASE_AUTO_UPGRADE": None,  # true for SQLite, false otherwise (database.py)
    "MAX_CONTENT_LENGTH": 16 * 1024,  # a login needs far less; more is refused with 413
    "TRUSTED_PROXIES": 0,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(days=14),
    # How long after a password login its access tokens count as fresh (jwt_required(fresh=True)).
    "JWT_FRESH_DELTA": timedelta(minutes=15),
    # How long the refresh token a refresh just spent still gets the current one (a reload or
    # a lost answer, two tabs at once) instead of revoking the session as a theft.
    "JWT_REFRESH_REUSE_GRACE": timedelta(seconds=10),
    "JWT_ISSUER": None,
    "JWT_AUDIENCE": None,
    "JWT_KEY_REFRESH_SECONDS": 60,
    "JWT_VERIFIED_TOKENS": 4096,
    "JWT_COOKIE_TRANSPORT": True,  # POST /auth?transport=cookie
    "CORS_ORIGINS": [],  # browser apps on other origins allowed to call us with credentials
    # Live sessions a user may have; a login past it ends the oldest (tokens/sessions.py).
    "MAX_SESSIONS_PER_USER": 100,
    # Above OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): RFC 9106's 64 MiB / 3 passes,
    # about 200 ms a login on a 2-core machine (docs/security.md, "Password hashing").
    "ARGON2_MEMORY_COST": 65536,  # KiB
    "ARGON2_TIME_COST": 3,
    "ARGON2_PARALLELISM": 1,
    "PASSWORD_MIN_LENGTH": 8,  # ASVS 6.2.1's floor; docs/security.md recommends NIST's 15
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN_FAILURES": "10 per minute",
    # Every attempt, successful ones too: a session is a row, and a login an argon2 check.
    "RATELIMIT_LOGIN_ATTEMPTS": "30 per minute",
    # The app's own database: shared by every process using it, kept across restarts.
    "RATELIMIT_STORAGE_URI": "database://",
    "RATELIMIT_STORAGE_OPTIONS": {},
    "RATELIMIT_KEY_PREFIX": "",
    # When shared storage (Redis) is unreachable, count in this process's memory meanwhile,
    # and go back to it once it answers again.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "SECOND_FACTOR_ISSUER": "jwtauthtest",
    "SECOND_FACTOR_CHALLENGE_SECONDS": 300,
    "SECOND_FACTOR_MAX_FAILURES": 20,
    "WEBAUTHN_RP_ID": None,  # passkeys are off without it
    "WEBAUTHN_RP_NAME": "jwtauthtest",
    "WEBAUTHN_ORIGINS": None,  # https://<WEBAUTHN_RP_ID> (passkeys/settings.py)
    "WEBAUTHN_MAX_SIGN_IN_CHALLENGES": 10_000,
    # E-mail (mail/, addresses/): off until MAIL_SERVER (or MAIL_BACKEND "console") and
    # PUBLIC_URL are set.
    "PUBLIC_URL": None,  # links in messages start with it; never the request's Host
    "MAIL_BACKEND": "smtp",  # or "console": messages to the server's output (development)
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,  # STARTTLS
    "MAIL_USE_SSL": False,  # TLS from the first byte (port 465)
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_FROM": None,  # noreply@<PUBLIC_URL's host> (mail/settings.py)
    "MAIL_CA_FILE": None,  # trust this CA bundle too; certificates are always checked
    "MAIL_TIMEOUT": 10,  # seconds, per connection to the mail server
    # While the server can't take a message: wait this long, doubled each try up to an hour.
    "MAIL_RETRY_SECONDS": 30,
    "MAIL_POLL_SECONDS": 5,  # how often a sender looks for other processes' messages
    "PASSWORD_RESET_SECONDS": 900,
    "EMAIL_CONFIRM_SECONDS": 86400,  # an address change's link
    "REGISTRATION_ENABLED": False,
    "REGISTRATION_CONFIRM_SECONDS": 86400,  # a sign-up's link, and the account's deadline
    # Messages a burst can send to one inbox, and e-mail requests from one client address.
    "RATELIMIT_MAIL_PER_ADDRESS": "3 per hour",
    "RATELIMIT_MAIL_PER_CLIENT": "20 per hour",
    # Token introspections per client (services/introspection.py); its failed client
    # authentications count per client address under RATELIMIT_LOGIN_FAILURES.
    "RATELIMIT_INTROSPECTION": "6000 per minute",
    "LOG_FORMAT": "text",
    "METRICS_ENABLED": False,
}
# Durations: a timedelta from Python config, or seconds from the environment.
DURATIONS = ("JWT_LEEWAY", "JWT_EXPIRATION_DELTA", "JWT_REFRESH_EXPIRATION_DELTA",
             "JWT_NOT_BEFORE_DELTA", "JWT_FRESH_DELTA", "JWT_REFRESH_REUSE_GRACE")


class ConfigurationError(ValueError):
    """The configuration cannot be used; the message says what to change, in one line."""


def defaults() -> dict[str, Any]:
    """The defaults, for one app (its lists and dicts its own)."""
    return copy.deepcopy(DEFAULTS)


def whole_number(config: Config, key: str, unit: str, least: int = 0,
                 most: int | None = None) -> int:
    """A setting that is a whole number (not a bool) of UNIT, if it has one, from LEAST to
    MOST."""
    value = config[key]
    if isinstance(value, int) and not isinstance(value, bool) and value >= least \
            and (most is None or value <= most):
        return value
    if most is not None:
        span = f" from {least} to {most}"
    else:
        span = f", at least {least}" if least else ""
    of_unit = f" of {unit}" if unit else ""
    raise ConfigurationError(f"{key} must be a whole number{of_unit}{span}, not {value!r}")


def number_of_seconds(config: Config, key: str) -> float:
    """A setting that is a number of seconds, 0 or more."""
    value = config[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    raise ConfigurationError(f"{key} must be a number of seconds, not {value!r}")


def duration(config: Config, key: str) -> timedelta:
    """A setting that is a duration: a timedelta (Python config) or seconds (environment)."""
    value = config[key]
    if isinstance(value, timedelta):
        return value
    try:
        return timedelta(seconds=number_of_seconds(config, key))
    except ConfigurationError:
        raise ConfigurationError(f"{key} must be a number of seconds or a timedelta, not "
                                 f"{value!r}") from None


def secret_bytes(secret: str | bytes) -> bytes:
    """A secret setting as the bytes keys are made from."""
    return secret.encode() if isinstance(secret, str) else secret
