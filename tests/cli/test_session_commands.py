"""Operators ending sessions: ``users logout NAME`` and ``tokens revoke-all`` (issue 15,
ASVS 5.0 7.4.5)."""

import json
import time

from sqlalchemy import func, select
from test_users_commands import database, hello, invoke, login

from jwtauthtest.database import db
from jwtauthtest.models import TokenFamily
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign

REVOKED = {"status_code": 401, "error": "Invalid token", "description": "Token has been revoked"}


def sessions(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TokenFamily))


def flask_jwt_token(user_id):
    claims = flask_jwt_claims(user_id)
    time.sleep(0.01)  # issued strictly before the command runs
    return sign(claims, SECRET)


def test_logout_ends_every_session_of_one_user(app, runner, client, user):
    with app.app_context():
        add_user("bob", PASSWORD)
    mine = [login(client).get_json() for _ in range(2)]
    old_flask_jwt = flask_jwt_token(user)
    bobs = login(client, "bob").get_json()["access_token"]

    result = invoke(runner, "users", "logout", "ADMIN")
    assert (result.exit_code, result.output) == (
        0, f"Ended 2 session(s) of 'admin' in {database(app)}; their tokens are revoked\n")
    for pair in mine:
        assert hello(client, pair["access_token"]).get_json() == REVOKED
        assert client.post("/auth/refresh", headers={
            "Authorization": f"JWT {pair['refresh_token']}"}).get_json() == REVOKED
    assert hello(client, old_flask_jwt).get_json() == REVOKED
    assert hello(client, bobs).status_code == 200  # other users keep theirs
    assert sessions(app) == 1
    assert hello(client, login(client).get_json()["access_token"]).status_code == 200


def test_logout_of_an_unknown_user_is_one_line(app, runner, user):
    result = invoke(runner, "users", "logout", "nobody")
    assert (result.exit_code, result.output) == (1, "Error: no such user: nobody\n")


def test_revoke_all_asks_then_logs_everyone_out(app, runner, client, user):
    with app.app_context():
        add_user("bob", PASSWORD)
    tokens = [login(client).get_json()["access_token"],
              login(client, "bob").get_json()["access_token"], flask_jwt_token(user)]

    refused = invoke(runner, "tokens", "revoke-all", input="n\n")
    assert refused.exit_code == 1 and refused.output.endswith("Aborted!\n")
    assert sessions(app) == 2 and hello(client, tokens[0]).status_code == 200

    result = invoke(runner, "tokens", "revoke-all", "--yes")
    assert (result.exit_code, result.output) == (
        0, f"Ended 2 session(s) in {database(app)}; every token issued before now is revoked\n")
    for token in tokens:
        assert hello(client, token).get_json() == REVOKED
    assert sessions(app) == 0
    for name in (USERNAME, "bob"):  # everyone can log in again
        assert hello(client, login(client, name).get_json()["access_token"]).status_code == 200


def test_sessions_lists_a_users_live_sessions(app, runner, client, user):
    with app.app_context():
        add_user("bob", "correct horse battery staple")
    client.post("/auth", json={"username": USERNAME, "password": PASSWORD},
                headers={"User-Agent": "curl/8.5.0"}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    phone = client.post("/auth", json={"username": USERNAME, "password": PASSWORD},
                        headers={"User-Agent": "Phone\x1b[31mApp"}).get_json()
    client.post("/auth/refresh", headers={"Authorization": f"JWT {phone['refresh_token']}"})
    login(client, "bob", "correct horse battery staple")

    result = invoke(runner, "users", "sessions", "Admin", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    listed = client.get("/auth/sessions", headers={
        "Authorization": f"JWT {phone['access_token']}"}).get_json()["sessions"]
    assert rows == [{key: value for key, value in session.items() if key != "current"}
                    for session in listed]
    assert [(row["user_agent"], row["address"], row["last_used_at"] is None)
            for row in rows] == [("curl/8.5.0", "192.0.2.9", True),
                                 ("Phone[31mApp", "127.0.0.1", False)]

    table = invoke(runner, "users", "sessions", "admin").output.splitlines()
    assert table[0].split() == ["ID", "CREATED", "LAST", "USED", "ADDRESS", "USER", "AGENT"]
    assert [line.split()[0] for line in table[1:]] == [row["id"] for row in rows]
    assert table[1].split()[-3:] == ["never", "192.0.2.9", "curl/8.5.0"]
    assert table[2].endswith("127.0.0.1  Phone[31mApp")


def test_sessions_of_an_unknown_user_is_one_line(runner, user):
    result = invoke(runner, "users", "sessions", "nobody")
    assert (result.exit_code, result.output) == (1, "Error: no such user: nobody\n")
