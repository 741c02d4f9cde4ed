"""Fixtures in Flask's tutorial style: app, client, runner, a fresh database per test.

The database is a temporary SQLite file, or on PostgreSQL, with TEST_DATABASE_URI set (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test), a database of each pytest-xdist worker's
(pyproject.toml's addopts) on that server: TEST_DATABASE_URI's name with the worker's id
appended (test_gw0, test_gw1, ...), created when missing, emptied before each test and
dropped at the end. In one process (-p no:xdist) the suite uses TEST_DATABASE_URI's database
itself, emptied before and after each test. That database is created first if it is
missing. An app that would migrate the test's new SQLite database at start finds
it migrated already, a copy of one migrated once per process (see make_app).
"""

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import alembic.command
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from jwtauthtest import INSTANCE_PATH_VARIABLE, create_app
from jwtauthtest.database import db
from jwtauthtest.schema import create_database, database_missing, driver_message, migrate
from jwtauthtest.settings import ConfigurationError
from jwtauthtest.users import add_user

SECRET = "test-secret-4f9c2a7e1d3b5c8a0e6f2d4b9a7c1e3f"
# Tests lower the argon2 cost; tests of the production parameters build their own app.
FAST_HASHING = {"ARGON2_MEMORY_COST": 1024, "ARGON2_TIME_COST": 1}
USERNAME = "admin"
PASSWORD = "mysupersecretpassword"
TEST_DATABASE_URI = os.environ.get("TEST_DATABASE_URI")
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ...; None in a plain run

# Helpers in tests/support that test modules import: pytest rewrites the asserts of test
# modules, conftest files and plugins only, and a failed check in a helper should say as much.
pytest.register_assert_rewrite("live_factors", "mail_server", "nginx", "second_factor_api",
                              "virtual_authenticators")


def pytest_addoption(parser, pluginmanager):
    """With ``-p no:xdist`` the suite runs in this one process, and the xdist options of
    pyproject.toml's addopts are accepted and mean nothing (``-n 0`` also runs it in one
    process, with xdist loaded)."""
    if not pluginmanager.has_plugin("xdist"):
        for name in ("--numprocesses", "--dist"):
            parser.addoption(name, help="ignored: pytest-xdist is not loaded (-p no:xdist)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "alone: compares timings, so under xdist it runs while no other test does")
    if TEST_DATABASE_URI is not None and XDIST_WORKER is None:  # once, before any worker
        prepare_test_database(make_url(TEST_DATABASE_URI))


def prepare_test_database(url):
    """TEST_DATABASE_URI's database, created when it is missing (the workers' own are made
    beside it); one line and exit status 4 when it can't be used or made."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect():
            return
    except SQLAlchemyError as e:
        if not database_missing(e):
            raise pytest.UsageError(f"TEST_DATABASE_URI: {driver_message(e)}") from None
    finally:
        engine.dispose()
    try:
        create_database(url)
    except ConfigurationError as e:
        raise pytest.UsageError(f"TEST_DATABASE_URI: {e}") from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Under xdist, a test marked ``alone`` (set up, run and torn down) has the machine to
    itself: the other workers finish the test they are running and wait for it. (An
    ``xdist_group`` would only keep such tests on one worker, beside the others' load.)"""
    if XDIST_WORKER is None:
        return (yield)
    # xdist gives each worker the basetemp <the run's own temporary folder>/popen-gwN.
    with turn(Path(item.config.option.basetemp).parent,
              alone=item.get_closest_marker("alone") is not None):
        return (yield)


@contextmanager
def turn(folder: Path, alone: bool) -> Iterator[None]:
    """A shared lock on the run's lock file while a test runs; an exclusive one for a test
    marked alone. Each test first passes a turnstile, which a waiting ``alone`` test holds,
    so that the other workers can't keep it waiting by taking turns at the shared lock."""
    with ExitStack() as stack:
        turnstile, tests = (stack.enter_context(open(folder / name, "a"))
                            for name in ("turnstile.lock", "tests.lock"))
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(tests, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        yield  # the lock goes with the file's closing


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Keep the developer's own configuration and instance folder out of every test."""
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JWTAUTHTEST_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture(scope="session")
def worker_database():
    """Under xdist, the URI of the worker's own PostgreSQL database, made (when missing)
    through TEST_DATABASE_URI's connection on the same server, and dropped when the worker
    is done. (A worker that crashes leaves it for the next run, which empties it first.)"""
    if TEST_DATABASE_URI is None or XDIST_WORKER is None:
        yield None
        return
    url = make_url(TEST_DATABASE_URI)
    name = f"{url.database}_{XDIST_WORKER}"
    quoted = '"' + name.replace('"', '""') + '"'
    server = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with server.connect() as connection:
            if not connection.scalar(text("SELECT count(*) FROM pg_database "
                                          "WHERE datname = :name"), {"name": name}):
                connection.execute(text(f"CREATE DATABASE {quoted}"))
        yield url.set(database=name).render_as_string(hide_password=False)
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
    finally:
        server.dispose()


def migrate_to_head(uri: str, folder: Path) -> None:
    """Bring an empty database to the newest migration, as an app's start does (the same
    alembic upgrade), and write nothing else in it."""
    with pytest.MonkeyPatch.context() as environment:
        for name in list(os.environ):
            if name.startswith("FLASK_"):
                environment.delenv(name)
        environment.setenv(INSTANCE_PATH_VARIABLE, str(folder / "instance"))
        app = create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                          "SQLALCHEMY_DATABASE_URI": uri, "DATABASE_AUTO_UPGRADE": False})
        with app.app_context():
            alembic.command.upgrade(migrate.get_config(), "head")
            db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """A SQLite database at the newest migration, once per process; None on PostgreSQL."""
    if TEST_DATABASE_URI is not None:
        return None
    folder = tmp_path_factory.mktemp("migrated")
    migrate_to_head(f"sqlite:///{folder / 'migrated.sqlite'}", folder)
    return folder / "migrated.sqlite"


