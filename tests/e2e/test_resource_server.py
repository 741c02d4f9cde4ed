"""Another service verifies our tokens knowing only our JWKS URL, issuer and audience, and a
key rotation and retirement reach both (issue 14). Real processes: the Procfile server with
EdDSA, examples/resource_server.py under flask run, the keys commands."""

import json
import re
import sys
import time

import jwt as pyjwt

from conftest import PASSWORD, SECRET, USERNAME
from processes import (
    free_port,
    http,
    run_flask,
    run_python,
    start_procfile_server,
    start_server,
    subprocess_env,
)

ISSUER, AUDIENCE = "https://auth.example", "api"


def test_a_resource_server_follows_rotation_and_retirement(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_JWT_ALGORITHM="EdDSA",
                         FLASK_JWT_ISSUER=ISSUER, FLASK_JWT_AUDIENCE=AUDIENCE,
                         FLASK_JWT_KEY_REFRESH_SECONDS="1")
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    with start_procfile_server(env, workers=2) as ours:
        port = free_port()
        resource_env = {**env, "JWKS_URL": f"{ours.url}/.well-known/jwks.json",
                        "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE,
                        "JWKS_CACHE_SECONDS": "1"}
        argv = [sys.executable, "-m", "flask", "--app", "examples/resource_server.py", "run",
                "--port", str(port)]
        with start_server(argv, resource_env, port, f"Running on http://127.0.0.1:{port}") \
                as resource:
            def log_in():
                status, _, body = http("POST", ours.url + "/auth", json.dumps(
                    {"username": USERNAME, "password": PASSWORD}),
                    {"Content-Type": "application/json"})
                assert status == 200, body
                return json.loads(body)["access_token"]

            def answers(token):
                auth = {"Authorization": f"JWT {token}"}
                return (http("GET", ours.url + "/hello", headers=auth)[0],
                        http("GET", resource.url + "/whoami", headers=auth)[0])

            def published():
                return {key["kid"] for key in json.loads(
                    http("GET", ours.url + "/.well-known/jwks.json")[2])["keys"]}

            old = log_in()
            old_kid = pyjwt.get_unverified_header(old)["kid"]
            assert answers(old) == (200, 200)
            assert json.loads(http("GET", resource.url + "/whoami",
                                   headers={"Authorization": f"JWT {old}"})[2]) == {
                "identity": 1}

            rotated = run_flask(env, "keys", "rotate")
            assert rotated.returncode == 0, rotated.stderr
            new_kid = rotated.stdout.split()[2]
            time.sleep(1.5)  # both workers read the key set again
            new = log_in()
            assert pyjwt.get_unverified_header(new)["kid"] == new_kid
            assert answers(new) == (200, 200)
            assert answers(old) == (200, 200)
            assert published() == {old_kid, new_kid}

            retired = run_flask(env, "keys", "retire", old_kid, "--force")
            assert retired.returncode == 0, retired.stderr
            time.sleep(1.5)  # the workers and the resource server's cache read again
            assert answers(old) == (401, 401)
            assert answers(new) == (200, 200)
            assert published() == {new_kid}


def test_keys_list_says_which_algorithm_it_assumes_and_warns_of_a_newer_one(tmp_path):
    """The servers run with EdDSA; an operator's shell has no FLASK_JWT_ALGORITHM (HS256)."""
    server_env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_JWT_ALGORITHM="EdDSA")
    started = run_python(server_env, "import jwtauthtest; jwtauthtest.create_app()")
    assert started.returncode == 0, started.stderr  # a server's start makes its first keys
    shell_env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    listed = run_flask(shell_env, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = [re.split(r"  +", line) for line in listed.stdout.splitlines()]
    assert header == ["KID", "ALGORITHM", "CREATED", "STATE (JWT_ALGORITHM=HS256)"]
    [eddsa] = [row[0] for row in rows if row[1] == "EdDSA"]
    assert sorted((row[1], row[3]) for row in rows) == [
        ("EdDSA", "verifying"), ("HS256", "verifying (and tokens without kid)")]
    assert listed.stderr == (
        f"Warning: {eddsa} (EdDSA) is newer than any HS256 key that signs: servers with "
        "JWT_ALGORITHM=EdDSA sign with it; run this command with the servers' configuration\n")
    # With the servers' configuration: the states they see, and nothing to warn of.
    as_the_servers = run_flask(server_env, "keys", "list")
    assert as_the_servers.stderr == ""
    assert [re.split(r"  +", line)[-1] for line in as_the_servers.stdout.splitlines()] == [
        "STATE (JWT_ALGORITHM=EdDSA)", "signing", "verifying (and tokens without kid)"]


def test_the_resource_server_against_an_hs256_server_or_none_is_503_with_a_hint(tmp_path):
    """The tutorial's own server signs HS256 and publishes no key: the example answers 503 in
    the error shape (not a 500) and says once in its log what the auth server needs."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    with start_procfile_server(env, workers=1) as ours:
        status, _, body = http("POST", ours.url + "/auth", json.dumps(
            {"username": USERNAME, "password": PASSWORD}), {"Content-Type": "application/json"})
        assert status == 200, body
        auth = {"Authorization": f"JWT {json.loads(body)['access_token']}"}
        nobody = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
        for jwks_url, description in [
                (f"{ours.url}/.well-known/jwks.json",
                 "No key to verify tokens with: the auth server publishes none"),
                (nobody, "The auth server's key set can't be fetched; try again soon")]:
            port = free_port()
            argv = [sys.executable, "-m", "flask", "--app", "examples/resource_server.py",
                    "run", "--port", str(port)]
            with start_server(argv, {**env, "JWKS_URL": jwks_url}, port,
                              f"Running on http://127.0.0.1:{port}") as resource:
                for _ in range(2):
                    status, headers, body = http("GET", resource.url + "/whoami", headers=auth)
                    assert (status, json.loads(body)) == (503, {
                        "status_code": 503, "error": "Service Unavailable",
                        "description": description})
                status, _, body = http("GET", resource.url + "/whoami",
                                       headers={"Authorization": "JWT not.a.token"})
                assert (status, json.loads(body)["error"]) == (401, "Invalid token"), body
                resource.stop()
                warnings = [line for line in resource.stderr().splitlines()
                            if "WARNING in resource_server:" in line]
            assert len(warnings) == 1, warnings  # once, not once a request
            if jwks_url == nobody:
                assert "The key set can't be fetched: Fail to fetch data from the url" \
                    in warnings[0]
            else:
                assert warnings[0].endswith(
                    f"The key set at {jwks_url} has no keys: start the auth server with "
                    "FLASK_JWT_ALGORITHM=EdDSA (or RS256, ES256), and FLASK_JWT_ISSUER / "
                    "FLASK_JWT_AUDIENCE equal to this service's JWT_ISSUER / JWT_AUDIENCE")
