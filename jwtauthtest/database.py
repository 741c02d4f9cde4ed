"""The Flask-SQLAlchemy handle and schema creation."""

import sqlite3

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, event
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Flask-SQLAlchemy removes the scoped session when each app context ends.
db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def init_db(app: Flask) -> None:
    """Create the tables that don't exist yet."""
    from . import models  # noqa: F401  (registers the tables on the metadata)

    with app.app_context():
        db.create_all()


def database_label() -> str:
    """The current database URL with any password masked, for messages."""
    return db.engine.url.render_as_string(hide_password=True)
