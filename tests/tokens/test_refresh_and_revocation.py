"""Token lifecycle: refresh with rotation and reuse detection, logout, revocation (issue 4)."""

import time

import jwt as pyjwt
import pytest
from sqlalchemy import event, func, select

from jwtauthtest.database import db
from jwtauthtest.models import TokenFamily
from jwtauthtest.tokens import sessions
from jwtauthtest.users import add_user, change_password, delete_user, set_active

from conftest import PASSWORD, SECRET, TEST_DATABASE_URI, USERNAME, counted
from token_makers import flask_jwt_claims, sign

REVOKED = {"status_code": 401, "error": "Invalid token", "description": "Token has been revoked"}
NO_USER = {"status_code": 401, "error": "Invalid JWT", "description": "User does not exist"}


def login(client, password=PASSWORD):
    response = client.post("/auth", json={"username": USERNAME, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token):
    return {"Authorization": f"JWT {token}"}


def hello(client, token):
    return client.get("/hello", headers=bearer(token))


def refresh(client, token):
    return client.post("/auth/refresh", headers=bearer(token))


def logout(client, token):
    return client.post("/auth/logout", headers=bearer(token))


def family_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TokenFamily))


def test_me_answers_the_current_identity(client, user):
    tokens = login(client)
    response = client.get("/me", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.get_json() == {"id": user, "username": USERNAME, "email": None,
                                   "email_verified": False}


def test_token_answers_may_not_be_cached(client, user):
    """RFC 6749 section 5.1: Cache-Control: no-store and Pragma: no-cache on every answer
    that hands out tokens; other answers keep Flask's defaults."""
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    assert (response.headers["Cache-Control"], response.headers["Pragma"]) == \
        ("no-store", "no-cache")
    response = refresh(client, response.get_json()["refresh_token"])
    assert response.status_code == 200
    assert (response.headers["Cache-Control"], response.headers["Pragma"]) == \
        ("no-store", "no-cache")
    response = hello(client, response.get_json()["access_token"])
    assert response.status_code == 200
    assert "Cache-Control" not in response.headers and "Pragma" not in response.headers


def test_answers_with_account_data_may_not_be_cached(client, user):
    """Who you are, and your sessions' addresses and user agents, are for no cache either."""
    access = login(client)["access_token"]
    for path in ("/me", "/auth/sessions"):
        response = client.get(path, headers=bearer(access))
        assert response.status_code == 200
        assert (response.headers["Cache-Control"], response.headers["Pragma"]) == \
            ("no-store", "no-cache"), path


def test_a_login_past_the_session_cap_ends_the_oldest(make_app):
    app = make_app(MAX_SESSIONS_PER_USER=3)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    logins = [login(client) for _ in range(5)]
    assert family_count(app) == 3
    for tokens in logins[:2]:
        assert hello(client, tokens["access_token"]).get_json() == REVOKED
    for tokens in logins[2:]:
        assert hello(client, tokens["access_token"]).status_code == 200


def test_refresh_rotates_both_tokens(client, user):
    first = login(client)
    response = refresh(client, first["refresh_token"])
    assert response.status_code == 200
    second = response.get_json()
    assert sorted(second) == ["access_token", "refresh_token"]
    assert second["refresh_token"] != first["refresh_token"]
    claims = pyjwt.decode(second["access_token"], SECRET, algorithms=["HS256"])
    assert claims["type"] == "access" and claims["identity"] == user
    assert hello(client, second["access_token"]).status_code == 200
    # The family lives on: the first access token is still good until it expires.
    assert hello(client, first["access_token"]).status_code == 200
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_family(make_app):
    app = make_app(JWT_REFRESH_REUSE_GRACE=0)  # see the grace's own tests below
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    first = login(client)
    second = refresh(client, first["refresh_token"]).get_json()
    other_session = login(client)

    reuse = refresh(client, first["refresh_token"])
    assert reuse.status_code == 401
    assert reuse.get_json() == {
        "status_code": 401, "error": "Invalid token",
        "description": "Refresh token was already used; its session has been revoked"}
    for token in (first["access_token"], second["access_token"]):
        assert hello(client, token).get_json() == REVOKED
    assert refresh(client, second["refresh_token"]).get_json() == REVOKED
    # Another login of the same user is another family, untouched.
    assert hello(client, other_session["access_token"]).status_code == 200
    assert family_count(app) == 1


def refresh_jti(response):
    return pyjwt.decode(response.get_json()["refresh_token"], SECRET, algorithms=["HS256"])["jti"]


REUSED = {"status_code": 401, "error": "Invalid token",
          "description": "Refresh token was already used; its session has been revoked"}


def test_a_lost_answer_is_answered_again_with_a_new_pair(client, user):
    """A lost answer (a reload, a dropped connection) is not a theft: within
    JWT_REFRESH_REUSE_GRACE the spent token, presented again by the client that spent it,
    gets a new pair — a refresh token of its own, not the one the lost answer carried."""
    first = login(client)
    lost = refresh(client, first["refresh_token"])
    again = refresh(client, first["refresh_token"])
    assert again.status_code == 200
    assert refresh_jti(again) not in (refresh_jti(lost), pyjwt.decode(
        first["refresh_token"], SECRET, algorithms=["HS256"])["jti"])
    assert hello(client, again.get_json()["access_token"]).status_code == 200
    assert refresh(client, again.get_json()["refresh_token"]).status_code == 200
    # The client kept the second answer: the lost one's refresh token is now a spent one.
    assert refresh(client, lost.get_json()["refresh_token"]).get_json() == REUSED
    assert hello(client, again.get_json()["access_token"]).get_json() == REVOKED


def test_a_lost_answer_that_lands_after_the_grace_answer_still_works(client, user):
    """A browser's keepalive refresh can deliver its cookie after the grace answer's: the
    client then holds the first answer's refresh token, which must keep it signed in."""
    first = login(client)
    late = refresh(client, first["refresh_token"])
    grace = refresh(client, first["refresh_token"])
    assert grace.status_code == 200
    kept = refresh(client, late.get_json()["refresh_token"])
    assert kept.status_code == 200
    assert refresh(client, kept.get_json()["refresh_token"]).status_code == 200
    # Once one of the two was spent, the other is reuse.
    assert refresh(client, grace.get_json()["refresh_token"]).get_json() == REUSED
    assert family_count(client.application) == 0


def test_the_grace_serves_one_lost_answer_and_is_a_warning(client, user, caplog):
    first = login(client)
    refresh(client, first["refresh_token"])
    caplog.set_level("INFO", logger="jwtauthtest.audit")
    assert refresh(client, first["refresh_token"]).status_code == 200
    assert [(r.levelname, r.getMessage()) for r in caplog.records
            if "refresh_" in r.getMessage()] == [
        ("WARNING", 'refresh_grace user_id=1 address="127.0.0.1"')]
    # A second time is no lost answer.
    assert refresh(client, first["refresh_token"]).get_json() == REUSED
    assert family_count(client.application) == 0


@pytest.mark.parametrize("other_client", [
    {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}},
    {"headers": {"User-Agent": "curl/8.5.0"}},
], ids=["another-address", "another-user-agent"])
def test_the_grace_is_only_for_the_client_that_spent_the_token(client, user, other_client):
    first = login(client)
    spent = refresh(client, first["refresh_token"])
    replay = client.post("/auth/refresh", **{
        **other_client, "headers": {**bearer(first["refresh_token"]),
                                    **other_client.get("headers", {})}})
    assert (replay.status_code, replay.get_json()) == (401, REUSED)
    assert hello(client, spent.get_json()["access_token"]).get_json() == REVOKED
    assert family_count(client.application) == 0


