"""Password hashing: the one CryptContext used by the app and every command."""

from flask import Flask, current_app
from passlib.context import CryptContext

EXTENSION_KEY = "jwtauthtest.passwords"
CONFIG_DEFAULTS = {
    # OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
    "ARGON2_MEMORY_COST": 19456,  # KiB
    "ARGON2_TIME_COST": 2,
    "ARGON2_PARALLELISM": 1,
}


def init_passwords(app: Flask) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions[EXTENSION_KEY] = CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=int(app.config["ARGON2_MEMORY_COST"]),
        argon2__time_cost=int(app.config["ARGON2_TIME_COST"]),
        argon2__parallelism=int(app.config["ARGON2_PARALLELISM"]),
    )


def password_context() -> CryptContext:
    return current_app.extensions[EXTENSION_KEY]


def hash_password(password: str) -> str:
    return password_context().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return password_context().verify(password, password_hash)
