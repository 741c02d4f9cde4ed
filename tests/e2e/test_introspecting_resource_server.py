"""Another service asks us about each request's token (issue 37): the example introspecting
resource server under flask run, against the Procfile's server with two workers, a client
made by `flask clients add`. A logout reaches it within its cache time."""

import json
import sys
import time

from conftest import PASSWORD, SECRET, USERNAME
from processes import (
    free_port,
    http,
    run_flask,
    start_procfile_server,
    start_server,
    subprocess_env,
)

CACHE_SECONDS = 2


def start_example(env, ours, client_id, secret):
    port = free_port()
    argv = [sys.executable, "-m", "flask", "--app", "examples/introspecting_resource_server.py",
            "run", "--port", str(port)]
    return start_server(argv, {**env, "INTROSPECTION_URL": f"{ours.url}/auth/introspect",
                               "CLIENT_ID": client_id, "CLIENT_SECRET": secret,
                               "INTROSPECTION_CACHE_SECONDS": str(CACHE_SECONDS)},
                        port, f"Running on http://127.0.0.1:{port}")


def server_with_a_client(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    added = run_flask(env, "clients", "add", "example", "--json")
    assert added.returncode == 0, added.stderr
    credentials = json.loads(added.stdout)
    return env, credentials["client_id"], credentials["client_secret"]


def log_in(ours):
    status, _, body = http("POST", ours.url + "/auth", json.dumps(
        {"username": USERNAME, "password": PASSWORD}), {"Content-Type": "application/json"})
    assert status == 200, body
    return json.loads(body)


def whoami(resource, token):
    status, _, body = http("GET", resource.url + "/whoami",
                           headers={"Authorization": f"JWT {token}"})
    return status, json.loads(body)


def test_a_logout_reaches_the_resource_server_within_its_cache_time(tmp_path):
    env, client_id, secret = server_with_a_client(tmp_path)
    with start_procfile_server(env, workers=2) as ours, \
            start_example(env, ours, client_id, secret) as resource:
        pair = log_in(ours)
        token = pair["access_token"]
        assert whoami(resource, token) == (200, {"identity": 1, "username": USERNAME})
        cached = time.monotonic()
        assert whoami(resource, pair["refresh_token"])[0] == 401

        status, _, _ = http("POST", ours.url + "/auth/logout",
                            headers={"Authorization": f"JWT {token}"})
        assert status == 200
        logged_out = time.monotonic()
        still = whoami(resource, token)[0]
        if time.monotonic() - cached < CACHE_SECONDS:  # (unless this machine was that slow)
            assert still == 200  # its cached answer, for now
        while (answer := whoami(resource, token))[0] == 200:
            assert time.monotonic() - logged_out < CACHE_SECONDS + 1, "still accepted"
            time.sleep(0.1)
        assert answer == (401, {"status_code": 401, "error": "Invalid token",
                                "description": "The token is not active"})

        # A token it has no answer for is asked about at once: ended is ended everywhere.
        other = log_in(ours)["access_token"]
        http("POST", ours.url + "/auth/logout", headers={"Authorization": f"JWT {other}"})
        assert whoami(resource, other)[0] == 401
        resource.stop()
        assert "WARNING in introspecting_resource_server" not in resource.stderr()


def test_refused_credentials_are_503_and_said_once_in_its_log(tmp_path):
    env, client_id, _ = server_with_a_client(tmp_path)
    with start_procfile_server(env, workers=1) as ours, \
            start_example(env, ours, client_id, "not-the-secret") as resource:
        token = log_in(ours)["access_token"]
        for _ in range(2):
            assert whoami(resource, token) == (503, {
                "status_code": 503, "error": "Service Unavailable",
                "description": "The auth server can't be asked about tokens; try again soon"})
        resource.stop()
        warnings = [line for line in resource.stderr().splitlines()
                    if "WARNING in introspecting_resource_server:" in line]
        assert len(warnings) == 1, warnings
        assert warnings[0].endswith("The auth server refuses this service's credentials: "
                                    "check CLIENT_ID and CLIENT_SECRET (`flask clients list`)")