@pytest.mark.parametrize("thief", [{}, {"REMOTE_ADDR": "203.0.113.66"}],
                         ids=["thief-looks-like-the-user", "thief-elsewhere"])
def test_a_second_holder_of_a_refresh_token_cannot_shadow_the_session(make_app, caplog,
                                                                      thief):
    """A thief copied the user's pair and watches GET /auth/sessions; each time the user
    refreshes, it replays its spent refresh token within the grace. From another address it
    is refused at once; even from the user's own address and user agent (a grace answer),
    the session ends within the round, and both holders are locked out."""
    app = make_app(METRICS_ENABLED=True)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    caplog.set_level("INFO", logger="jwtauthtest.audit")
    reused_before = counted(app, "token_refreshes", outcome="reused")

    def refresh_as(environ, token):
        return client.post("/auth/refresh", headers=bearer(token), environ_base=environ)

    def last_used(token):
        [session] = client.get("/auth/sessions", headers=bearer(token)).get_json()["sessions"]
        return session["last_used_at"]

    user_pair = login(client)
    stolen = dict(user_pair)
    answers = []
    for _ in range(3):  # rounds: the user refreshes, then the thief replays what it holds
        watched = last_used(stolen["access_token"]) if answers == [] else None
        user_answer = refresh_as({}, user_pair["refresh_token"])
        answers.append(("user", user_answer.status_code))
        if user_answer.status_code != 200:
            break
        user_pair = user_answer.get_json()
        assert watched is None or last_used(user_pair["access_token"]) != watched
        thief_answer = refresh_as(thief, stolen["refresh_token"])
        answers.append(("thief", thief_answer.status_code))
        if thief_answer.status_code != 200:
            break
        stolen = thief_answer.get_json()
    if thief:
        assert answers == [("user", 200), ("thief", 401)]
    else:  # the thief's replay got a grace answer; the user's next refresh ends it all
        assert answers == [("user", 200), ("thief", 200), ("user", 200), ("thief", 401)]
    for pair in (user_pair, stolen):
        assert hello(client, pair["access_token"]).get_json() == REVOKED
        assert refresh_as({}, pair["refresh_token"]).get_json() == REVOKED
    assert family_count(app) == 0
    events = [(r.levelname, r.getMessage().split()[0]) for r in caplog.records
              if r.getMessage().startswith("refresh_")]
    assert events[-1] == ("WARNING", "refresh_reuse")
    assert events.count(("WARNING", "refresh_reuse")) == 1
    assert counted(app, "token_refreshes", outcome="reused") == reused_before + 1


