"""The login audit log: one line per attempt with outcome, username, address and reason."""

import json
import logging
import subprocess
import sys

import pytest
from passlib.hash import pbkdf2_sha256

from jwtauthtest.database import db
from jwtauthtest.models import User

from conftest import PASSWORD, SECRET, USERNAME
from processes import REPO_ROOT, http, run_flask, start_procfile_server, subprocess_env


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
        'login outcome="success" username="admin" address="198.51.100.4" reason="ok"',
        'login outcome="failure" username="admin" address="198.51.100.4" reason="bad password"',
        'login outcome="failure" username="nobody" address="198.51.100.4" reason="unknown user"',
        'login outcome="failure" username="gone" address="198.51.100.4" reason="disabled"',
        'login outcome="success" username="old" address="198.51.100.4" reason="rehashed"',
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
        'login outcome="throttled" username="admin" address="198.51.100.4" '
        'reason="too many failed logins"')


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
        login(client, 'evil\nlogin outcome="success" username="admin"')
        login(client, 'x" outcome="success')
    lines = audit_lines(caplog)
    assert lines[0] == (f'login outcome="failure" username="{"x" * 64}" '
                        'address="198.51.100.4" reason="unknown user"')
    assert "\n" not in lines[1]
    assert lines[1].startswith(
        'login outcome="failure" username="evil\\nlogin outcome=\\"success\\" username=')
    assert lines[2].startswith('login outcome="failure" username="x\\" outcome=\\"success"')


def test_audit_lines_reach_stderr_without_logging_setup(tmp_path):
    """With no logging configured (as under flask run or granian), the lines still show."""
    script = (
        "from jwtauthtest import create_app\n"
        "from jwtauthtest.users import add_user\n"
        "app = create_app()\n"
        "with app.app_context(): add_user('admin', 'pw-4f9c2a7e')\n"
        "app.test_client().post('/auth', json={'username': 'admin', 'password': 'pw-4f9c2a7e'})\n"
    )
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert 'jwtauthtest.audit: login outcome="success" username="admin" address="127.0.0.1" ' \
        'reason="ok"' in result.stderr
    assert "pw-4f9c2a7e" not in result.stderr


def test_incomplete_credentials_are_logged_too(client, caplog, user):
    with caplog.at_level(logging.INFO):
        client.post("/auth", json={"username": USERNAME})
        client.post("/auth", json={"username": USERNAME, "password": "", "x": 1})
    assert audit_lines(caplog) == [
        'login outcome="failure" username="admin" address="127.0.0.1" '
        'reason="incomplete credentials"'] * 2


def test_json_log_of_a_server_session(tmp_path):
    """LOG_FORMAT=json: every line the server writes is one JSON object, and the session's
    events are exactly these, a hostile username included."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_LOG_FORMAT="json",
                         FLASK_JWT_REFRESH_REUSE_GRACE="0")  # a reuse at once is a theft
    added = run_flask(env, "users", "add", USERNAME, "--password-stdin", input=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    hostile = 'evil\n{"event": "login", "outcome": "success", "username": "admin"}'
    with start_procfile_server(env, workers=1) as server:
        def post(path, body=None, token=None):
            headers = {"Content-Type": "application/json"}
            if token:
                headers["Authorization"] = f"JWT {token}"
            status, _, data = http("POST", server.url + path, json.dumps(body or {}), headers)
            return status, json.loads(data)

        assert post("/auth", {"username": USERNAME, "password": "wrong"})[0] == 401
        assert post("/auth", {"username": hostile, "password": "x"})[0] == 401
        status, tokens = post("/auth", {"username": USERNAME, "password": PASSWORD})
        assert post("/auth/refresh", token=tokens["refresh_token"])[0] == 200
        assert post("/auth/refresh", token=tokens["refresh_token"])[0] == 401  # reused
        status, tokens = post("/auth", {"username": USERNAME, "password": PASSWORD})
        assert post("/auth/logout", token=tokens["access_token"])[0] == 200
        server.stop()
        lines = server.stderr().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses
    assert all({"ts", "level", "logger", "event"} <= set(r) for r in records)
    events = [{k: v for k, v in r.items() if k not in ("ts", "user_id")} for r in records]
    assert events == [
        {"level": "WARNING", "logger": "jwtauthtest.audit", "event": "login",
         "outcome": "failure", "username": USERNAME, "address": "127.0.0.1",
         "reason": "bad password"},
        {"level": "WARNING", "logger": "jwtauthtest.audit", "event": "login",
         "outcome": "failure", "username": hostile[:64], "address": "127.0.0.1",
         "reason": "unknown user"},
        {"level": "INFO", "logger": "jwtauthtest.audit", "event": "login",
         "outcome": "success", "username": USERNAME, "address": "127.0.0.1", "reason": "ok"},
        {"level": "WARNING", "logger": "jwtauthtest.audit", "event": "refresh_reuse",
         "address": "127.0.0.1"},
        {"level": "INFO", "logger": "jwtauthtest.audit", "event": "login",
         "outcome": "success", "username": USERNAME, "address": "127.0.0.1", "reason": "ok"},
        {"level": "INFO", "logger": "jwtauthtest.audit", "event": "logout",
         "address": "127.0.0.1"},
    ]
    assert all(r["user_id"] == 1 for r in records if r["event"] in ("refresh_reuse", "logout"))


def test_json_log_of_a_command(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_LOG_FORMAT="json")
    run_flask(env, "users", "add", USERNAME, "--password-stdin", input=PASSWORD + "\n")
    changed = run_flask(env, "users", "passwd", USERNAME, "--password-stdin", input="new pw 2\n")
    assert changed.returncode == 0
    record = json.loads(changed.stderr)
    assert {k: v for k, v in record.items() if k != "ts"} == {
        "level": "INFO", "logger": "jwtauthtest.audit", "event": "password_change",
        "username": USERNAME, "sessions": 0, "passkeys_removed": 0}


def test_an_unknown_log_format_is_refused(make_app):
    with pytest.raises(ValueError, match="^LOG_FORMAT must be text or json, not 'xml'$"):
        make_app(LOG_FORMAT="xml")
