"""Schema migrations: new databases, the tutorial's original table, staying in step (issue 6)."""

import logging
import re
import secrets
import sqlite3
import subprocess
import sys
from contextlib import contextmanager

import alembic.command
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from passlib.hash import pbkdf2_sha256, sha512_crypt
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.schema import migrate

from conftest import FAST_HASHING, SECRET, TEST_DATABASE_URI
from processes import REPO_ROOT, run_flask, subprocess_env

TUTORIAL_SCHEMA = """
CREATE TABLE users (
    id INTEGER NOT NULL,
    username VARCHAR(32),
    password VARCHAR(128),
    PRIMARY KEY (id)
);
CREATE INDEX ix_users_username ON users (username);
"""


def tutorial_database(path, users):
    """A database as the tutorial's original code left it."""
    connection = sqlite3.connect(path)
    connection.executescript(TUTORIAL_SCHEMA)
    connection.executemany("INSERT INTO users (username, password) VALUES (?, ?)", users)
    connection.commit()
    connection.close()


def rows(path):
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT id, username, password FROM users ORDER BY id").fetchall()
    finally:
        connection.close()


def make_app(path, **config):
    return create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **config})


def test_migrations_build_exactly_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_flask_db_upgrade_upgrades_the_tutorial_database_in_place(tmp_path):
    path = tmp_path / "tutorial.sqlite"
    old = [("admin", pbkdf2_sha256.hash("mysupersecretpassword")),
           ("bob", sha512_crypt.hash("bobs password"))]
    tutorial_database(path, old)
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                         FLASK_DATABASE_AUTO_UPGRADE="false")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "jwtauthtest", "db",
                             "upgrade"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert rows(path) == [(1, "admin", old[0][1]), (2, "bob", old[1][1])]

    app = make_app(path)
    with app.app_context(), db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
    client = app.test_client()
    response = client.post("/auth", json={"username": "admin",
                                          "password": "mysupersecretpassword"})
    assert response.status_code == 200
    response = client.post("/auth", json={"username": "BOB", "password": "bobs password"})
    assert response.status_code == 200
    assert all(h.startswith("$argon2id$") for _, _, h in rows(path))


def test_first_start_upgrades_a_sqlite_database_by_itself(tmp_path):
    path = tmp_path / "tutorial.sqlite"
    tutorial_database(path, [("admin", pbkdf2_sha256.hash("pw"))])
    client = make_app(path).test_client()
    assert client.post("/auth", json={"username": "admin", "password": "pw"}).status_code == 200


def test_usernames_that_collide_after_normalising_stop_the_upgrade(tmp_path):
    path = tmp_path / "tutorial.sqlite"
    tutorial_database(path, [("Admin", "x"), ("admin", "y"), ("ｂｏｂ", "z"), ("bob", "w")])
    with pytest.raises(RuntimeError, match=r"these usernames differ only in case or Unicode "
                       r"form and must be renamed or deleted before upgrading: 'Admin' \(id 1\), "
                       r"'admin' \(id 2\); 'ｂｏｂ' \(id 3\), 'bob' \(id 4\)"):
        make_app(path)
    assert [name for _, name, _ in rows(path)] == ["Admin", "admin", "ｂｏｂ", "bob"]


def test_an_outdated_schema_is_reported_when_upgrading_is_the_operators_job(tmp_path, caplog):
    path = tmp_path / "tutorial.sqlite"
    tutorial_database(path, [])
    with caplog.at_level(logging.WARNING):
        make_app(path, DATABASE_AUTO_UPGRADE=False)
    assert "The database schema is not up to date: run `flask --app jwtauthtest db upgrade`" \
        in caplog.text


