"""A token presented again is not verified again while nothing that could refuse it has
changed (keys/verified.py, issue 25): expiry, the key set and revocation still refuse it."""

import re
import time
from datetime import datetime

import pytest
from jwt import api_jwt
from sqlalchemy import update

from jwtauthtest.database import db
from jwtauthtest.keys import signing, verified
from jwtauthtest.keys.keyset import key_set
from jwtauthtest.keys.verified import VerifiedTokens
from jwtauthtest.models import SigningKey
from jwtauthtest.settings import ConfigurationError

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign


def login(client):
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def hello(client, token):
    response = client.get("/hello", headers={"Authorization": f"JWT {token}"})
    return response.status_code, response.get_json(silent=True)


def refused(description, error="Invalid token"):
    return 401, {"status_code": 401, "error": error, "description": description}


@pytest.fixture
def app_with(app_with_user):
    return app_with_user


@pytest.fixture
def full_checks(monkeypatch):
    """The tokens that got the full check, in order."""
    checked = []
    real = signing.verify_by_kid

    def counting(keys, token):
        checked.append(token)
        return real(keys, token)

    monkeypatch.setattr(signing, "verify_by_kid", counting)
    return checked


def test_a_token_presented_again_is_verified_once(app_with, full_checks):
    client = app_with().test_client()
    first, second = login(client)["access_token"], login(client)["access_token"]
    for token in (first, first, second, first, second):
        assert hello(client, token) == (200, None)
    assert full_checks == [first, second]


def test_every_read_of_the_key_set_forgets_them(app_with, full_checks):
    app = app_with()
    client = app.test_client()
    token = login(client)["access_token"]
    hello(client, token), hello(client, token)
    with app.app_context():
        key_set().refresh()
    assert hello(client, token) == (200, None)
    assert full_checks == [token, token]


def test_a_key_retired_elsewhere_refuses_its_remembered_tokens_at_the_next_read(app_with):
    app = app_with(JWT_KEY_REFRESH_SECONDS=0.5)
    client = app.test_client()
    token = login(client)["access_token"]
    assert hello(client, token) == (200, None)
    with app.app_context():  # what `keys retire --force` does in another process
        db.session.execute(update(SigningKey).values(retired_at=time.time()))
        db.session.commit()
    assert hello(client, token) == (200, None)  # this process hasn't read the set since
    time.sleep(0.6)
    assert hello(client, token) == refused("Unknown key id")


def test_a_remembered_token_is_refused_once_it_expires(app_with):
    app = app_with(JWT_LEEWAY=0)
    client = app.test_client()
    claims = flask_jwt_claims(app.user_id, lifetime=2)
    token = sign(claims, SECRET)
    assert hello(client, token) == (200, None)
    time.sleep(claims["exp"] - time.time() + 0.05)
    assert hello(client, token) == refused("Signature has expired")


def test_a_remembered_token_is_still_revoked_at_once(app_with):
    client = app_with().test_client()
    tokens = login(client)
    assert hello(client, tokens["access_token"]) == (200, None)
    logout = client.post("/auth/logout",
                         headers={"Authorization": f"JWT {tokens['access_token']}"})
    assert logout.status_code == 200
    assert hello(client, tokens["access_token"]) == refused("Token has been revoked")


def test_a_token_one_character_off_a_remembered_one_is_checked_in_full(app_with):
    client = app_with().test_client()
    token = login(client)["access_token"]
    assert hello(client, token) == (200, None)
    header_and_claims, signature = token.rsplit(".", 1)
    tampered = f"{header_and_claims}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert hello(client, tampered) == refused("Signature verification failed")


def test_a_refused_token_is_never_remembered(app_with, full_checks):
    app = app_with()
    client = app.test_client()
    forged = sign(flask_jwt_claims(app.user_id), "another-secret-" + "y" * 40)
    assert hello(client, forged) == refused("Signature verification failed")
    assert hello(client, forged) == refused("Signature verification failed")
    assert full_checks == [forged, forged]
    with app.app_context():
        assert len(key_set().verified) == 0


def test_the_memory_keeps_at_most_jwt_verified_tokens(app_with, full_checks):
    app = app_with(JWT_VERIFIED_TOKENS=2)
    client = app.test_client()
    tokens = [login(client)["access_token"] for _ in range(3)]
    for token in tokens:
        assert hello(client, token) == (200, None)
    with app.app_context():
        assert len(key_set().verified) == 2
    assert hello(client, tokens[0]) == (200, None)  # the oldest went
    assert hello(client, tokens[2]) == (200, None)
    assert full_checks == [*tokens, tokens[0]]


