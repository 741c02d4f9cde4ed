"""Fresh tokens: ``@jwt_required(fresh=True)`` accepts only an access token of a password login
less than JWT_FRESH_DELTA old (issue 15)."""

import time

import jwt as pyjwt
import pytest

from jwtauthtest.jwt import current_identity, jwt_required
from jwtauthtest.keys.keyset import key_set
from jwtauthtest.tokens.listing import live_sessions
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign

STALE = {"status_code": 401, "error": "Invalid token", "description": "Fresh token required"}


@pytest.fixture
def fresh_app(make_app):
    def make(**config):
        app = make_app(**config)

        @jwt_required(fresh=True)
        def sensitive():
            return {"id": current_identity.id}

        app.add_url_rule("/sensitive", view_func=sensitive, methods=["POST"])
        with app.app_context():
            add_user(USERNAME, PASSWORD)
        return app
    return make


def log_in(client):
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()


def sensitive(client, token):
    return client.post("/sensitive", headers={"Authorization": f"JWT {token}"})


def test_a_password_logins_access_token_is_fresh(fresh_app):
    client = fresh_app().test_client()
    access = log_in(client)["access_token"]
    assert pyjwt.decode(access, options={"verify_signature": False})["fresh"] is True
    response = sensitive(client, access)
    assert (response.status_code, response.get_json()) == (200, {"id": 1})


def test_a_refreshed_access_token_is_not_fresh(fresh_app):
    client = fresh_app().test_client()
    refreshed = client.post("/auth/refresh", headers={
        "Authorization": f"JWT {log_in(client)['refresh_token']}"}).get_json()["access_token"]
    assert "fresh" not in pyjwt.decode(refreshed, options={"verify_signature": False})
    response = sensitive(client, refreshed)
    assert (response.status_code, response.get_json()) == (401, STALE)
    assert client.get("/hello", headers={"Authorization": f"JWT {refreshed}"}).status_code == 200


def test_freshness_ends_jwt_fresh_delta_after_the_login(fresh_app, monkeypatch):
    """(The clock moved, not slept on: iat is a whole second, so a one-second delta could be
    over before the first request on a busy machine.)"""
    client = fresh_app(JWT_FRESH_DELTA=60).test_client()
    access = log_in(client)["access_token"]
    issued = pyjwt.decode(access, options={"verify_signature": False})["iat"]
    monkeypatch.setattr(time, "time", lambda: issued + 59.9)
    assert sensitive(client, access).status_code == 200
    monkeypatch.setattr(time, "time", lambda: issued + 60)
    response = sensitive(client, access)
    assert (response.status_code, response.get_json()) == (401, STALE)
    assert client.get("/hello", headers={"Authorization": f"JWT {access}"}).status_code == 200


def test_a_flask_jwt_token_is_never_fresh(fresh_app):
    client = fresh_app().test_client()
    response = sensitive(client, sign(flask_jwt_claims(1), SECRET))
    assert (response.status_code, response.get_json()) == (401, STALE)


@pytest.mark.parametrize("value", ["true", 1, None])
def test_a_fresh_claim_that_isnt_a_boolean_is_refused(fresh_app, value):
    client = fresh_app().test_client()
    response = sensitive(client, sign({**flask_jwt_claims(1), "fresh": value}, SECRET))
    assert (response.status_code, response.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token",
        "description": "The fresh claim must be true or false"})


def test_jwt_fresh_delta_of_the_wrong_type_is_refused(make_app):
    with pytest.raises(ValueError, match="^JWT_FRESH_DELTA must be a number of seconds"):
        make_app(JWT_FRESH_DELTA="soon")


def test_a_token_without_kid_is_never_fresh_even_if_it_says_so(fresh_app):
    """Anyone holding JWT_SECRET_KEY can write ``"fresh": true``; only our logins make one."""
    client = fresh_app().test_client()
    log_in(client)
    claiming = sign({**flask_jwt_claims(1), "fresh": True}, SECRET)
    assert client.get("/me", headers={"Authorization": f"JWT {claiming}"}).status_code == 200
    for response in (sensitive(client, claiming), client.delete(
            "/auth/sessions", headers={"Authorization": f"JWT {claiming}"})):
        assert (response.status_code, response.get_json()) == (401, STALE)
    with client.application.app_context():
        assert len(live_sessions(1)) == 1


NO_SESSION = {"status_code": 400, "error": "Bad Request",
              "description": "This token has no session to end (it was issued by Flask-JWT); "
                             "it stays valid until it expires"}


def test_a_token_without_a_session_never_stands_for_every_session(fresh_app):
    """A fresh token of ours without ``fam`` (only a holder of the signing key could make
    one) ending "the other sessions" must not end them all; nor may a Flask-JWT token act
    on a session by its id."""
    client = fresh_app().test_client()
    log_in(client)
    with client.application.app_context():
        [session] = live_sessions(1)
        signing_kid = key_set().signing_kid
    sessionless = sign({**flask_jwt_claims(1), "fresh": True, "jti": "j", "type": "access"},
                       SECRET, header={"typ": "JWT", "alg": "HS256", "kid": signing_kid})
    assert sensitive(client, sessionless).status_code == 200  # it is a fresh token
    legacy = sign(flask_jwt_claims(1), SECRET)
    for response in (
            client.delete("/auth/sessions", headers={"Authorization": f"JWT {sessionless}"}),
            client.delete(f"/auth/sessions/{session.id}",
                          headers={"Authorization": f"JWT {legacy}"}),
            client.post("/auth/logout", headers={"Authorization": f"JWT {legacy}"})):
        assert (response.status_code, response.get_json()) == (400, NO_SESSION)
    with client.application.app_context():
        assert [s.id for s in live_sessions(1)] == [session.id]
