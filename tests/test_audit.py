"""The login audit log: one line per attempt with outcome, username, address and reason."""

import logging
import subprocess
import sys

from passlib.hash import pbkdf2_sha256

from jwtauthtest.database import db
from jwtauthtest.models import User

from conftest import PASSWORD, SECRET, USERNAME
from processes import REPO_ROOT, subprocess_env


def login(client, username=USERNAME, password=PASSWORD):
    return client.post("/auth", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": "198.51.100.4"})


def audit_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "jwtauthtest.audit"]


def test_each_outcome_is_one_line(app, client, caplog, user):
    with app.app_context():
        db.session.add(User(username="old", password=pbkdf2_sha256.hash(PASSWORD)))
        db.session.add(User(username="gone", password=pbkdf2_sha256.hash(PASSWORD), active=False))
        db.session.commit()
    with caplog.at_level(logging.INFO):
        login(client)
        login(client, password="wrong-guess")
        login(client, "nobody")
        login(client, "gone")
        login(client, "old")
    assert audit_lines(caplog) == [
        "login succeeded: username='admin' address=198.51.100.4 reason=ok",
        "login failed: username='admin' address=198.51.100.4 reason=bad password",
        "login failed: username='nobody' address=198.51.100.4 reason=unknown user",
        "login failed: username='gone' address=198.51.100.4 reason=disabled",
        "login succeeded: username='old' address=198.51.100.4 reason=rehashed",
    ]
    levels = [r.levelno for r in caplog.records if r.name == "jwtauthtest.audit"]
    assert levels == [logging.INFO, logging.WARNING, logging.WARNING, logging.WARNING,
                      logging.INFO]


def test_throttled_attempt_is_logged(make_app, user, caplog):
    client = make_app(RATELIMIT_LOGIN_FAILURES="1 per minute").test_client()
    with caplog.at_level(logging.INFO):
        login(client, password="wrong")
        assert login(client).status_code == 429
    assert audit_lines(caplog)[-1] == (
        "login failed: username='admin' address=198.51.100.4 reason=throttled")


def test_passwords_and_tokens_never_reach_the_log(app, client, caplog, user):
    secret_guess = "hunter2-never-log-me"
    with caplog.at_level(logging.DEBUG):
        token = login(client).get_json()["access_token"]
        login(client, password=secret_guess)
        login(client, "nobody", secret_guess)
        client.get("/hello", headers={"Authorization": f"JWT {token}"})
        client.get("/hello", headers={"Authorization": f"JWT {token}x"})
    assert len(audit_lines(caplog)) == 3
    assert PASSWORD not in caplog.text
    assert secret_guess not in caplog.text
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text


def test_username_is_truncated_and_cannot_forge_lines(client, caplog, user):
    with caplog.at_level(logging.INFO):
        login(client, "x" * 100)
        login(client, "evil\nlogin succeeded: username='admin'")
    lines = audit_lines(caplog)
    assert lines[0] == f"login failed: username='{'x' * 64}' address=198.51.100.4 " \
                       "reason=unknown user"
    assert "\n" not in lines[1]
    assert lines[1].startswith('login failed: username="evil\\nlogin succeeded')


def test_audit_lines_reach_stderr_without_logging_setup(tmp_path):
    """With no logging configured (as under flask run or granian), the lines still show."""
    script = (
        "from jwtauthtest import create_app\n"
        "from jwtauthtest.users import add_user\n"
        "app = create_app()\n"
        "with app.app_context(): add_user('admin', 'pw')\n"
        "app.test_client().post('/auth', json={'username': 'admin', 'password': 'pw'})\n"
    )
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "login succeeded: username='admin' address=127.0.0.1 reason=ok" in result.stderr
    assert "'pw'" not in result.stderr


def test_incomplete_credentials_are_logged_too(client, caplog, user):
    with caplog.at_level(logging.INFO):
        client.post("/auth", json={"username": USERNAME})
        client.post("/auth", json={"username": USERNAME, "password": "", "x": 1})
    assert audit_lines(caplog) == [
        "login failed: username='admin' address=127.0.0.1 reason=incomplete credentials"] * 2