def test_a_refresh_of_a_session_ended_meanwhile_is_revoked_not_reuse(app, client, user):
    """A refresh that passed the token check as its session ended (a logout, a password
    change) is no theft: nothing is logged as one, and no cookie is cleared."""
    first = login(client)
    claims = pyjwt.decode(first["refresh_token"], SECRET, algorithms=["HS256"])
    with app.app_context():
        sessions.end_session(claims["fam"])
        assert sessions.rotate_session(user, claims["fam"], claims["jti"], "client") == (
            None, sessions.REVOKED)


def test_after_the_grace_a_spent_refresh_token_revokes_the_family(make_app):
    app = make_app(JWT_REFRESH_REUSE_GRACE=1)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    first = login(client)
    second = refresh(client, first["refresh_token"]).get_json()
    time.sleep(1.1)
    assert refresh(client, first["refresh_token"]).status_code == 401
    assert hello(client, second["access_token"]).get_json() == REVOKED
    assert family_count(app) == 0


def test_token_types_cannot_stand_in_for_each_other(client, user):
    tokens = login(client)
    response = refresh(client, tokens["access_token"])
    assert response.status_code == 401
    assert response.get_json() == {"status_code": 401, "error": "Invalid token",
                                   "description": "Expected a refresh token, got an access token"}
    for view in (hello, logout, lambda c, t: c.get("/me", headers=bearer(t))):
        response = view(client, tokens["refresh_token"])
        assert response.status_code == 401
        assert response.get_json() == {
            "status_code": 401, "error": "Invalid token",
            "description": "Expected an access token, got a refresh token"}


def test_flask_jwt_token_is_an_access_token(client, user):
    legacy = sign(flask_jwt_claims(user), SECRET)
    assert hello(client, legacy).status_code == 200
    assert refresh(client, legacy).get_json()["description"] == (
        "Expected a refresh token, got an access token")
    response = logout(client, legacy)
    assert response.status_code == 400
    assert response.get_json()["description"].startswith("This token has no session to end")


def test_logout_revokes_the_family(app, client, user):
    tokens = login(client)
    other = login(client)
    response = logout(client, tokens["access_token"])
    assert response.status_code == 200
    assert response.get_json() == {"status": "logged out"}
    assert hello(client, tokens["access_token"]).get_json() == REVOKED
    assert refresh(client, tokens["refresh_token"]).get_json() == REVOKED
    assert logout(client, tokens["access_token"]).get_json() == REVOKED
    assert hello(client, other["access_token"]).status_code == 200


@pytest.mark.parametrize("revoke,answer", [
    (lambda: change_password(USERNAME, "a new password"), REVOKED),
    # A disabled user's tokens get the deleted user's answer (issue 3).
    (lambda: set_active(USERNAME, False), NO_USER),
], ids=["password-change", "disable"])
def test_user_changes_revoke_every_earlier_token(app, client, user, revoke, answer):
    tokens = login(client)
    legacy = sign(flask_jwt_claims(user), SECRET)
    with app.app_context():
        revoke()
    assert hello(client, tokens["access_token"]).get_json() == answer
    assert hello(client, legacy).get_json() == answer
    assert refresh(client, tokens["refresh_token"]).get_json() == answer


def test_a_flask_jwt_token_dated_ahead_within_the_leeway_is_revoked_too(app, client, user):
    """Its iat may be up to JWT_LEEWAY (10 s) ahead: it could have been minted before the
    change by a server whose clock runs fast."""
    ahead = sign(flask_jwt_claims(user, now=int(time.time()) + 8), SECRET)
    assert hello(client, ahead).status_code == 200
    with app.app_context():
        change_password(USERNAME, "a new password")
    assert hello(client, ahead).get_json() == REVOKED


def test_login_right_after_a_password_change_works(app, client, user):
    login(client)
    with app.app_context():
        change_password(USERNAME, "a new password")
    tokens = login(client, "a new password")  # within the same second as the change
    assert hello(client, tokens["access_token"]).status_code == 200
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_re_enabling_does_not_revive_old_tokens(app, client, user):
    tokens = login(client)
    with app.app_context():
        set_active(USERNAME, False)
        set_active(USERNAME, True)
    assert hello(client, tokens["access_token"]).get_json() == REVOKED
    assert hello(client, login(client)["access_token"]).status_code == 200