@pytest.fixture
def database_uri(tmp_path, worker_database):
    """The test's empty database: a new SQLite file, TEST_DATABASE_URI emptied before and
    after the test, or under xdist the worker's database emptied before it (and dropped
    at the end)."""
    if TEST_DATABASE_URI is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    uri = worker_database or TEST_DATABASE_URI
    empty_database(uri)
    yield uri
    if worker_database is None:
        empty_database(uri)


def empty_database(uri: str) -> None:
    engine = create_engine(uri, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def make_app(database_uri, migrated_sqlite):
    """Build apps on the test's database; their connections are closed afterwards.

    The first app on the test's new SQLite database, which it would migrate at start (the
    default), finds a copy of ``migrated_sqlite`` there instead: the same migrations' work,
    and a start about a quarter of a second sooner. (On PostgreSQL each app migrates: a new
    database made from a migrated template per test measured slower than that.)"""
    apps = []

    def make(**config):
        config = {"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                  "SQLALCHEMY_DATABASE_URI": database_uri, "DATABASE_AUTO_UPGRADE": True,
                  **config}
        if (migrated_sqlite is not None and config["DATABASE_AUTO_UPGRADE"] is True
                and config["SQLALCHEMY_DATABASE_URI"] == database_uri):
            path = Path(database_uri.removeprefix("sqlite:///"))
            if not path.exists():
                shutil.copyfile(migrated_sqlite, path)
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def user(app):
    with app.app_context():
        return add_user(USERNAME, PASSWORD).id


@pytest.fixture
def app_with_user(make_app):
    """make_app, adding the user USERNAME (once a test: the database is shared); the
    user's id is on app.user_id."""
    def make(**config):
        app = make_app(**config)
        with app.app_context():
            app.user_id = add_user(USERNAME, PASSWORD).id
        return app
    return make


@pytest.fixture
def token(client, user):
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["access_token"]


def counted(app, counter: str, **labels: str) -> float:
    """What one of an app's metrics (METRICS_ENABLED) has counted with these labels so far in
    this process."""
    metric = app.extensions["jwtauthtest.metrics"].counters[counter]
    metric.labels(**labels)  # (made now, the child starts from what the process counted)
    return sum(sample.value for family in metric.collect() for sample in family.samples
               if sample.name.endswith("_total") and sample.labels == labels)


@pytest.fixture
def mail_server(tmp_path):
    """A real SMTP server (aiosmtpd in its own process) asking for STARTTLS and AUTH, started;
    ``mail_server.config()`` are the settings to reach it (see tests/support/mail_server.py)."""
    from mail_server import MailServer

    server = MailServer(tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()