@pytest.mark.skipif(TEST_DATABASE_URI is not None, reason="SQLite only; TEST_DATABASE_URI is set")
def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_outdated_schema_fails_health_and_commands_cleanly(tmp_path):
    """Before `flask db upgrade` (the operator's job off SQLite): 503 from /healthz so a load
    balancer keeps traffic away, one-line errors from the commands, no noise from db upgrade."""
    path = tmp_path / "tutorial.sqlite"
    tutorial_database(path, [])
    client = make_app(path, DATABASE_AUTO_UPGRADE=False).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["description"] == "The database schema is not up to date"

    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                         FLASK_DATABASE_AUTO_UPGRADE="false")
    expected = ("Error: the database schema is not up to date: run "
                "`flask --app jwtauthtest db upgrade` first\n")
    for argv, stdin in [(["useradd.py", "--username", "a", "--password-stdin"], "pw\n"),
                        (["-m", "flask", "--app", "jwtauthtest", "users", "list"], None)]:
        result = subprocess.run([sys.executable, *argv], cwd=REPO_ROOT, env=env, input=stdin,
                                capture_output=True, text=True, timeout=60)
        assert (result.returncode, result.stderr) == (1, expected), argv
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "jwtauthtest", "db",
                             "upgrade"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert client.get("/healthz").status_code == 200


def test_flask_db_upgrade_says_what_it_did(tmp_path):
    path = tmp_path / "new.sqlite"
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}",
                         FLASK_DATABASE_AUTO_UPGRADE="false")
    first = run_flask(env, "db", "upgrade")
    assert (first.returncode, first.stderr) == (0, "")
    steps = [("an empty database", "0001"), ("0001", "0002"), ("0002", "0003"), ("0003", "0004"),
             ("0004", "0005"), ("0005", "0006"),
             ("0006", "0007"), ("0007", "0008"), ("0008", "0009"), ("0009", "0010"),
             ("0010", "0011"), ("0011", "0012"), ("0012", "0013"), ("0013", "0014"),
             ("0014", "0015"), ("0015", "0016")]
    lines = first.stdout.splitlines()
    assert len(lines) == len(steps)
    for line, (source, destination) in zip(lines, steps, strict=True):
        assert line.startswith(f"Upgraded sqlite:///{path} from {source} to {destination}: ")
    again = run_flask(env, "db", "upgrade")
    assert (again.returncode, again.stdout) == (
        0, f"sqlite:///{path} is already at 0016: nothing to do\n")



@contextmanager
def postgresql_names(*names):
    """Databases and roles made by a test on TEST_DATABASE_URI's server, dropped after."""
    server = create_engine(make_url(TEST_DATABASE_URI), isolation_level="AUTOCOMMIT",
                           poolclass=NullPool)
    try:
        yield
    finally:
        with server.connect() as connection:
            for name in names:
                kind = "ROLE" if name.startswith("role_") else "DATABASE"
                force = " WITH (FORCE)" if kind == "DATABASE" else ""
                connection.execute(text(f'DROP {kind} IF EXISTS "{name}"{force}'))
        server.dispose()


def run_as(url, *args, tmp_path):
    return run_flask(subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                                    FLASK_SQLALCHEMY_DATABASE_URI=url), *args)


NEEDS_POSTGRESQL = pytest.mark.skipif(
    TEST_DATABASE_URI is None, reason="needs a PostgreSQL server: TEST_DATABASE_URI is not set")


@NEEDS_POSTGRESQL
def test_flask_db_upgrade_creates_a_missing_postgresql_database(tmp_path):
    name = f"jwtauthtest_new_{secrets.token_hex(4)}"
    url = make_url(TEST_DATABASE_URI).set(database=name).render_as_string(hide_password=False)
    with postgresql_names(name):
        result = run_as(url, "db", "upgrade", tmp_path=tmp_path)
        assert (result.returncode, result.stderr) == (0, ""), result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == f"Created the database {make_url(url).render_as_string()}"
        assert lines[-1].startswith(f"Upgraded {make_url(url).render_as_string()} from 0015 to "
                                    "0016: ")
        assert run_as(url, "users", "list", tmp_path=tmp_path).returncode == 0


