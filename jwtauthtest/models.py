"""The users table."""

import unicodedata

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column, validates

from . import passwords
from .database import db

MAX_USERNAME_LENGTH = 150


def normalise_username(username: str) -> str:
    """The form a username is stored and shown in (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", username)


def username_key(username: str) -> str:
    """What makes two usernames the same: NFKC with case folded (Unicode's NFKC_Casefold)."""
    return unicodedata.normalize("NFKC", normalise_username(username).casefold())


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(MAX_USERNAME_LENGTH))
    # Unique, so the database itself refuses "Admin" beside "admin"; kept in step by
    # the validator below, and the column logins are looked up by.
    username_key: Mapped[str] = mapped_column(String, unique=True)
    # The passlib hash; the plain password is never stored.
    password: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    @validates("username")
    def _normalise(self, _key: str, username: str) -> str:
        self.username_key = username_key(username)
        return normalise_username(username)

    def hash_password(self, password: str) -> None:
        self.password = passwords.hash_password(password)

    def verify_password(self, password: str) -> bool:
        """Check the password, rewriting an outdated hash (committed by the caller)."""
        matches, new_hash = passwords.verify_password(password, self.password)
        if new_hash is not None:
            self.password = new_hash
        return matches

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"
