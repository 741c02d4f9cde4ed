"""The signing secret: a configured one is checked, a missing one is generated once."""

import os
import secrets

from flask import Flask

MIN_SECRET_BYTES = 32
SECRET_FILE_NAME = "secret_key"  # noqa: S105 (a file name, not a secret)


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


def configure_secret(app: Flask) -> None:
    """Make sure JWT_SECRET_KEY is a strong secret before any token is signed."""
    for key in ("JWT_SECRET_KEY", "SECRET_KEY"):
        check_secret_strength(key, app.config.get(key))
    if not app.config.get("SECRET_KEY") and not app.config.get("JWT_SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret(app.instance_path)
    if not app.config.get("JWT_SECRET_KEY"):
        app.config["JWT_SECRET_KEY"] = app.config["SECRET_KEY"]


def check_secret_strength(name: str, value: object) -> None:
    if value is None or value == "":
        return
    if not isinstance(value, (str, bytes)):
        raise ConfigurationError(f"{name} must be a string")
    size = len(value.encode() if isinstance(value, str) else value)
    if size < MIN_SECRET_BYTES:
        raise ConfigurationError(
            f"{name} is {size} bytes; a signing secret needs at least {MIN_SECRET_BYTES} "
            "random bytes, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
        )


def load_or_create_secret(instance_path: str) -> str:
    """Read the instance folder's secret, creating it on first start.

    The secret is written to a private temporary file and then hard-linked into
    place, so concurrent first starts (several gunicorn workers) never see a
    half-written file and all end up with the one secret that won the link.
    """
    path = os.path.join(instance_path, SECRET_FILE_NAME)
    if not os.path.exists(path):
        os.makedirs(instance_path, exist_ok=True)
        _publish_new_secret(path)
    with open(path, encoding="ascii") as f:
        secret = f.read().strip()
    check_secret_strength(path, secret)
    return secret


def _publish_new_secret(path: str) -> None:
    temporary = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