@NEEDS_POSTGRESQL
def test_flask_db_upgrade_names_createdb_when_the_user_may_not_create_it(tmp_path):
    name, role = f"jwtauthtest_new_{secrets.token_hex(4)}", f"role_{secrets.token_hex(4)}"
    base = make_url(TEST_DATABASE_URI)
    with postgresql_names(name, role):
        with create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool).connect() \
                as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))  # NOCREATEDB
        url = base.set(username=role, password=None, database=name)
        result = run_as(url.render_as_string(hide_password=False), "db", "upgrade",
                        tmp_path=tmp_path)
        command = f"createdb -h {url.host} -p {url.port} -O {role} {name}"
        assert (result.returncode, result.stdout, result.stderr) == (1, "", (
            f"Error: the database {name} does not exist and could not be created (permission "
            f"denied to create database): create it with `{command}` as a user who may, then "
            "try again\n"))


@NEEDS_POSTGRESQL
@pytest.mark.parametrize("allowed", [True, False], ids=["created", "refused"])
def test_the_suite_makes_a_missing_test_database_or_says_in_one_line_why_not(tmp_path,
                                                                             allowed):
    name, role = f"jwtauthtest_new_{secrets.token_hex(4)}", f"role_{secrets.token_hex(4)}"
    base = make_url(TEST_DATABASE_URI)
    with postgresql_names(name, role):
        with create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool).connect() \
                as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN {"CREATEDB" if allowed else ""}'))
        url = base.set(username=role, password=None, database=name)
        # A pytest of its own, not an xdist worker's (this one may be one: PYTEST_XDIST_*).
        env = {name: value for name, value in subprocess_env(tmp_path).items()
               if not name.startswith("PYTEST_")}
        env["TEST_DATABASE_URI"] = url.render_as_string(hide_password=False)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-p", "no:cacheprovider",
             "tests/app/test_log_lines.py::test_in_json_only_an_unexpected_exception_carries_a_"
             "traceback"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
        if allowed:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "1 passed" in result.stdout
            with create_engine(base, poolclass=NullPool).connect() as connection:
                assert connection.scalar(text("SELECT count(*) FROM pg_database WHERE "
                                              "datname = :name"), {"name": name}) == 1
        else:
            assert result.returncode == 4, result.stdout + result.stderr
            assert result.stderr.strip().splitlines() == [
                f"ERROR: TEST_DATABASE_URI: the database {name} does not exist and could not be "
                f"created (permission denied to create database): create it with `createdb -h "
                f"{url.host} -p {url.port} -O {role} {name}` as a user who may, then try again"]


def test_the_manuals_migration_example_is_the_newest_step():
    """docs/deploying.md quotes `flask db upgrade`'s output: its example is the last migration."""
    from jwtauthtest.schema import newest

    readme = (REPO_ROOT / "docs" / "deploying.md").read_text(encoding="utf-8")
    [head] = newest()
    [previous] = {step.down_revision for step in
                  ScriptDirectory(str(REPO_ROOT / "migrations")).walk_revisions()
                  if step.revision == head}
    assert f"from {previous} to {head}: " in readme
    assert f"is already at {head}: nothing to do" in readme
    assert re.findall(r"is already at (\d{4})", readme) == [head]


def test_0012_counts_passkeys_as_added_with_the_second_factor_only_if_it_came_first(tmp_path):
    """Passkeys made before 0012 recorded nothing of how they were added: those made before
    their user turned the second factor on (or by a user without one) go at the next
    lock-down, as if added with the password alone."""
    app = make_app(tmp_path / "old.sqlite", DATABASE_AUTO_UPGRADE=False)
    with app.app_context():
        alembic.command.upgrade(migrate.get_config(), "0011")
        for statement in (
                "INSERT INTO users (id, username, username_key, password) VALUES "
                "(1, 'ann', 'ann', 'x'), (2, 'bob', 'bob', 'x')",
                "INSERT INTO second_factors (user_id, secret, created_at, enabled_at, "
                "failures, failures_since) VALUES (1, 's', 90, 100, 3, 1234.5)",
                "INSERT INTO passkeys (id, user_id, user_handle, public_key, sign_count, "
                "transports, name, created_at) VALUES "
                "('p1', 1, 'h', 'k', 0, '[]', 'before', 50), "
                "('p2', 1, 'h', 'k', 0, '[]', 'after', 150), "
                "('p3', 2, 'h', 'k', 0, '[]', 'no factor', 150)"):
            db.session.execute(text(statement))
        db.session.commit()
        alembic.command.upgrade(migrate.get_config(), "0012")
        assert db.session.execute(text(
            "SELECT name, with_second_factor FROM passkeys ORDER BY id")).all() == [
            ("before", False), ("after", True), ("no factor", False)]
        assert db.session.execute(text(
            "SELECT failures, last_failure_at FROM second_factors")).all() == [(3, 1234.5)]
        db.engine.dispose()


