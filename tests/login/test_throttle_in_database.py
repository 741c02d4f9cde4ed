"""Login throttling counted in the app's own database: exact across processes, kept across
restarts, cleaned up (issue 10). The servers are the Procfile's, on the test's database."""

import json
import threading
import time

import pytest
from sqlalchemy import insert, select

from jwtauthtest.database import db
from jwtauthtest.models import ThrottleCounter
from jwtauthtest.throttle.counters import DatabaseCounters
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, TEST_DATABASE_URI, USERNAME
from processes import http, run_flask, start_procfile_server, subprocess_env

JSON = {"Content-Type": "application/json"}


def wrong_login(server):
    body = json.dumps({"username": USERNAME, "password": "wrong"})
    status, headers, data = http("POST", server.url + "/auth", body, JSON, timeout=30)
    return status, headers, json.loads(data)


@pytest.fixture
def server_env(tmp_path, database_uri):
    """Two servers' shared environment: the default throttle storage, 10 failures a minute."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri)
    if TEST_DATABASE_URI is not None:  # the operator's step off SQLite
        assert run_flask(env, "db", "upgrade").returncode == 0
    added = run_flask(env, "users", "add", USERNAME, "--password-stdin", input=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    return env


def test_concurrent_failures_in_two_processes_count_exactly_and_outlive_a_restart(server_env):
    with start_procfile_server(server_env, workers=1) as first, \
            start_procfile_server(server_env, workers=1) as second:
        start = threading.Barrier(30, timeout=20)
        statuses = []

        def attempt(server):
            start.wait()  # all 30 in flight together, 15 at each process
            statuses.append(wrong_login(server)[0])

        threads = [threading.Thread(target=attempt, args=(server,))
                   for server in (first, second) for _ in range(15)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        checked = [server.stderr().count('reason="bad password"') for server in (first, second)]
    assert sorted(statuses) == [401] * 10 + [429] * 20
    assert sum(checked) == 10 and all(checked), checked  # both processes checked passwords

    with start_procfile_server(server_env, workers=2) as restarted:
        status, headers, body = wrong_login(restarted)
    assert (status, body["description"]) == (429, "Too many failed logins")
    assert 1 <= int(headers["Retry-After"]) <= 60


def counters(app):
    with app.app_context():
        return {row.key: row.hits for row in db.session.scalars(select(ThrottleCounter))}


def test_a_login_purges_expired_counters_and_keys_hide_names(app, client):
    with app.app_context():
        add_user(USERNAME, PASSWORD)
        db.session.execute(insert(ThrottleCounter), [
            {"key": "LIMITER/old-window", "hits": 7, "expires_at": time.time() - 1}])
        db.session.commit()
    response = client.post("/auth", json={"username": USERNAME, "password": "wrong"})
    assert response.status_code == 401
    rows = counters(app)
    # This attempt, per address and per username: once among failures, once among attempts.
    assert sorted(rows.values()) == [1, 1, 1, 1]
    assert "LIMITER/old-window" not in rows
    assert not any(USERNAME in key for key in rows)


def test_counters_count_in_fixed_windows(app):
    with app.app_context():
        storage = DatabaseCounters(db.engine)
        assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
        assert storage.incr("k", 60, amount=-1) == 2  # a refund
        assert storage.get("k") == 2
        assert time.time() + 58 < storage.get_expiry("k") <= time.time() + 60
        db.session.execute(ThrottleCounter.__table__.update().values(expires_at=time.time() - 1))
        db.session.commit()
        assert storage.get("k") == 0
        assert storage.incr("k", 60, amount=-1) == 0  # no refund into a new window
        assert storage.incr("k", 60) == 1  # the passed window's count is gone
        storage.clear("k")
        assert storage.get("k") == 0
        assert storage.check()