def test_zero_turns_the_memory_off(app_with, full_checks):
    client = app_with(JWT_VERIFIED_TOKENS=0).test_client()
    token = login(client)["access_token"]
    hello(client, token), hello(client, token)
    assert full_checks == [token, token]


def test_a_flask_jwt_token_is_remembered_without_its_fresh_claim(app_with):
    # decode_token drops a kid-less token's "fresh": on its second use too.
    app = app_with()
    client = app.test_client()
    token = sign({**flask_jwt_claims(app.user_id), "fresh": True}, SECRET)
    for _ in range(2):
        response = client.delete("/auth/sessions", headers={"Authorization": f"JWT {token}"})
        assert (response.status_code, response.get_json()["description"]) == \
            (401, "Fresh token required")


def test_what_a_caller_does_to_the_claims_it_got_doesnt_change_the_memory():
    verified = VerifiedTokens(capacity=8)
    verified.remember("a.b.c", {"exp": time.time() + 60, "fresh": True}, "hs-1", 0.0, 0)
    claims, kid = verified.get("a.b.c")
    claims.pop("fresh")
    assert verified.get("a.b.c")[0]["fresh"] is True
    assert kid == "hs-1"


@pytest.mark.parametrize("value", [-1, "many", 1.5, True])
def test_a_bad_jwt_verified_tokens_is_refused(make_app, value):
    message = f"JWT_VERIFIED_TOKENS must be a whole number of tokens, not {value!r}"
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        make_app(JWT_VERIFIED_TOKENS=value)


def test_a_check_begun_before_the_key_set_was_read_is_not_remembered():
    # The full check of one request, and another request's read of the key set meanwhile.
    verified = VerifiedTokens(capacity=8)
    began = verified.generation
    verified.forget_all()
    verified.remember("a.b.c", {"exp": time.time() + 60}, "hs-1", 0.0, began)
    assert verified.get("a.b.c") is None
    verified.remember("a.b.c", {"exp": time.time() + 60}, "hs-1", 0.0, verified.generation)
    assert verified.get("a.b.c") is not None


def test_a_fractional_exp_is_read_as_pyjwt_reads_it():
    verified = VerifiedTokens(capacity=8)
    now = time.time()
    verified.remember("a.b.c", {"exp": int(now) + 0.95}, "hs-1", 0.0, 0)
    entry = verified._entries["a.b.c"]
    assert entry[2] == int(now)  # PyJWT: int(exp) <= now - leeway is expired


def pin_clocks(monkeypatch, instant):
    """time.time(), which the memory reads, and PyJWT's clock, stopped at one instant."""
    class Pinned(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(instant, tz)

    monkeypatch.setattr(verified.time, "time", lambda: instant)
    monkeypatch.setattr(api_jwt, "datetime", Pinned)


def test_a_remembered_token_is_forgotten_at_exactly_its_exp_plus_the_leeway(monkeypatch):
    memory = VerifiedTokens(capacity=8)
    exp = int(time.time()) + 60
    memory.remember("a.b.c", {"exp": exp + 0.5}, "hs-1", 7.0, 0)
    pin_clocks(monkeypatch, exp + 7 - 0.001)
    assert memory.get("a.b.c") == ({"exp": exp + 0.5}, "hs-1")
    pin_clocks(monkeypatch, exp + 7)
    assert memory.get("a.b.c") is None
    assert len(memory) == 0


def test_a_remembered_token_is_refused_at_exactly_its_exp_plus_the_leeway(app_with, full_checks,
                                                                         monkeypatch):
    # PyJWT refuses exp <= now - leeway: at exp + leeway, the memory must not answer for it.
    app = app_with(JWT_LEEWAY=7, JWT_KEY_REFRESH_SECONDS=3600)
    client = app.test_client()
    claims = flask_jwt_claims(app.user_id)
    token = sign(claims, SECRET)
    assert hello(client, token) == (200, None)
    pin_clocks(monkeypatch, claims["exp"] + 7 - 0.001)
    assert hello(client, token) == (200, None)  # remembered, and PyJWT would agree
    pin_clocks(monkeypatch, claims["exp"] + 7)
    assert hello(client, token) == refused("Signature has expired")
    assert full_checks == [token, token]
