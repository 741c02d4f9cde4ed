"""User management shared by useradd.py and the command line."""

from typing import TextIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .database import db
from .models import User


class UserError(Exception):
    """A user operation was refused; the message is one line for the operator."""


def add_user(username: str, password: str) -> User:
    """Hash the password and store a new user, or raise UserError and store nothing."""
    if not username:
        raise UserError("username must not be empty")
    if not password:
        raise UserError("password must not be empty")
    if find_user(username) is not None:
        raise UserError(f"user already exists: {username}")
    user = User(username=username)
    user.hash_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # added by someone else since find_user
        db.session.rollback()
        raise UserError(f"user already exists: {username}") from None
    return user


def find_user(username: str) -> User | None:
    return db.session.scalars(select(User).filter_by(username=username)).first()


def read_password_line(stream: TextIO) -> str:
    """One line of a script's standard input, without its line ending."""
    return stream.readline().rstrip("\r\n")
