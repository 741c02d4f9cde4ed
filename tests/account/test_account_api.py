"""The account API (issue 15): POST /auth/password, GET and DELETE /auth/sessions."""

import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

import jwtauthtest.account.api
from jwtauthtest.database import db
from jwtauthtest.models import TokenFamily, User
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign

NEW_PASSWORD = "a brand new long passphrase"
OPERATORS_PASSWORD = "the operator's own passphrase"
BOBS_PASSWORD = "correct horse battery staple"
REVOKED = {"status_code": 401, "error": "Invalid token", "description": "Token has been revoked"}
WRONG_CURRENT = {"status_code": 401, "error": "Invalid credentials",
                 "description": "The current password is not right"}


def log_in(client, username=USERNAME, password=PASSWORD, agent="test-agent/1.0",
           address="192.0.2.1"):
    response = client.post("/auth", json={"username": username, "password": password},
                           headers={"User-Agent": agent},
                           environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def auth(token):
    return {"Authorization": f"JWT {token}"}


def change(client, token, current=PASSWORD, new=NEW_PASSWORD, **more):
    return client.post("/auth/password", headers=auth(token),
                       json={"current_password": current, "new_password": new, **more})


def hello(client, token):
    return client.get("/hello", headers=auth(token))


def stored(app, username=USERNAME):
    with app.app_context():
        user = db.session.scalars(select(User).filter_by(username=username)).one()
        families = db.session.scalars(select(TokenFamily.id).filter_by(user_id=user.id)).all()
        return user.password, set(families)


@pytest.fixture
def bob(app):
    with app.app_context():
        add_user("bob", BOBS_PASSWORD)


# POST /auth/password

def test_a_password_change_ends_every_session_and_starts_one(app, client, user):
    first, second = log_in(client), log_in(client)
    flask_jwt_token = sign(flask_jwt_claims(user, now=int(time.time()) - 5), SECRET)
    assert hello(client, flask_jwt_token).status_code == 200
    old_hash, _ = stored(app)

    response = change(client, first["access_token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.get_json()
    assert sorted(pair) == ["access_token", "refresh_token"]

    for token in (first["access_token"], second["access_token"], flask_jwt_token):
        refused = hello(client, token)
        assert (refused.status_code, refused.get_json()) == (401, REVOKED)
    for token in (first["refresh_token"], second["refresh_token"]):
        refused = client.post("/auth/refresh", headers=auth(token))
        assert (refused.status_code, refused.get_json()) == (401, REVOKED)
    assert hello(client, pair["access_token"]).status_code == 200
    assert client.post("/auth/refresh", headers=auth(pair["refresh_token"])).status_code == 200

    new_hash, families = stored(app)
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    assert len(families) == 1
    assert client.post("/auth", json={"username": USERNAME, "password": PASSWORD}
                       ).status_code == 401
    log_in(client, password=NEW_PASSWORD)


def test_a_wrong_current_password_is_401_and_changes_nothing(app, client, user):
    tokens = log_in(client)
    before = stored(app)
    response = change(client, tokens["access_token"], current="not the password at all")
    assert (response.status_code, response.get_json()) == (401, WRONG_CURRENT)
    assert stored(app) == before
    assert hello(client, tokens["access_token"]).status_code == 200


def test_wrong_current_passwords_are_throttled_with_the_users_logins(make_app):
    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    token = log_in(client)["access_token"]
    assert client.post("/auth", json={"username": USERNAME, "password": "wrong guess one"}
                       ).status_code == 401
    for _ in range(2):
        assert change(client, token, current="wrong guess").status_code == 401
    before = stored(app)
    response = change(client, token)  # the right password, past the limit
    assert response.status_code == 429
    assert response.get_json() == {"status_code": 429, "error": "Too Many Requests",
                                   "description": "Too many failed logins"}
    assert int(response.headers["Retry-After"]) >= 1
    assert stored(app) == before
    # The same budget as the user's logins, whatever the address.
    login = client.post("/auth", json={"username": USERNAME, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "198.51.100.77"})
    assert login.status_code == 429


@pytest.mark.parametrize(("new", "rule"), [
    ("short", "Password must be at least 8 characters (PASSWORD_MIN_LENGTH)"),
    ("Password1", "Password is one of the 30,000 most common passwords"),
    ("my ADMIN passphrase", "Password must not contain the username"),
    ("x" * 1025, "Password must be at most 1024 characters"),
])
def test_a_new_password_against_the_policy_is_400_naming_the_rule(app, client, user, new, rule):
    tokens = log_in(client)
    before = stored(app)
    response = change(client, tokens["access_token"], new=new)
    assert (response.status_code, response.get_json()) == (
        400, {"status_code": 400, "error": "Bad Request", "description": rule})
    assert stored(app) == before
    assert hello(client, tokens["access_token"]).status_code == 200


WRONG_KEYS = ("Request body must have exactly the keys current_password and new_password, or "
              "those and code, or those and recovery_code")


@pytest.mark.parametrize(("body", "description"), [
    ("not json", "Request body must be a JSON object"),
    ([PASSWORD, NEW_PASSWORD], "Request body must be a JSON object"),
    ({"current_password": PASSWORD}, WRONG_KEYS),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "username": "root"},
     WRONG_KEYS),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "code": "1",
      "recovery_code": "2"}, WRONG_KEYS),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "code": 123456},
     "A code must be text of at most 256 characters"),
    ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "recovery_code": "x" * 257},
     "A code must be text of at most 256 characters"),
    ({"current_password": 1234, "new_password": NEW_PASSWORD}, "Passwords must be strings"),
    ({"current_password": PASSWORD, "new_password": None}, "Passwords must be strings"),
    ({"current_password": "a\x00b", "new_password": NEW_PASSWORD},
     "Passwords must be text without NUL characters or unpaired surrogates"),
    ({"current_password": PASSWORD, "new_password": "long \ud800 passphrase"},
     "Passwords must be text without NUL characters or unpaired surrogates"),
    ({"current_password": "x" * 1025, "new_password": NEW_PASSWORD},
     "Password must be at most 1024 characters"),
])
def test_a_malformed_body_is_400(app, client, user, body, description):
    tokens = log_in(client)
    before = stored(app)
    data = body if isinstance(body, str) else json.dumps(body)
    response = client.post("/auth/password", data=data, content_type="application/json",
                           headers=auth(tokens["access_token"]))
    assert (response.status_code, response.get_json()) == (
        400, {"status_code": 400, "error": "Bad Request", "description": description})
    assert stored(app) == before


