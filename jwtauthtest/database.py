"""The Flask-SQLAlchemy handle, connection settings, the protected requests' query, and whether
this process's user may write the database."""

import functools
import os
import sqlite3
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Dialect, MetaData, PoolProxiedConnection, Select, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase

from jwtauthtest.entrypoints import cannot
from jwtauthtest.settings import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 15_000
CONNECT_TIMEOUT_S = 3


class Base(DeclarativeBase):
    # Named constraints, so that migrations can refer to them on every database.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


# Flask-SQLAlchemy removes the scoped session when each app context ends.
# Objects stay usable after a commit, so reads can end their transaction early.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers go on while one process writes; the busy timeout makes a
        # writer wait for another instead of failing with "database is locked".
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()


def configure_database(app: Flask) -> None:
    """Engine settings: fail fast when the server is away.

    No ping before each use (a round trip per request): a connection the server dropped
    is found on use, and SQLAlchemy then replaces the pooled ones (fetch_first retries).
    """
    try:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    except ArgumentError:
        raise ConfigurationError("SQLALCHEMY_DATABASE_URI is not a database URL, such as "
                                 "sqlite:///path or postgresql+psycopg://user:password@host/name"
                                 ) from None
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = os.path.join(app.instance_path, url.database)
        create_private_file(path)
        refuse_unwritable_sqlite(path, app.instance_path)
    if url.get_backend_name() == "postgresql":
        options.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    # SQLite's schema is brought up to date at start; other databases at deploy time.
    if app.config["DATABASE_AUTO_UPGRADE"] is None:
        app.config["DATABASE_AUTO_UPGRADE"] = url.get_backend_name() == "sqlite"


def init_engine(app: Flask) -> None:
    """Flask-SQLAlchemy's engine for the app; a URL naming a driver that isn't installed is
    a ConfigurationError."""
    try:
        db.init_app(app)
        with app.app_context():
            event.listen(db.engine, "connect", _configure_sqlite)  # before its first connection
    except NoSuchModuleError as e:
        raise ConfigurationError(f"SQLALCHEMY_DATABASE_URI names a database this app has no "
                                 f"driver for ({e}); use sqlite:///... or "
                                 "postgresql+psycopg://...") from None
    except ImportError as e:
        raise ConfigurationError(f"SQLALCHEMY_DATABASE_URI needs the driver {e.name}, which "
                                 "isn't installed; for PostgreSQL, psycopg 3 is: "
                                 "postgresql+psycopg://...") from None


def create_private_file(path: str) -> None:
    """Create the SQLite database file readable by its owner only (it holds the password
    hashes); SQLite gives its -wal and -shm files the same mode. An existing file is kept."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:  # it exists, or can't be made here: SQLite says why when it opens it
        pass


def sqlite_unwritable(path: str) -> tuple[str, str] | None:
    """What this process's user may not do that SQLite needs, from permissions alone (no
    write, no lock): (read or write, the file), (write, its folder: SQLite makes its -wal,
    -shm and journal files there) or (create, the file); None when it may do all."""
    folder = os.path.dirname(path)
    if os.path.exists(path):
        for need, mode in (("read", os.R_OK), ("write", os.W_OK)):
            if not os.access(path, mode):
                return need, path
        return None if os.access(folder, os.W_OK) else ("write", folder)
    return ("create", path) if os.path.isdir(folder) and not os.access(folder, os.W_OK) \
        else None  # (a folder that isn't there: SQLite says so when it opens the file)


def refuse_unwritable_sqlite(path: str, instance_path: str) -> None:
    """A ConfigurationError naming what SQLite can't do with the database at PATH."""
    problem = sqlite_unwritable(path)
    if problem is None:
        return
    need, where = problem
    folder = os.path.dirname(path)
    instead = None if folder == instance_path else \
        "set SQLALCHEMY_DATABASE_URI to a database in a folder that user may write"
    if need == "create":
        raise cannot(f"create the database {path}", f"write to the folder {folder}", folder,
                     instance_path, instead=instead)
    if where == folder:
        raise cannot(f"write the database {path}", f"write to its folder {folder}, where "
                     "SQLite makes its -wal, -shm and journal files", folder, instance_path,
                     instead=instead)
    raise cannot(f"{need} the database {path}", f"{need} it", path, instance_path, need[0],
                 instead=instead)


