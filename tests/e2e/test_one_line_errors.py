"""A configuration that can't be used stops every entry point with one line naming what to
change, status 1, no traceback: useradd.py, the flask commands, flask run, the Procfile server."""

import os
import subprocess
import sys

import pytest

from conftest import SECRET
from processes import (
    REPO_ROOT,
    instance_path,
    procfile_command,
    run_flask,
    run_useradd,
    subprocess_env,
)


def refusals(env, server=False):
    """What each entry point prints on stderr, and its exit status. The Procfile server
    (which starts its workers again a few times before it gives up, up to ~20 s on a busy
    machine) only when asked."""
    results = {
        "useradd.py": run_useradd(env, ["--username", "a", "--password-stdin"], "a password\n"),
        "flask users list": run_flask(env, "users", "list"),
        "flask run": run_flask(env, "run", "--port", "0")}
    if server:
        results["Procfile server"] = subprocess.run(
            ["/bin/sh", "-c", "exec " + procfile_command("web")], cwd=REPO_ROOT,
            env={**env, "PORT": "0", "GRANIAN_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1",
                 "PATH": f"{os.path.dirname(sys.executable)}:{env['PATH']}"},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    return results


def assert_one_line(results, message):
    for name, result in results.items():
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout, name
        lines = result.stderr.splitlines()
        # The Procfile server says it once for each worker it tried to start.
        assert lines and set(lines) == {f"Error: {message}"}, (name, result.stderr)


@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_secret_file(tmp_path, content):
    env = subprocess_env(tmp_path)
    secret_file = instance_path(tmp_path) / "secret_key"
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text(content)
    secret_file.chmod(0o600)
    assert_one_line(refusals(env, server=content == ""),
                    f"{secret_file} is empty: delete it to have a new secret made at the next "
                    "start, or write one in it")


def test_a_secret_file_others_can_read(tmp_path):
    env = subprocess_env(tmp_path)
    secret_file = instance_path(tmp_path) / "secret_key"
    secret_file.parent.mkdir()
    secret_file.write_text("c0ffee" * 11 + "\n")
    secret_file.chmod(0o644)
    assert_one_line(refusals(env), f"{secret_file} is readable or writable by others "
                                   f"(mode 644): run chmod 600 {secret_file}")


def test_a_short_secret_in_the_environment(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY="changeme")
    assert_one_line(refusals(env, server=True),
                    "SECRET_KEY is 8 bytes; a signing secret needs at least 32 random bytes, "
                    "e.g. python3 -c 'import secrets; print(secrets.token_hex(32))'")


@pytest.mark.parametrize("uri,message", [
    ("not a url", "SQLALCHEMY_DATABASE_URI is not a database URL, such as sqlite:///path or "
                  "postgresql+psycopg://user:password@host/name"),
    ("mysql://me@127.0.0.1/db", "SQLALCHEMY_DATABASE_URI needs the driver MySQLdb, which "
                                "isn't installed; for PostgreSQL, psycopg 3 is: "
                                "postgresql+psycopg://..."),
    ("nosuchdb://me@host/db", "SQLALCHEMY_DATABASE_URI names a database this app has no driver "
                              "for (Can't load plugin: sqlalchemy.dialects:nosuchdb); use "
                              "sqlite:///... or postgresql+psycopg://..."),
    ("sqlite:////no/such/folder/db.sqlite", "the database sqlite:////no/such/folder/db.sqlite "
                                            "is unreachable (unable to open database file): "
                                            "check SQLALCHEMY_DATABASE_URI"),
])
def test_a_database_url_that_cannot_work(tmp_path, uri, message):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_SQLALCHEMY_DATABASE_URI=uri)
    assert_one_line(refusals(env, server=uri.startswith("sqlite")), message)


def test_a_duration_that_is_not_a_number(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_JWT_EXPIRATION_DELTA="abc")
    assert_one_line(refusals(env), "JWT_EXPIRATION_DELTA must be a number of seconds or a "
                                   "timedelta, not 'abc'")


def test_commands_on_a_database_not_upgraded_yet(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="false")
    expected = ("Error: the database schema is not up to date: run "
                "`flask --app jwtauthtest db upgrade` first\n")
    for args in (["tokens", "purge"], ["users", "list"]):
        result = run_flask(env, *args)
        assert (result.returncode, result.stderr) == (1, expected), args
    useradd = run_useradd(env, ["--username", "a", "--password-stdin"], "a password\n")
    assert (useradd.returncode, useradd.stderr) == (1, expected)


def test_commands_on_an_unreachable_database(tmp_path):
    uri = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"  # the discard port: refused
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_SQLALCHEMY_DATABASE_URI=uri)
    for args in (["tokens", "purge"], ["users", "list"], ["db", "upgrade"]):
        result = run_flask(env, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith(f"Error: the database {uri} is unreachable ("), args
        assert result.stderr.endswith("): check SQLALCHEMY_DATABASE_URI\n"), args
        assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