def test_deleting_a_user_refuses_tokens_and_drops_sessions(app, client, user):
    tokens = login(client)
    with app.app_context():
        delete_user(USERNAME)
    assert hello(client, tokens["access_token"]).get_json() == NO_USER
    assert refresh(client, tokens["refresh_token"]).get_json() == NO_USER
    assert family_count(app) == 0


def test_revocation_reaches_another_instance_on_the_same_database(make_app, client, user):
    other_client = make_app().test_client()
    tokens = login(client)
    assert hello(other_client, tokens["access_token"]).status_code == 200
    logout(client, tokens["access_token"])
    assert hello(other_client, tokens["access_token"]).get_json() == REVOKED


def test_refresh_lifetime_is_configurable(make_app, user):
    tokens = login(make_app(JWT_REFRESH_EXPIRATION_DELTA=3600).test_client())
    claims = pyjwt.decode(tokens["refresh_token"], SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 3600


def expire_all_sessions(app):
    with app.app_context():
        for family in db.session.scalars(select(TokenFamily)):
            family.expires_at = time.time() - 1
        db.session.commit()


def test_expired_sessions_are_purged_by_the_command(app, client, runner, user):
    login(client)
    login(client)
    expire_all_sessions(app)
    result = runner.invoke(args=["tokens", "purge"])
    assert result.exit_code == 0
    assert result.output == (
        f"Purged 2 expired session(s) from {app.config['SQLALCHEMY_DATABASE_URI']}\n")
    assert family_count(app) == 0


def test_expired_sessions_are_purged_opportunistically_at_login(app, client, user):
    for _ in range(5):
        login(client)
    expire_all_sessions(app)
    login(client)
    assert family_count(app) == 1


@pytest.mark.skipif(TEST_DATABASE_URI is not None,
                    reason="counts statements with SQLite's trace hook; TEST_DATABASE_URI is set")
def test_protected_request_costs_one_query(app, client, user):
    """Counted by SQLite itself, whatever layer sends the statements."""
    tokens = login(client)
    legacy = sign(flask_jwt_claims(user), SECRET)
    statements = []
    with app.app_context():
        engine = db.engine
    engine.dispose()  # new connections, which get the trace hook below

    def trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    event.listen(engine, "connect", trace)
    try:
        for token in (tokens["access_token"], legacy):
            statements.clear()
            assert hello(client, token).status_code == 200
            queries = [s for s in statements if not s.startswith("PRAGMA")]
            assert len(queries) == 1, statements
            assert queries[0].lstrip().upper().startswith("SELECT")
    finally:
        event.remove(engine, "connect", trace)


def test_a_deleted_users_id_is_never_given_to_a_new_user(app, client, user):
    legacy = sign(flask_jwt_claims(user), SECRET)
    with app.app_context():
        delete_user(USERNAME)
        newcomer = add_user("mallory", PASSWORD)
    assert newcomer.id != user
    assert hello(client, legacy).get_json() == NO_USER


def test_a_password_change_during_a_login_wins(app, client, user, monkeypatch):
    """The login verified the old password while the change committed: it must fail."""
    import threading

    import jwtauthtest.jwt

    real_verify = jwtauthtest.jwt.verify_password

    def verify_while_the_password_changes(password, password_hash):
        def change():
            with app.app_context():
                change_password(USERNAME, "changed meanwhile")
        thread = threading.Thread(target=change)
        thread.start()
        thread.join()
        return real_verify(password, password_hash)

    monkeypatch.setattr(jwtauthtest.jwt, "verify_password", verify_while_the_password_changes)
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["description"] == "Invalid credentials"
    monkeypatch.undo()
    assert client.post("/auth", json={"username": USERNAME,
                                      "password": PASSWORD}).status_code == 401
    assert login(client, "changed meanwhile")["access_token"]
    assert family_count(app) == 1


@pytest.mark.parametrize("skew", [-5.0, 5.0], ids=["command-clock-behind", "command-clock-ahead"])
def test_revocation_does_not_depend_on_clocks_agreeing(app, client, user, monkeypatch, skew):
    import jwtauthtest.users

    stolen = login(client)
    real_time = time.time
    monkeypatch.setattr(jwtauthtest.users.time, "time", lambda: real_time() + skew)
    with app.app_context():
        change_password(USERNAME, "new password")
    monkeypatch.undo()
    assert refresh(client, stolen["refresh_token"]).get_json() == REVOKED
    fresh = login(client, "new password")
    assert hello(client, fresh["access_token"]).status_code == 200
    assert refresh(client, fresh["refresh_token"]).status_code == 200