def write_refusal() -> str | None:
    """Why the database can't take a write now, found without writing (for /healthz): SQLite's
    file or folder that this process's user may not write, PostgreSQL's transaction_read_only
    (a standby, default_transaction_read_only). A database locked for a while is not one."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            read_only = connection.exec_driver_sql("SHOW transaction_read_only").scalar()
        return "it is read-only (transaction_read_only is on)" if read_only == "on" else None
    path = engine.url.database
    if engine.dialect.name != "sqlite" or path in (None, "", ":memory:"):
        return None
    problem = sqlite_unwritable(path)
    if problem is None:
        return None
    need, where = problem
    return f"this server's user may not {need} its {'file' if where == path else 'folder'}"


@functools.cache
def _compiled(statement: Select, dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    compiled = statement.compile(dialect=dialect)
    return str(compiled), compiled.positiontup if dialect.positional else None


def fetch_first(statement: Select, params: dict[str, Any]) -> tuple | None:
    """The first row of a prebuilt SELECT, run straight on a pooled DBAPI connection.

    For the one query of every protected request: SQLAlchemy's execution layer costs
    more than the query itself on SQLite, and on PostgreSQL this is one round trip.
    Driver errors come out as SQLAlchemy's (so an unreachable database is still a 503).
    A connection the server dropped (a restart, a failover) is discarded with the rest
    of the pool, and the query runs once more on a new one.
    """
    engine = db.engine
    sql, order = _compiled(statement, engine.dialect)
    arguments = tuple(params[name] for name in order) if order is not None else params
    dbapi_error = engine.dialect.loaded_dbapi.Error
    for last_try in (False, True):
        try:
            connection = engine.raw_connection()
        except dbapi_error as e:  # the server is unreachable
            raise DBAPIError.instance(sql, arguments, e, dbapi_error) from e
        try:
            return _fetch_first_row(connection, engine.dialect, sql, arguments)
        except dbapi_error as e:
            disconnected = engine.dialect.is_disconnect(e, connection, None)
            connection.invalidate(e)  # not reused, whatever state the failure left it in
            if disconnected:
                engine.dispose()  # the server went away: the other pooled ones are gone too
            if last_try or not disconnected:
                raise DBAPIError.instance(sql, arguments, e, dbapi_error) from e
        finally:
            connection.close()  # back to the pool
    raise AssertionError("unreachable")


def _fetch_first_row(connection: PoolProxiedConnection, dialect: Dialect, sql: str,
                     arguments: tuple | dict) -> tuple | None:
    # pysqlite starts no transaction for a SELECT. Other drivers (psycopg) would send a
    # BEGIN first and get a ROLLBACK when the pool takes the connection back: in
    # autocommit mode the query is the only round trip.
    autocommit = dialect.name != "sqlite"
    if autocommit:
        dialect.set_isolation_level(connection.dbapi_connection, "AUTOCOMMIT")
    cursor = connection.cursor()
    try:
        cursor.execute(sql, arguments)
        row = cursor.fetchone()
    finally:
        cursor.close()
    if autocommit:
        dialect.reset_isolation_level(connection.dbapi_connection)
    return row


def end_read_transaction() -> None:
    """End the current transaction before slow work that is followed by a write.

    In SQLite's WAL mode a transaction that has read cannot start writing once
    another process has written since ("database is locked", without waiting); a
    transaction that starts with its write waits for the busy timeout instead.
    """
    db.session.commit()


def database_label() -> str:
    """The current database URL with any password masked, for messages."""
    return db.engine.url.render_as_string(hide_password=True)