def test_0013_keeps_the_users_moments_in_epoch_seconds_and_back(tmp_path):
    app = make_app(tmp_path / "old.sqlite", DATABASE_AUTO_UPGRADE=False)
    with app.app_context():
        alembic.command.upgrade(migrate.get_config(), "0012")
        db.session.execute(text(
            "INSERT INTO users (id, username, username_key, password, created_at, "
            "last_login_at) VALUES (1, 'ann', 'ann', 'x', '2026-11-29 10:02:11.250000', "
            "NULL), (2, 'bob', 'bob', 'x', '2026-12-01 00:00:00.000000', "
            "'2026-12-06 01:18:08.500000')"))
        db.session.commit()
        alembic.command.upgrade(migrate.get_config(), "0013")
        assert db.session.execute(text(
            "SELECT id, created_at, last_login_at FROM users ORDER BY id")).all() == [
            (1, 1795946531.25, None), (2, 1796083200.0, 1796519888.5)]
        alembic.command.downgrade(migrate.get_config(), "0012")
        assert db.session.execute(text(
            "SELECT created_at, last_login_at FROM users ORDER BY id")).all() == [
            ("2026-11-29 10:02:11.250000", None),
            ("2026-12-01 00:00:00.000000", "2026-12-06 01:18:08.500000")]
        db.engine.dispose()


def test_each_migration_is_named_by_a_whole_sentence(app):
    """Alembic logs a migration's first docstring line as it runs it ("Running upgrade 0013
    -> 0014, ..."): that line must say all it starts to say."""
    with app.app_context():
        scripts = list(ScriptDirectory.from_config(migrate.get_config()).walk_revisions())
    assert len(scripts) >= 15
    for script in scripts:
        assert re.fullmatch(r"[A-Z].*\.", script.doc), (script.revision, script.doc)


def test_0016_keeps_the_links_and_its_downgrade_keeps_each_users_newest(tmp_path):
    app = make_app(tmp_path / "old.sqlite", DATABASE_AUTO_UPGRADE=False)
    add_links = text("INSERT INTO email_links (user_id, purpose, digest, tokens_valid_after, "
                     "expires_at) VALUES (1, :purpose, :digest, 0, :expires_at)")
    links = text("SELECT digest, purpose FROM email_links ORDER BY digest")
    with app.app_context():
        alembic.command.upgrade(migrate.get_config(), "0015")
        db.session.execute(text("INSERT INTO users (id, username, username_key, password) "
                                "VALUES (1, 'ann', 'ann', 'x')"))
        db.session.execute(add_links, [{"purpose": "reset", "digest": "r1", "expires_at": 100},
                                       {"purpose": "confirm", "digest": "c1", "expires_at": 100}])
        db.session.commit()
        alembic.command.upgrade(migrate.get_config(), "0016")
        assert db.session.execute(links).all() == [("c1", "confirm"), ("r1", "reset")]
        db.session.execute(add_links, [{"purpose": "reset", "digest": "r2", "expires_at": 300},
                                       {"purpose": "reset", "digest": "r3", "expires_at": 200}])
        db.session.commit()
        alembic.command.downgrade(migrate.get_config(), "0015")
        assert db.session.execute(links).all() == [("c1", "confirm"), ("r2", "reset")]
        db.engine.dispose()
