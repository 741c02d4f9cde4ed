"""The users table."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from . import passwords
from .database import db


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    # The passlib hash; the plain password is never stored.
    password: Mapped[str] = mapped_column(String(255))

    def hash_password(self, password: str) -> None:
        self.password = passwords.hash_password(password)

    def verify_password(self, password: str) -> bool:
        return passwords.verify_password(password, self.password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"
