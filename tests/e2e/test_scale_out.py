"""Several Procfile servers on one PostgreSQL and one Redis, and their outages (issue 6).

These run when TEST_DATABASE_URI (PostgreSQL) and TEST_REDIS_URL are given, as .ci/run does.
"""

import json
import logging
import os
import shutil
import subprocess
import time
import uuid

import pytest
from sqlalchemy import make_url

from conftest import SECRET, TEST_DATABASE_URI
from forwarder import Forwarder, PostgresMessages
from processes import free_port, http, run_flask, start_procfile_server, subprocess_env

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_postgres = pytest.mark.skipif(
    TEST_DATABASE_URI is None or not TEST_DATABASE_URI.startswith("postgresql"),
    reason="TEST_DATABASE_URI does not name a PostgreSQL database")
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="TEST_REDIS_URL is not set")
PASSWORD = "correct horse battery staple"


def post_json(server, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"JWT {token}"
    status, _, data = http("POST", server.url + path, json.dumps(body or {}), headers)
    return status, json.loads(data) if data else None


def get(server, path, token=None):
    headers = {"Authorization": f"JWT {token}"} if token else {}
    status, _, data = http("GET", server.url + path, headers=headers)
    return status, data


def login(server, username="alice", password=PASSWORD):
    return post_json(server, "/auth", {"username": username, "password": password})


@pytest.fixture
def deployed_env(tmp_path, database_uri):
    """The environment of a deployment: shared secret, database, Redis; schema upgraded
    with the documented deploy step."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_RATELIMIT_STORAGE_URI=REDIS_URL or "memory://",
                         FLASK_RATELIMIT_KEY_PREFIX=f"scale-{uuid.uuid4().hex}",
                         FLASK_RATELIMIT_LOGIN_FAILURES="4 per minute")
    result = run_flask(env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    return env


@needs_postgres
@needs_redis
def test_two_instances_share_users_revocation_and_throttling(deployed_env):
    added = run_flask(deployed_env, "users", "add", "alice", "--password-stdin",
                      input=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    with start_procfile_server(deployed_env) as a, \
            start_procfile_server(deployed_env) as b:
        # A user added with flask users add is accepted by both.
        for server in (a, b):
            assert login(server)[0] == 200
        # A token from A works on B.
        status, tokens = login(a)
        assert get(b, "/hello", tokens["access_token"]) == (200, b"Hello world!")
        # A logout on A is refused on B on the next request.
        assert post_json(a, "/auth/logout", token=tokens["access_token"])[0] == 200
        status, body = get(b, "/hello", tokens["access_token"])
        assert status == 401
        assert json.loads(body)["description"] == "Token has been revoked"
        # flask users passwd refuses earlier tokens on both.
        status, tokens = login(b)
        changed = run_flask(deployed_env, "users", "passwd", "alice", "--password-stdin",
                        input="a new password\n")
        assert changed.returncode == 0, changed.stderr
        for server in (a, b):
            status, body = get(server, "/hello", tokens["access_token"])
            assert (status, json.loads(body)["description"]) == (401, "Token has been revoked")
        # Failed logins on A and B add up to one throttle (4 a minute).
        for server in (a, b, a, b):
            assert login(server, password="wrong")[0] == 401
        for server in (a, b):
            status, body = login(server, password="a new password")
            assert status == 429 and body["error"] == "Too Many Requests"


def through_forwarder(deployed_env, watch=None):
    """A forwarder to the deployment's PostgreSQL, and the deployment's environment using it
    (unencrypted, so that a watch can read it); the user alice added through it."""
    url = make_url(deployed_env["FLASK_SQLALCHEMY_DATABASE_URI"])
    forwarder = Forwarder((url.host or "127.0.0.1", url.port or 5432), watch=watch)
    proxied = url.set(host="127.0.0.1", port=forwarder.port,
                      query={**url.query, "sslmode": "disable", "gssencmode": "disable"})
    env = {**deployed_env,
           "FLASK_SQLALCHEMY_DATABASE_URI": proxied.render_as_string(hide_password=False)}
    added = run_flask(env, "users", "add", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    return forwarder, env


@needs_postgres
def test_database_outage_is_503_fast_and_recovers(deployed_env):
    forwarder, env = through_forwarder(deployed_env)
    try:
        with start_procfile_server(env, workers=1) as server:
            status, tokens = login(server)
            assert status == 200
            for outage in (forwarder.cut, forwarder.blackhole):
                outage()
                for method, path, body in [("GET", "/healthz", None),
                                           ("POST", "/auth", {"username": "alice",
                                                              "password": PASSWORD}),
                                           ("GET", "/hello", None)]:
                    started = time.monotonic()
                    status, _, data = http(method, server.url + path,
                                           json.dumps(body) if body else None,
                                           {"Content-Type": "application/json",
                                            "Authorization": f"JWT {tokens['access_token']}"},
                                           timeout=15)
                    elapsed = time.monotonic() - started
                    assert status == 503, (outage.__name__, path, data)
                    assert json.loads(data)["error"] == "Service Unavailable"
                    assert elapsed < 5, (outage.__name__, path, elapsed)
                forwarder.restore()
                # Back without restarting the app: dropped connections are replaced.
                assert get(server, "/healthz") == (200, b'{"status":"ok"}\n')
                assert get(server, "/hello", tokens["access_token"]) == (200, b"Hello world!")
            assert "Traceback" not in server.stderr()
    finally:
        forwarder.close()


@needs_postgres
def test_a_protected_request_is_one_round_trip_and_outlives_dropped_connections(deployed_env):
    """No ping before the query, no BEGIN, no ROLLBACK when the connection goes back: the
    statements the server sees, read off the wire."""
    messages = PostgresMessages()
    forwarder, env = through_forwarder(deployed_env, watch=messages)
    try:
        with start_procfile_server(env, workers=1) as server:
            status, tokens = login(server)
            assert status == 200
            hello = (200, b"Hello world!")
            for _ in range(10):  # the pool's connection, the driver's prepared statement
                assert get(server, "/hello", tokens["access_token"]) == hello
            before = messages.snapshot()
            for _ in range(20):
                assert get(server, "/hello", tokens["access_token"]) == hello
            sent = messages.snapshot() - before
            assert (PostgresMessages.statements(sent), PostgresMessages.round_trips(sent)) \
                == (20, 20), sent
            forwarder.restore()  # every connection dropped, as by a database restart
            assert get(server, "/hello", tokens["access_token"]) == hello  # run again on a new one
            assert "Traceback" not in server.stderr()
    finally:
        forwarder.close()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_redis_outage_falls_back_to_memory_and_recovers(make_app, tmp_path, caplog):
    import redis

    port = free_port()
    redis_server = start_redis(port, tmp_path)
    try:
        app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}",
                       RATELIMIT_LOGIN_FAILURES="3 per minute")
        from jwtauthtest.users import add_user

        with app.app_context():
            add_user("alice", PASSWORD)
        client = app.test_client()

        def attempt(password):
            return client.post("/auth", json={"username": "alice", "password": password})

        assert attempt("wrong").status_code == 401
        assert redis.Redis(port=port).keys("*"), "counters live in Redis"
        stop(redis_server)
        caplog.set_level(logging.INFO, logger="jwtauthtest.throttle")
        assert attempt(PASSWORD).status_code == 200  # logins keep working
        for _ in range(3):
            assert attempt("wrong").status_code == 401
        assert attempt("wrong").status_code == 429  # throttled in memory meanwhile
        assert throttle_lines(caplog) == [
            ("WARNING", "Throttle storage failed (Error 111 connecting to "
                        f"127.0.0.1:{port}. Connection refused.): counting in this process's "
                        "memory until it answers again")]
        redis_server = start_redis(port, tmp_path)
        deadline = time.monotonic() + 40  # the throttle re-checks its storage every 10 s
        while not redis.Redis(port=port).keys("*"):
            assert time.monotonic() < deadline, "the throttle never went back to Redis"
            attempt("wrong")
            time.sleep(0.5)
        assert throttle_lines(caplog)[1:] == [
            ("INFO", "Throttle storage answers again: counting in it again")]
    finally:
        stop(redis_server)


def throttle_lines(caplog):
    return [(r.levelname, r.getMessage()) for r in caplog.records
            if r.name == "jwtauthtest.throttle"]


def start_redis(port, tmp_path):
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    import redis

    while True:
        try:
            redis.Redis(port=port, socket_connect_timeout=0.2).ping()
            return process
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)


def stop(process):
    if process.poll() is None:
        process.terminate()
        process.wait(5)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_redis_outage_and_recovery_reach_the_servers_own_log(tmp_path):
    """Operators read the server's output: the fallback and the recovery are each one line
    there, not only in a logger nobody listens to."""
    port = free_port()
    redis_server = start_redis(port, tmp_path)
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}")
    assert run_flask(env, "users", "add", "alice", "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    try:
        with start_procfile_server(env, workers=1) as server:
            assert login(server, password="wrong")[0] == 401
            stop(redis_server)
            assert login(server, password="wrong")[0] == 401  # counted in memory meanwhile
            redis_server = start_redis(port, tmp_path)
            deadline = time.monotonic() + 30  # re-checked every 10 s
            while "Throttle storage answers again" not in server.stderr():
                assert time.monotonic() < deadline, server.output()
                login(server, password="wrong")
                time.sleep(0.5)
            throttle_lines = [line for line in server.stderr().splitlines()
                              if "jwtauthtest.throttle" in line]
    finally:
        stop(redis_server)
    assert len(throttle_lines) == 2, throttle_lines
    assert throttle_lines[0].endswith(
        f"WARNING jwtauthtest.throttle: Throttle storage failed (Error 111 connecting to "
        f"127.0.0.1:{port}. Connection refused.): counting in this process's memory until it "
        "answers again")
    assert throttle_lines[1].endswith(
        "INFO jwtauthtest.throttle: Throttle storage answers again: counting in it again")
