"""The schema: migrations (Alembic through Flask-Migrate), applied at start where that is the
app's job, and whether the database is up to date."""

import fcntl
import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import alembic.command
import flask_migrate
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import URL, create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from jwtauthtest.database import database_label, db
from jwtauthtest.settings import ConfigurationError

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "migrations")
UPGRADE_COMMAND = "flask --app jwtauthtest db upgrade"
SCHEMA_OUTDATED = f"The database schema is not up to date: run `{UPGRADE_COMMAND}`"

migrate = flask_migrate.Migrate(directory=MIGRATIONS)


def init_db(app: Flask) -> None:
    """Bring the schema up to date where that is the app's job (SQLite, by default)."""
    from jwtauthtest import models  # noqa: F401  (registers the tables on the metadata)
    from jwtauthtest.clients import model  # noqa: F401  (and the clients package's own)

    migrate.init_app(app, db)
    if app.config["DATABASE_AUTO_UPGRADE"]:
        with app.app_context(), upgrade_lock(app.instance_path):
            try:
                # Alembic itself, not flask_migrate.upgrade, which exits on errors.
                alembic.command.upgrade(migrate.get_config(), "head")
            except SQLAlchemyError as e:
                raise ConfigurationError(unreachable(e)) from None


@contextmanager
def upgrade_lock(instance_path: str) -> Iterator[None]:
    """One process at a time migrates (several workers may start at once)."""
    with open(os.path.join(instance_path, ".upgrade.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def schema_is_current() -> bool:
    """Whether the database is at the newest migration (one query)."""
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == newest()


@functools.cache
def newest() -> set[str]:
    return set(ScriptDirectory(MIGRATIONS).get_heads())


def unreachable(error: SQLAlchemyError) -> str:
    """One line for a database that can't be used: which, why, and the setting to check."""
    return (f"the database {database_label()} is unreachable ({driver_message(error)}): "
            "check SQLALCHEMY_DATABASE_URI")


def driver_message(error: SQLAlchemyError) -> str:
    """The database's own words for what went wrong, on one line, without the statement, its
    parameters or the excerpt of it that PostgreSQL quotes."""
    reason = error.orig if isinstance(error, DBAPIError) else error
    primary = getattr(getattr(reason, "diag", None), "message_primary", None)  # psycopg's
    message = primary or str(reason).split("\n[SQL: ")[0]
    return " ".join(message.split()).split(" (Background on this error at: ")[0]


def database_problem(error: SQLAlchemyError) -> str:
    """What is wrong with the database, in one line: not upgraded yet (not "unreachable"), or
    unavailable, in the driver's words."""
    if schema_missing(error):
        return f"{SCHEMA_OUTDATED} ({driver_message(error)})"
    return f"Database unavailable: {driver_message(error)}"


def database_missing(error: SQLAlchemyError) -> bool:
    """Whether connecting failed because the PostgreSQL database named isn't there."""
    return re.search(r'FATAL: database ".*" does not exist', driver_message(error)) is not None


def create_database(url: URL) -> None:
    """Create the PostgreSQL database the URL names, through the server's ``postgres``
    database with the URL's credentials. ConfigurationError, one line naming the createdb
    command to run instead, when the server refuses (the user may not create databases)."""
    server = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    try:
        with server.connect() as connection:
            name = connection.dialect.identifier_preparer.quote(url.database)
            connection.execute(text(f"CREATE DATABASE {name}"))
    except SQLAlchemyError as e:
        if getattr(getattr(e, "orig", None), "sqlstate", None) == "42P04":
            return  # another process created it meanwhile
        raise ConfigurationError(
            f"the database {url.database} does not exist and could not be created "
            f"({driver_message(e)}): create it with `{createdb_command(url)}` as a user who "
            "may, then try again") from None
    finally:
        server.dispose()


def createdb_command(url: URL) -> str:
    """PostgreSQL's command that makes the database, owned by the URL's user."""
    options = [f"-h {url.host}" if url.host else "", f"-p {url.port}" if url.port else "",
               f"-O {url.username}" if url.username else ""]
    return " ".join(["createdb", *filter(None, options), url.database or ""])


def schema_missing(error: SQLAlchemyError) -> bool:
    """Whether a query failed because a table or column isn't there (not upgraded yet)."""
    reason = getattr(error, "orig", None)
    return (getattr(reason, "sqlstate", None) in ("42P01", "42703")  # PostgreSQL
            or "no such table" in str(reason) or "no such column" in str(reason))  # SQLite
