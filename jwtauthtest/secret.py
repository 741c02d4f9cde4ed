"""The signing secret: a configured one is checked, a missing one is generated once."""

import math
import os
import secrets
import stat
from collections import Counter

from flask import Flask

from jwtauthtest.settings import ConfigurationError, secret_bytes

MIN_SECRET_BYTES = 32
# Bits by the characters' frequencies: 40 identical characters have 0, "abab..." 40, and
# 32 random bytes in hex about 120. Catches the obviously made-up, not every weak secret.
MIN_SECRET_ESTIMATED_BITS = 64
SECRET_FILE_NAME = "secret_key"  # noqa: S105 (a file name, not a secret)
HOW_TO_MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def configure_secret(app: Flask) -> None:
    """Make sure JWT_SECRET_KEY is a strong secret before any token is signed."""
    for key in ("JWT_SECRET_KEY", "SECRET_KEY"):
        check_secret_strength(key, app.config.get(key))
    if not app.config.get("SECRET_KEY") and not app.config.get("JWT_SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret(app.instance_path)
    if not app.config.get("JWT_SECRET_KEY"):
        app.config["JWT_SECRET_KEY"] = app.config["SECRET_KEY"]


def app_secret(app: Flask) -> bytes:
    """The secret that keys what the app stores (the signing keys' private parts, second
    factors, client secrets' HMAC, the outbox's messages): SECRET_KEY, or JWT_SECRET_KEY where
    it is the only one set. Read only here, so that every part agrees on which it is."""
    return secret_bytes(app.config["SECRET_KEY"] or app.config["JWT_SECRET_KEY"])


def check_secret_strength(name: str, value: object) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, (str, bytes)):
        raise ConfigurationError(f"{name} must be a string")
    secret = secret_bytes(value)
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{name} is {len(secret)} bytes; a signing secret needs at least {MIN_SECRET_BYTES} "
            f"random bytes, e.g. {HOW_TO_MAKE_ONE}")
    bits = estimated_bits(secret)
    if bits < MIN_SECRET_ESTIMATED_BITS:
        raise ConfigurationError(
            f"{name} is too predictable (about {bits:.0f} bits by its characters' frequencies); "
            f"use random bytes, e.g. {HOW_TO_MAKE_ONE}")


def estimated_bits(secret: bytes) -> float:
    """Shannon's estimate: the bits per character of its frequencies, times the length."""
    counts = Counter(secret)
    return sum(n * math.log2(len(secret) / n) for n in counts.values())


def load_or_create_secret(instance_path: str) -> str:
    """Read the instance folder's secret, creating it on first start.

    The secret is written to a private temporary file and then hard-linked into
    place, so concurrent first starts (several gunicorn workers) never see a
    half-written file and all end up with the one secret that won the link.
    """
    path = os.path.join(instance_path, SECRET_FILE_NAME)
    if not os.path.exists(path):
        os.makedirs(instance_path, mode=0o700, exist_ok=True)
        _publish_new_secret(path)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        raise ConfigurationError(f"{path} is readable or writable by others (mode {mode:o}): "
                                 f"run chmod 600 {path}")
    with open(path, encoding="ascii") as f:
        secret = f.read().strip()
    if not secret:
        raise ConfigurationError(f"{path} is empty: delete it to have a new secret made at the "
                                 "next start, or write one in it")
    check_secret_strength(path, secret)
    return secret


def _publish_new_secret(path: str) -> None:
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except PermissionError as e:  # named for the file wanted (create_app says what to do)
        raise PermissionError(e.errno, e.strerror, path) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process created it first; theirs is the secret
    finally:
        os.unlink(temporary)