@pytest.mark.parametrize("operator", [["disable"], ["passwd", "--password-stdin"]],
                         ids=["disable", "passwd"])
def test_an_operators_change_between_the_check_and_the_store_wins(app, client, runner, user,
                                                                  monkeypatch, operator):
    """`flask users disable` or `flask users passwd` commits after the current password was
    verified and before the new one is stored: the change is refused as revoked, the
    operator's change stands, and no session is started."""
    tokens = log_in(client)
    before, _ = stored(app)
    real_verify = jwtauthtest.account.api.verify_password
    operators = []

    def verify_then_the_operator_acts(password, password_hash):
        verified = real_verify(password, password_hash)

        def act():  # another process, in effect: a session of its own
            result = runner.invoke(args=["users", operator[0], USERNAME, *operator[1:]],
                                   input=OPERATORS_PASSWORD + "\n")
            operators.append((result.exit_code, result.output, stored(app)))
        thread = threading.Thread(target=act)
        thread.start()
        thread.join()
        return verified

    monkeypatch.setattr(jwtauthtest.account.api, "verify_password", verify_then_the_operator_acts)
    response = change(client, tokens["access_token"])
    monkeypatch.undo()
    assert (response.status_code, response.get_json()) == (401, REVOKED)
    [(exit_code, output, (operators_hash, operators_families))] = operators
    assert exit_code == 0, output
    assert operators_families == set()  # the operator's change ended the session
    assert stored(app) == (operators_hash, set())  # not undone, and no session started
    with app.app_context():
        active = db.session.scalars(select(User.active).filter_by(username=USERNAME)).one()
    assert hello(client, tokens["access_token"]).status_code == 401
    assert client.post("/auth", json={"username": USERNAME, "password": NEW_PASSWORD}
                       ).status_code == 401
    if operator[0] == "disable":
        assert active is False and operators_hash == before
        assert client.post("/auth", json={"username": USERNAME, "password": PASSWORD}
                           ).status_code == 401
    else:
        assert active is True and operators_hash != before
        log_in(client, password=OPERATORS_PASSWORD)


def test_a_password_change_needs_an_access_token(client, user):
    tokens = log_in(client)
    response = change(client, tokens["refresh_token"])
    assert response.status_code == 401
    assert response.get_json()["description"] == (
        "Expected an access token, got a refresh token")
    assert change(client, "not.a.token").status_code == 401
    assert client.post("/auth/password", json={"current_password": PASSWORD,
                                               "new_password": NEW_PASSWORD}
                       ).status_code == 401


# GET /auth/sessions

def test_the_sessions_list_shows_each_login_and_which_is_yours(app, client, user, bob):
    before = time.time()
    phone = log_in(client, agent="Phone\x00App/2.0\x1b", address="198.51.100.20")
    laptop = log_in(client, agent="Laptop browser " + "x" * 300, address="2001:db8::7")
    log_in(client, "bob", BOBS_PASSWORD)
    client.post("/auth/refresh", headers=auth(phone["refresh_token"]))

    response = client.get("/auth/sessions", headers=auth(laptop["access_token"]))
    assert response.status_code == 200
    sessions = response.get_json()["sessions"]
    assert [s["current"] for s in sessions] == [False, True]
    assert [s["user_agent"] for s in sessions] == ["PhoneApp/2.0",
                                                   ("Laptop browser " + "x" * 300)[:256]]
    assert [s["address"] for s in sessions] == ["198.51.100.20", "2001:db8::7"]
    assert sessions[0]["last_used_at"] is not None and sessions[1]["last_used_at"] is None
    for session in sessions:
        assert sorted(session) == ["address", "created_at", "current", "id", "last_used_at",
                                   "user_agent"]
        created = datetime.fromisoformat(session["created_at"])
        assert created.utcoffset() == timedelta(0)
        assert before - 1 <= created.timestamp() <= time.time()
    _, families = stored(app)
    assert {s["id"] for s in sessions} == families


