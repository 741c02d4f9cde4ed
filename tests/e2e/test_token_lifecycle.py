"""The token lifecycle and the user commands over the real server and real processes."""

import csv
import json

from passlib.hash import bcrypt

from conftest import SECRET
from processes import http, run_flask, run_useradd, start_flask, subprocess_env

JSON = {"Content-Type": "application/json"}


def post(url, path, body=None, token=None):
    headers = dict(JSON, **({"Authorization": f"JWT {token}"} if token else {}))
    status, _, data = http("POST", url + path, json.dumps(body) if body else None, headers)
    return status, json.loads(data)


def hello(url, token):
    status, _, data = http("GET", url + "/hello", headers={"Authorization": f"JWT {token}"})
    return status, data


def test_login_refresh_reuse_logout_over_http(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    added = run_useradd(env, ["--username", "alice", "--password-stdin"], "long enough pw\n")
    assert added.returncode == 0, added.stderr
    credentials = {"username": "alice", "password": "long enough pw"}

    with start_flask(env) as server:
        url = server.url
        status, first = post(url, "/auth", credentials)
        assert status == 200
        status, second = post(url, "/auth/refresh", token=first["refresh_token"])
        assert status == 200
        status, third = post(url, "/auth/refresh", token=second["refresh_token"])
        assert status == 200
        assert hello(url, third["access_token"]) == (200, b"Hello world!")

        # An old refresh token again: theft; the whole family goes.
        status, body = post(url, "/auth/refresh", token=first["refresh_token"])
        assert status == 401
        assert body["description"] == (
            "Refresh token was already used; its session has been revoked")
        for token in (third["access_token"], second["access_token"]):
            status, data = hello(url, token)
            assert status == 401 and json.loads(data)["description"] == "Token has been revoked"
        status, body = post(url, "/auth/refresh", token=third["refresh_token"])
        assert (status, body["description"]) == (401, "Token has been revoked")

        # Log in again, log out: the token is refused.
        status, fresh = post(url, "/auth", credentials)
        assert status == 200 and hello(url, fresh["access_token"])[0] == 200
        assert post(url, "/auth/logout", token=fresh["access_token"]) == (
            200, {"status": "logged out"})
        status, data = hello(url, fresh["access_token"])
        assert (status, json.loads(data)["description"]) == (401, "Token has been revoked")


def test_users_import_as_a_real_command(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    plain = tmp_path / "plain.csv"
    plain.write_text("username,password\ncarol,pw-c long enough\ndave,pw-d long enough\n")
    hashed = tmp_path / "hashed.csv"
    with hashed.open("w", newline="") as f:
        csv.writer(f).writerows([("username", "password_hash"),
                                 ("erin", bcrypt.using(rounds=4).hash("pw-e"))])

    result = run_flask(env, "users", "import", str(plain))
    assert result.returncode == 0, result.stderr
    assert "Hashing passwords" in result.stderr  # the progress bar goes to stderr
    assert result.stdout.startswith(f"Imported {plain} into ")
    assert ": 2 added, 0 updated, 0 skipped in " in result.stdout
    result = run_flask(env, "users", "import", str(hashed))
    assert result.returncode == 0, result.stderr
    again = run_flask(env, "users", "import", str(plain))
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr.splitlines() == [
        "line 2: user already exists: carol", "line 3: user already exists: dave",
        f"Error: 2 invalid line(s) in {plain}; nothing was imported"]

    listed = json.loads(run_flask(env, "users", "list", "--json").stdout)
    assert [u["username"] for u in listed] == ["carol", "dave", "erin"]
    with start_flask(env) as server:
        for name, password in [("carol", "pw-c long enough"), ("erin", "pw-e")]:
            status, _ = post(server.url, "/auth", {"username": name, "password": password})
            assert status == 200, name
