"""The account API over the real server (issue 15): a user on two devices sees both sessions,
ends the lost one, and changes the password, which ends every old session."""

import json

from conftest import SECRET
from processes import http, run_flask, run_useradd, start_flask, subprocess_env

PASSWORD = "first long passphrase"
NEW_PASSWORD = "second long passphrase"


def call(url, method, path, token=None, body=None, agent="jwtauthtest-tests"):
    headers = {"Content-Type": "application/json", "User-Agent": agent}
    if token:
        headers["Authorization"] = f"JWT {token}"
    status, _, data = http(method, url + path, json.dumps(body) if body else None, headers)
    return status, json.loads(data) if data.startswith(b"{") else data


def test_sessions_and_a_password_change_over_http(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    added = run_useradd(env, ["--username", "carol", "--password-stdin"], PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    credentials = {"username": "carol", "password": PASSWORD}

    with start_flask(env) as server:
        url = server.url
        status, phone = call(url, "POST", "/auth", body=credentials, agent="Phone/1")
        assert status == 200
        status, laptop = call(url, "POST", "/auth", body=credentials, agent="Laptop/2")
        assert status == 200

        status, listing = call(url, "GET", "/auth/sessions", laptop["access_token"])
        assert status == 200
        sessions = listing["sessions"]
        assert [(s["user_agent"], s["address"], s["current"]) for s in sessions] == [
            ("Phone/1", "127.0.0.1", False), ("Laptop/2", "127.0.0.1", True)]

        # The phone is lost: end its session from the laptop.
        assert call(url, "DELETE", f"/auth/sessions/{sessions[0]['id']}",
                    laptop["access_token"]) == (200, {"status": "session ended"})
        status, body = call(url, "GET", "/hello", phone["access_token"])
        assert (status, body["description"]) == (401, "Token has been revoked")

        # A wrong current password changes nothing.
        status, body = call(url, "POST", "/auth/password", laptop["access_token"],
                            {"current_password": "a wrong guess", "new_password": NEW_PASSWORD})
        assert (status, body["description"]) == (401, "The current password is not right")
        status, body = call(url, "POST", "/auth/password", laptop["access_token"],
                            {"current_password": PASSWORD, "new_password": "qwertyuiop"})
        assert (status, body["description"]) == (
            400, "Password is one of the 30,000 most common passwords")

        status, changed = call(url, "POST", "/auth/password", laptop["access_token"],
                               {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert status == 200
        for method, path, token in [("GET", "/hello", laptop["access_token"]),
                                    ("POST", "/auth/refresh", laptop["refresh_token"])]:
            status, body = call(url, method, path, token)
            assert (status, body["description"]) == (401, "Token has been revoked")
        assert call(url, "GET", "/hello", changed["access_token"]) == (200, b"Hello world!")
        assert call(url, "POST", "/auth", body=credentials)[0] == 401
        assert call(url, "POST", "/auth", body={"username": "carol",
                                                "password": NEW_PASSWORD})[0] == 200

    listed = run_flask(env, "users", "sessions", "carol", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["user_agent"] for row in json.loads(listed.stdout)] == [
        "jwtauthtest-tests", "jwtauthtest-tests"]
