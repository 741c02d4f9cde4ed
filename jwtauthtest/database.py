"""The Flask-SQLAlchemy handle and schema creation."""

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Flask-SQLAlchemy removes the scoped session when each app context ends.
db = SQLAlchemy(model_class=Base)


def init_db(app: Flask) -> None:
    """Create the tables that don't exist yet."""
    from . import models  # noqa: F401  (registers the tables on the metadata)

    with app.app_context():
        db.create_all()


def database_label() -> str:
    """The current database URL with any password masked, for messages."""
    return db.engine.url.render_as_string(hide_password=True)