def test_expired_sessions_are_not_listed(make_app):
    app = make_app(JWT_EXPIRATION_DELTA=1, JWT_REFRESH_EXPIRATION_DELTA=1, JWT_LEEWAY=0)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    log_in(client)
    time.sleep(1.1)
    flask_jwt_token = sign(flask_jwt_claims(1), SECRET)
    response = client.get("/auth/sessions", headers=auth(flask_jwt_token))
    assert (response.status_code, response.get_json()) == (200, {"sessions": []})


def test_a_flask_jwt_token_sees_the_sessions_none_of_them_its_own(client, user):
    log_in(client)
    response = client.get("/auth/sessions", headers=auth(sign(flask_jwt_claims(user), SECRET)))
    assert [s["current"] for s in response.get_json()["sessions"]] == [False]


# DELETE /auth/sessions/<id>

def session_ids(client, token):
    return [s["id"] for s in client.get("/auth/sessions", headers=auth(token)).get_json()[
        "sessions"]]


def test_ending_one_session_revokes_its_tokens_only(client, user):
    lost_phone, laptop = log_in(client), log_in(client)
    phone_id, laptop_id = session_ids(client, laptop["access_token"])
    response = client.delete(f"/auth/sessions/{phone_id}", headers=auth(laptop["access_token"]))
    assert (response.status_code, response.get_json()) == (200, {"status": "session ended"})
    assert hello(client, lost_phone["access_token"]).get_json() == REVOKED
    assert client.post("/auth/refresh", headers=auth(lost_phone["refresh_token"])
                       ).status_code == 401
    assert hello(client, laptop["access_token"]).status_code == 200
    assert session_ids(client, laptop["access_token"]) == [laptop_id]
    again = client.delete(f"/auth/sessions/{phone_id}", headers=auth(laptop["access_token"]))
    assert again.status_code == 404


def test_ending_your_own_session_by_id_logs_you_out(client, user):
    tokens = log_in(client)
    [own] = session_ids(client, tokens["access_token"])
    assert client.delete(f"/auth/sessions/{own}", headers=auth(tokens["access_token"])
                         ).status_code == 200
    assert hello(client, tokens["access_token"]).get_json() == REVOKED


@pytest.mark.parametrize("session_id", [None, "no-such-session", "x" * 33, "%00",
                                        "caf%C3%A9"])
def test_another_users_or_an_unknown_session_is_404(app, client, user, bob, session_id):
    bobs = log_in(client, "bob", BOBS_PASSWORD)
    [bobs_id] = session_ids(client, bobs["access_token"])
    mine = log_in(client)
    response = client.delete(f"/auth/sessions/{session_id or bobs_id}",
                             headers=auth(mine["access_token"]))
    assert (response.status_code, response.get_json()) == (404, {
        "status_code": 404, "error": "Not Found",
        "description": "You have no session with this id"})
    assert hello(client, bobs["access_token"]).status_code == 200
    assert session_ids(client, bobs["access_token"]) == [bobs_id]


# DELETE /auth/sessions

def test_ending_the_other_sessions_needs_a_fresh_token(client, user):
    first, second = log_in(client), log_in(client)
    refreshed = client.post("/auth/refresh", headers=auth(second["refresh_token"])).get_json()
    response = client.delete("/auth/sessions", headers=auth(refreshed["access_token"]))
    assert (response.status_code, response.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token", "description": "Fresh token required"})
    assert hello(client, first["access_token"]).status_code == 200
    assert len(session_ids(client, first["access_token"])) == 2


def test_ending_the_other_sessions_keeps_yours_and_other_users(client, user, bob):
    others = [log_in(client) for _ in range(3)]
    bobs = log_in(client, "bob", BOBS_PASSWORD)
    mine = log_in(client)
    response = client.delete("/auth/sessions", headers=auth(mine["access_token"]))
    assert (response.status_code, response.get_json()) == (
        200, {"status": "other sessions ended", "ended": 3})
    for tokens in others:
        assert hello(client, tokens["access_token"]).get_json() == REVOKED
    assert hello(client, mine["access_token"]).status_code == 200
    assert hello(client, bobs["access_token"]).status_code == 200
    assert len(session_ids(client, mine["access_token"])) == 1
