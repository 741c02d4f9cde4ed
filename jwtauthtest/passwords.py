"""Password hashing: the one CryptContext used by the app and every command."""

import secrets

from flask import Flask, current_app
from passlib.context import CryptContext

EXTENSION_KEY = "jwtauthtest.passwords"
MAX_PASSWORD_LENGTH = 1024
CONFIG_DEFAULTS = {
    # Above OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): RFC 9106's 64 MiB / 3 passes,
    # about 170 ms a login on a 2-core machine (README, "Password hashing").
    "ARGON2_MEMORY_COST": 65536,  # KiB
    "ARGON2_TIME_COST": 3,
    "ARGON2_PARALLELISM": 1,
}
# Hashes these schemes made still verify, and are rewritten as argon2id on the next login.
LEGACY_SCHEMES = ["bcrypt", "pbkdf2_sha256", "django_pbkdf2_sha256", "sha512_crypt",
                  "sha256_crypt"]


class Passwords:
    def __init__(self, context: CryptContext) -> None:
        self.context = context
        self.dummy_hash = dummy_hash(context)


def dummy_hash(context: CryptContext) -> str:
    """An argon2 hash of the current parameters that no password matches: a random salt
    and a random digest. Verifying against it costs what a real verification costs,
    and making it costs nothing (no hashing at start, nor at the first unknown user)."""
    handler = context.handler("argon2")
    return handler(salt=secrets.token_bytes(handler.default_salt_size),
                   checksum=secrets.token_bytes(handler.checksum_size),
                   use_defaults=True).to_string()


def init_passwords(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions[EXTENSION_KEY] = Passwords(CryptContext(
        schemes=["argon2", *LEGACY_SCHEMES],
        deprecated="auto",
        argon2__type="ID",
        argon2__memory_cost=int(app.config["ARGON2_MEMORY_COST"]),
        argon2__time_cost=int(app.config["ARGON2_TIME_COST"]),
        argon2__parallelism=int(app.config["ARGON2_PARALLELISM"]),
    ))


def _passwords() -> Passwords:
    return current_app.extensions[EXTENSION_KEY]


def password_context() -> CryptContext:
    return _passwords().context


def hash_password(password: str) -> str:
    return password_context().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Check a password: (matches, the hash to store instead when it is outdated)."""
    try:
        return password_context().verify_and_update(password, password_hash)
    except ValueError:  # an unrecognised hash, or a password its scheme cannot take
        return False, None


def spend_verification_time(password: str) -> None:
    """Cost what a real verification costs, when there is no user to verify against."""
    verify_password(password, _passwords().dummy_hash)
