"""useradd.py as the operator runs it: a real process, real stdin, a real terminal."""

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.users import add_user

from conftest import FAST_HASHING, PASSWORD, SECRET, USERNAME
from processes import (
    REPO_ROOT,
    PtyProcess,
    instance_path,
    run_flask,
    run_useradd,
    subprocess_env,
)

STDIN = ["--username", USERNAME, "--password-stdin"]


def default_database(tmp_path: Path) -> Path:
    return instance_path(tmp_path) / "jwtauthtest.sqlite"


def user_rows(database: Path) -> list[tuple[int, str, str]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(
            "SELECT id, username, password FROM users ORDER BY id").fetchall()


def login_status(database: Path, password: str) -> int:
    """POST /auth as admin against this database, in this process: 200 or 401."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", **FAST_HASHING})
    try:
        response = app.test_client().post(
            "/auth", json={"username": USERNAME, "password": password})
        return response.status_code
    finally:
        with app.app_context():
            db.engine.dispose()


def seed_user(database: Path, username: str, password: str) -> None:
    """Set-up: store a user in this process, the way useradd.py does."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", **FAST_HASHING})
    try:
        with app.app_context():
            add_user(username, password)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_adds_user_from_stdin(tmp_path):
    env = subprocess_env(tmp_path)
    database = default_database(tmp_path)

    result = run_useradd(env, STDIN, PASSWORD + "\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Added user 'admin' (id 1) to sqlite:///{database}\n"
    [(user_id, username, password_hash)] = user_rows(database)
    assert (user_id, username) == (1, "admin")
    # argon2id with the parameters the environment asked for; never the password itself
    assert password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert PASSWORD not in password_hash
    assert PASSWORD not in result.stdout
    assert result.stderr == ""  # the first user: no "No users yet" hint from a tool
    assert login_status(database, PASSWORD) == 200
    assert login_status(database, "not-the-password") == 401


def test_duplicate_username_is_refused(tmp_path):
    seed_user(default_database(tmp_path), USERNAME, PASSWORD)
    before = user_rows(default_database(tmp_path))

    result = run_useradd(subprocess_env(tmp_path), STDIN, "another-password\n")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "Error: user already exists: admin\n"
    assert user_rows(default_database(tmp_path)) == before  # same row, same hash


@pytest.mark.parametrize(("args", "stdin", "error"), [
    (STDIN, "\n", "Error: password must not be empty"),
    (["--username", "", "--password-stdin"], PASSWORD + "\n",
     "Error: username must not be empty"),
], ids=["empty-password", "empty-username"])
def test_empty_value_is_refused(tmp_path, args, stdin, error):
    result = run_useradd(subprocess_env(tmp_path), args, stdin)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == error + "\n"
    assert user_rows(default_database(tmp_path)) == []


def test_creates_tables_when_database_does_not_exist(tmp_path):
    database = tmp_path / "data" / "new.sqlite"
    database.parent.mkdir()
    env = subprocess_env(tmp_path, FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    assert not database.exists()

    result = run_useradd(env, STDIN, PASSWORD + "\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Added user 'admin' (id 1) to sqlite:///{database}\n"
    with closing(sqlite3.connect(database)) as connection:
        tables = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {row[1] for row in connection.execute("PRAGMA table_info(users)")}
    assert "users" in tables
    assert {"id", "username", "password"} <= columns
    assert [(i, name) for i, name, _ in user_rows(database)] == [(1, "admin")]
    assert not default_database(tmp_path).exists()  # the configured database, not the default


@pytest.mark.parametrize(("name", "value", "error"), [
    ("FLASK_SECRET_KEY", "short", "Error: SECRET_KEY is 5 bytes"),
    # counted in bytes, not characters
    ("FLASK_JWT_SECRET_KEY", "é" * 3, "Error: JWT_SECRET_KEY is 6 bytes"),
], ids=["secret-key", "jwt-secret-key"])
def test_weak_secret_is_one_line_error(tmp_path, name, value, error):
    env = subprocess_env(tmp_path, **{name: value})

    result = run_useradd(env, STDIN, PASSWORD + "\n")

    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(error + "; a signing secret needs at least 32 random bytes")
    assert "Traceback" not in result.stderr
    assert not default_database(tmp_path).exists()  # refused before touching the database
    assert not (instance_path(tmp_path) / "secret_key").exists()


def spawn_useradd(tmp_path: Path) -> PtyProcess:
    env = subprocess_env(tmp_path, TERM="dumb")
    return PtyProcess([sys.executable, "useradd.py"], env, REPO_ROOT)


def test_interactive_prompts_hide_the_password(tmp_path):
    with spawn_useradd(tmp_path) as terminal:
        terminal.expect("Username: ")
        terminal.send(USERNAME + "\n")
        terminal.expect("Password: ")
        terminal.send(PASSWORD + "\n")
        terminal.expect("Repeat for confirmation: ")
        terminal.send(PASSWORD + "\n")
        assert terminal.wait() == 0
        shown = terminal.output.decode()

    database = default_database(tmp_path)
    # All the terminal showed: the username is echoed, the password never is.
    assert shown == ("Username: admin\r\n"
                     "Password: \r\n"
                     "Repeat for confirmation: \r\n"
                     f"Added user 'admin' (id 1) to sqlite:///{database}\r\n")
    assert PASSWORD not in shown
    [(user_id, username, password_hash)] = user_rows(database)
    assert (user_id, username) == (1, "admin")
    assert password_hash.startswith("$argon2id$")


def test_interactive_mismatched_confirmation_asks_again(tmp_path):
    with spawn_useradd(tmp_path) as terminal:
        terminal.expect("Username: ")
        terminal.send(USERNAME + "\n")
        terminal.expect("Password: ")
        terminal.send("first-attempt-password\n")
        terminal.expect("Repeat for confirmation: ")
        terminal.send("typo-attempt-password\n")
        # click says so and starts over with the first prompt
        assert terminal.expect("Password: ") == (
            "\r\nError: The two entered values do not match.\r\nPassword: ")
        terminal.send(PASSWORD + "\n")
        terminal.expect("Repeat for confirmation: ")
        terminal.send(PASSWORD + "\n")
        assert terminal.wait() == 0
        shown = terminal.output.decode()

    for password in ("first-attempt-password", "typo-attempt-password", PASSWORD):
        assert password not in shown
    assert shown.count("Error:") == 1
    database = default_database(tmp_path)
    assert [(i, name) for i, name, _ in user_rows(database)] == [(1, "admin")]
    assert login_status(database, PASSWORD) == 200  # the confirmed password was stored
    assert login_status(database, "first-attempt-password") == 401


def test_an_existing_user_is_refused_before_the_password_is_asked_for(tmp_path):
    seed_user(default_database(tmp_path), USERNAME, PASSWORD)
    with spawn_useradd(tmp_path) as terminal:
        terminal.expect("Username: ")
        terminal.send("ADMIN\n")  # another spelling of the same name
        assert terminal.wait() == 1
        shown = terminal.output.decode()
    assert shown == "Username: ADMIN\r\nError: user already exists: admin\r\n"


@pytest.mark.parametrize("command", [["python", "useradd.py", "--username", "bob"],
                                     ["flask", "users", "add", "bob"]])
def test_without_a_terminal_or_password_stdin_it_says_so_in_one_line(tmp_path, command):
    """getpass would warn (GetPassWarning) and read the password from stdin, shown."""
    run = (run_useradd(subprocess_env(tmp_path), command[2:]) if command[0] == "python"
           else run_flask(subprocess_env(tmp_path), *command[1:]))
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == ("Error: there is no terminal to ask for the password on: give it on "
                          "standard input with --password-stdin\n")
    assert user_rows(default_database(tmp_path)) == []


def test_outside_the_projects_environment_it_says_how_to_run_it(tmp_path):
    """A Python without the project's packages (here: this one without its site-packages,
    as a bare `python useradd.py` outside `pipenv shell` is): one line, status 1."""
    result = subprocess.run([sys.executable, "-S", "useradd.py", *STDIN], cwd=REPO_ROOT,
                            env=subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET),
                            input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: No module named 'click' in {sys.executable}: run `./pipenv run "
        "python useradd.py` in the checkout (after `./pipenv sync`)\n")
    assert not default_database(tmp_path).exists()
