"""The clients table (the clients package's own: models.py holds the rest)."""

import time

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from jwtauthtest.database import db

MAX_NAME_LENGTH = 64


class Client(db.Model):
    """A resource server allowed to introspect tokens: its secret is random (32 bytes), so an
    HMAC keyed from SECRET_KEY stores it — a database leak without the key reveals nothing,
    and a check costs microseconds, not an argon2 run per introspection."""

    __tablename__ = "clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the client_id, random
    name: Mapped[str] = mapped_column(String(MAX_NAME_LENGTH), unique=True)  # the operator's
    secret_digest: Mapped[str] = mapped_column(String(64))  # HMAC-SHA-256, hex
    created_at: Mapped[float] = mapped_column(Float, default=time.time)  # epoch seconds
    # The last introspection it made, noted at most once a minute (store.LAST_USED_STEP).
    last_used_at: Mapped[float | None] = mapped_column(Float)
