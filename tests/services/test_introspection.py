"""POST /auth/introspect (issue 37): RFC 7662 for the clients an operator made, every answer
of a live token exact, every other token `{"active": false}`, and asking changes nothing."""

import base64
import hashlib
import hmac
import logging
import time
from datetime import timedelta

import jwt as pyjwt
import pytest
from sqlalchemy import select

from jwtauthtest.clients.model import Client
from jwtauthtest.clients.store import remove_client
from jwtauthtest.database import db
from jwtauthtest.keys.keyset import key_set
from jwtauthtest.keys.material import derive_key
from jwtauthtest.models import ThrottleCounter, TokenFamily
from jwtauthtest.users import add_user, change_password, delete_user, set_active

from conftest import PASSWORD, SECRET, USERNAME, counted
from introspection import basic, introspect, new_client
from token_makers import flask_jwt_claims, sign

INACTIVE = {"active": False}
REALM = 'Basic realm="introspection"'


@pytest.fixture
def rs(app):
    """A resource server's client credentials."""
    return new_client(app)


def login(client):
    """The token pair of a password login."""
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refresh(client, refresh_token):
    return client.post("/auth/refresh", headers={"Authorization": f"JWT {refresh_token}"})


def claims_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})


def answer(client, rs, token, hint=None):
    response = introspect(client, rs, token, hint)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_a_live_access_token_and_refresh_token_answer_every_field_exactly(client, user, rs):
    pair = login(client)
    for kind, token in (("access_token", pair["access_token"]),
                        ("refresh_token", pair["refresh_token"])):
        claims = claims_of(token)
        assert answer(client, rs, token) == {
            "active": True, "sub": str(user), "username": USERNAME, "token_type": kind,
            "exp": claims["exp"], "iat": claims["iat"], "jti": claims["jti"]}


@pytest.mark.parametrize("audience", ["api", ["api", "billing"]])
def test_with_an_issuer_and_audience_the_answer_names_them(make_app, audience):
    app = make_app(JWT_ISSUER="https://auth.example", JWT_AUDIENCE=audience)
    client = app.test_client()
    with app.app_context():
        user_id = add_user(USERNAME, PASSWORD).id
    rs = new_client(app)
    token = login(client)["access_token"]
    claims = pyjwt.decode(token, options={"verify_signature": False, "verify_aud": False})
    assert answer(client, rs, token) == {
        "active": True, "sub": str(user_id), "username": USERNAME,
        "token_type": "access_token", "exp": claims["exp"], "iat": claims["iat"],
        "jti": claims["jti"], "iss": "https://auth.example", "aud": audience}


def test_a_flask_jwt_token_has_no_jti_and_ends_at_a_password_change(app, client, user, rs):
    claims = flask_jwt_claims(user)
    token = sign(claims, SECRET)
    assert answer(client, rs, token) == {
        "active": True, "sub": str(user), "username": USERNAME, "token_type": "access_token",
        "exp": claims["exp"], "iat": claims["iat"]}
    time.sleep(0.01)  # the change's cut-off comes after the token's iat
    with app.app_context():
        change_password(USERNAME, "another long password")
    assert answer(client, rs, token) == INACTIVE


def test_a_logout_reads_inactive_at_the_next_call(client, user, rs):
    pair = login(client)
    assert answer(client, rs, pair["access_token"])["active"] is True
    assert client.post("/auth/logout", headers={
        "Authorization": f"JWT {pair['access_token']}"}).status_code == 200
    assert answer(client, rs, pair["access_token"]) == INACTIVE
    assert answer(client, rs, pair["refresh_token"]) == INACTIVE


@pytest.mark.parametrize("end", ["password", "disable", "delete"])
def test_every_token_of_a_user_changed_or_gone_is_inactive(app, client, user, rs, end):
    pair = login(client)
    with app.app_context():
        {"password": lambda: change_password(USERNAME, "another long password"),
         "disable": lambda: set_active(USERNAME, False),
         "delete": lambda: delete_user(USERNAME)}[end]()
    assert answer(client, rs, pair["access_token"]) == INACTIVE
    assert answer(client, rs, pair["refresh_token"]) == INACTIVE


@pytest.mark.parametrize("which", ["JWT_EXPIRATION_DELTA", "JWT_REFRESH_EXPIRATION_DELTA"])
def test_an_expired_token_is_inactive(make_app, which):
    app = make_app(**{which: timedelta(seconds=-60)})
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client, rs = app.test_client(), new_client(app)
    pair = login(client)
    expired = pair["access_token" if which == "JWT_EXPIRATION_DELTA" else "refresh_token"]
    assert answer(client, rs, expired) == INACTIVE


def test_a_spent_refresh_token_is_inactive_and_asking_spends_nothing(app, client, user, rs):
    """Within the grace, from the client that spent it: a refresh would take it, but it is
    spent. Introspecting it neither revokes the session as reuse nor rotates anything."""
    first = login(client)["refresh_token"]
    second = refresh(client, first).get_json()["refresh_token"]
    for _ in range(3):
        assert answer(client, rs, first) == INACTIVE
        assert answer(client, rs, second)["active"] is True
    with app.app_context():
        family = db.session.get(TokenFamily, claims_of(second)["fam"])
        assert (family.refresh_jti, family.previous_refresh_jti) == (
            claims_of(second)["jti"], claims_of(first)["jti"])
    third = refresh(client, second)  # the session goes on, from the token it had
    assert third.status_code == 200, third.get_json()
    assert answer(client, rs, third.get_json()["access_token"])["active"] is True


def test_after_a_grace_answer_both_tokens_the_client_may_hold_are_live(client, user, rs):
    first = login(client)["refresh_token"]
    lost = refresh(client, first).get_json()["refresh_token"]
    graced = refresh(client, first).get_json()["refresh_token"]  # the answer was lost
    assert [answer(client, rs, token)["active"] for token in (first, lost, graced)] == [
        False, True, True]


def test_asking_about_a_refresh_token_leaves_it_spendable_and_the_session_unused(
        app, client, user, rs):
    pair = login(client)
    for token in (pair["access_token"], pair["refresh_token"]) * 3:
        assert answer(client, rs, token)["active"] is True
    with app.app_context():
        family = db.session.get(TokenFamily, claims_of(pair["refresh_token"])["fam"])
        assert (family.last_used_at, family.previous_refresh_jti) == (None, None)
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_tokens_not_ours_or_not_tokens_are_inactive(app, client, user, rs):
    pair = login(client)
    with app.app_context():
        kid = key_set().signing_kid
    claims = claims_of(pair["access_token"])
    forged = sign(claims, "another key set's secret, 32 bytes or more", header={
        "alg": "HS256", "typ": "JWT", "kid": kid})
    unknown_kid = sign(claims, SECRET, header={"alg": "HS256", "typ": "JWT", "kid": "hs-0"})
    for token in (forged, unknown_kid, sign(flask_jwt_claims(user), "not our secret at all!"),
                  pair["access_token"][:-4], "garbage", "a.b.c", "", " ", "\0"):
        assert answer(client, rs, token) == INACTIVE, token


def test_the_hint_orders_the_checks_and_a_wrong_one_finds_the_same_answer(client, user, rs):
    pair = login(client)
    for token, kind in ((pair["access_token"], "access_token"),
                        (pair["refresh_token"], "refresh_token")):
        found = {hint: answer(client, rs, token, hint)
                 for hint in (None, "access_token", "refresh_token", "something_else")}
        assert {found[hint]["token_type"] for hint in found} == {kind}
        assert len({tuple(sorted(found[hint].items())) for hint in found}) == 1


def test_without_a_token_parameter_it_is_400(client, user, rs):
    for form in ({}, {"token_type_hint": "access_token"}):
        response = client.post("/auth/introspect", data=form, headers=basic(*rs))
        assert response.status_code == 400
        assert response.get_json() == {
            "status_code": 400, "error": "invalid_request",
            "description": "Send the token to introspect once, as the form parameter token "
                           "(application/x-www-form-urlencoded)"}
        assert response.headers["Cache-Control"] == "no-store"
    as_json = client.post("/auth/introspect", json={"token": "x"}, headers=basic(*rs))
    assert as_json.status_code == 400
    twice = client.post("/auth/introspect", data="token=a&token=b", headers={
        **basic(*rs), "Content-Type": "application/x-www-form-urlencoded"})
    assert twice.status_code == 400


def test_wrong_or_missing_client_credentials_are_401_with_basic(app, client, user, rs, caplog):
    token = login(client)["access_token"]
    client_id, secret = rs
    cases = {
        "wrong secret": introspect(client, (client_id, secret[:-1] + "x"), token),
        "unknown client": introspect(client, ("nobody", secret), token),
        "an id no client can have": introspect(client, ("x" * 33, secret), token),
        "a NUL in the id": introspect(client, (client_id + "\0", secret), token),
        "no Basic": introspect(client, None, token),
        "a JWT instead": introspect(client, None, token, headers={
            "Authorization": f"JWT {token}"}),
        "not base64": introspect(client, None, token, headers={
            "Authorization": "Basic !!!"}),
    }
    for case, response in cases.items():
        assert response.status_code == 401, case
        assert response.headers["WWW-Authenticate"] == REALM, case
        assert response.headers["Cache-Control"] == "no-store", case
        body = response.get_json()
        assert set(body) == {"status_code", "error", "description"}, case
        assert (body["status_code"], body["error"]) == (401, "invalid_client"), case
        assert "active" not in body


def test_credentials_are_form_urldecoded_before_they_are_checked(client, user, rs):
    """RFC 6749 2.3.1: a client may encode any character of its id and secret."""
    client_id, secret = rs
    spelled = "".join(f"%{ord(c):02X}" for c in client_id), secret.replace("-", "%2D")
    header = "Basic " + base64.b64encode(f"{spelled[0]}:{spelled[1]}".encode()).decode()
    response = client.post("/auth/introspect", data={"token": "x"},
                           headers={"Authorization": header})
    assert (response.status_code, response.get_json()) == (200, INACTIVE)


def test_a_removed_client_is_refused_at_its_next_call(app, client, user, rs):
    token = login(client)["access_token"]
    assert answer(client, rs, token)["active"] is True
    with app.app_context():
        remove_client("resource-server")
    response = introspect(client, rs, token)
    assert (response.status_code, response.headers["WWW-Authenticate"]) == (401, REALM)


def test_a_refused_client_is_a_warning_in_the_audit_log_and_a_success_is_not(
        client, user, rs, caplog):
    token = login(client)["access_token"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jwtauthtest.audit"):
        introspect(client, rs, token)
        introspect(client, (rs[0], "wrong"), token)
        introspect(client, None, token)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records
             if r.name == "jwtauthtest.audit"]
    assert lines == [
        ("WARNING", f'client_refused client_id="{rs[0]}" address="127.0.0.1" '
                    'reason="wrong secret"'),
        ("WARNING", 'client_refused client_id=null address="127.0.0.1" '
                    'reason="no credentials"')]
    assert "wrong" not in lines[0][1].replace("wrong secret", "")


def test_a_sent_client_id_is_logged_only_with_the_shape_of_ours(client, rs, caplog):
    """A resource server that swaps its client_id and secret sends the secret as its id: that
    must reach no log. Ours are 22 base64url characters; anything else is logged as null."""
    client_id, secret = rs
    unknown = "A" * 22
    with caplog.at_level(logging.DEBUG):
        for credentials in ((secret, client_id), (secret[:22] + "!", "x"), ("", secret),
                            (unknown, secret)):
            assert introspect(client, credentials, "x").status_code == 401
    audit = [r.getMessage() for r in caplog.records if r.name == "jwtauthtest.audit"]
    assert audit == [
        'client_refused client_id=null address="127.0.0.1" reason="not a client id"'] * 3 + [
        f'client_refused client_id="{unknown}" address="127.0.0.1" reason="unknown client"']
    assert secret not in caplog.text
    assert not [r for r in caplog.records if secret in repr(vars(r))]


def test_introspections_are_throttled_per_client(make_app):
    app = make_app(RATELIMIT_INTROSPECTION="3 per minute")
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client, first, second = app.test_client(), new_client(app, "one"), new_client(app, "two")
    token = login(client)["access_token"]
    for _ in range(3):
        assert answer(client, first, token)["active"] is True
    throttled = introspect(client, first, token)
    assert throttled.status_code == 429
    assert throttled.get_json() == {"status_code": 429, "error": "Too Many Requests",
                                    "description": "Too many introspections by this client"}
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.headers["Cache-Control"] == "no-store"
    assert answer(client, second, token)["active"] is True  # another client's own count


def test_junk_tokens_do_not_use_up_a_clients_introspections(make_app):
    """A resource server's anonymous users may hand it any junk: a token refused before any
    database read (not a JWT, another key's, an unknown kid, expired) is not counted, and is
    answered inactive even past the limit."""
    app = make_app(RATELIMIT_INTROSPECTION="3 per minute")
    with app.app_context():
        user_id = add_user(USERNAME, PASSWORD).id
        kid = key_set().signing_kid
    client, rs = app.test_client(), new_client(app)
    token = login(client)["access_token"]
    claims = claims_of(token)
    junk = ["garbage", "a.b.c", token[:-4],
            sign(claims, "another key set's secret, 32 bytes or more", header={
                "alg": "HS256", "typ": "JWT", "kid": kid}),
            sign(claims, SECRET, header={"alg": "HS256", "typ": "JWT", "kid": "hs-0"}),
            sign(flask_jwt_claims(user_id, now=int(time.time()) - 3600), SECRET)]
    for _ in range(5):
        for token_ in junk:
            assert answer(client, rs, token_) == INACTIVE, token_
    for _ in range(3):
        assert answer(client, rs, token)["active"] is True
    assert introspect(client, rs, token).status_code == 429
    assert [answer(client, rs, token_) for token_ in junk] == [INACTIVE] * len(junk)


def test_failed_client_authentications_are_throttled_per_address(make_app):
    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    client, rs = app.test_client(), new_client(app)
    for _ in range(5):  # successes are not counted
        assert introspect(client, rs, "x").status_code == 200
    for _ in range(3):
        assert introspect(client, (rs[0], "wrong"), "x").status_code == 401
    throttled = introspect(client, rs, "x")  # refused before the credentials are checked
    assert throttled.status_code == 429
    assert throttled.get_json()["description"] == ("Too many failed client authentications "
                                                   "from your address")
    other = client.post("/auth/introspect", data={"token": "x"}, headers=basic(*rs),
                        environ_base={"REMOTE_ADDR": "10.0.0.2"})  # another address
    assert other.status_code == 200
    assert client.post("/auth", json={"username": "x", "password": "y"}).status_code == 401


def test_failed_client_authentications_from_one_ipv6_64_count_together(make_app):
    """As logins are: one client has a whole /64 to send from."""
    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    client, rs = app.test_client(), new_client(app)

    def from_(address, credentials):
        return client.post("/auth/introspect", data={"token": "x"},
                           headers=basic(*credentials), environ_base={"REMOTE_ADDR": address})

    for i in range(3):
        assert from_(f"2001:db8:1:2::{i + 1}", (rs[0], "wrong")).status_code == 401
    throttled = from_("2001:db8:1:2:ffff::1", rs)
    assert (throttled.status_code, throttled.get_json()["description"]) == (
        429, "Too many failed client authentications from your address")
    assert from_("2001:db8:1:3::1", rs).status_code == 200


def test_introspections_are_counted_by_outcome(make_app):
    app = make_app(METRICS_ENABLED=True)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client, rs = app.test_client(), new_client(app)
    before = {outcome: counted(app, "introspections", outcome=outcome)
              for outcome in ("active", "inactive", "unauthorized")}
    token = login(client)["access_token"]
    introspect(client, rs, token)
    introspect(client, rs, token)
    introspect(client, rs, "garbage")
    introspect(client, None, token)
    after = {outcome: counted(app, "introspections", outcome=outcome) - before[outcome]
             for outcome in before}
    assert after == {"active": 2, "inactive": 1, "unauthorized": 1}
    assert counted(app, "tokens_rejected", reason="invalid") == 0


def test_the_secret_is_stored_as_an_hmac_keyed_from_secret_key(app, rs):
    client_id, secret = rs
    assert len(secret) == 43  # 32 random bytes, base64url
    with app.app_context():
        stored = db.session.scalar(select(Client).where(Client.id == client_id))
        row = [stored.id, stored.name, stored.secret_digest, stored.created_at,
               stored.last_used_at]
    assert secret not in " ".join(map(str, row))
    key = derive_key(SECRET.encode(), b"client secrets")
    assert stored.secret_digest == hmac.new(key, f"{client_id}:{secret}".encode(),
                                            hashlib.sha256).hexdigest()


def test_a_clients_last_use_is_noted_at_most_once_a_minute(app, client, rs, monkeypatch):
    def last_used():
        with app.app_context():
            return db.session.scalar(select(Client.last_used_at).where(Client.id == rs[0]))

    assert last_used() is None
    introspect(client, rs, "x")
    first = last_used()
    assert first is not None and abs(first - time.time()) < 5
    introspect(client, rs, "x")
    assert last_used() == first
    monkeypatch.setattr(time, "time", lambda: first + 61)
    introspect(client, rs, "x")
    assert last_used() == first + 61


def test_a_right_introspection_writes_no_shared_counter(make_app):
    """A resource server may ask on every request: its answers must not each be a write to
    the counters every process shares (the database's, by default)."""
    app = make_app()
    client, rs = app.test_client(), new_client(app)
    for _ in range(5):
        assert introspect(client, rs, "x").status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ThrottleCounter.key)).all() == []
    assert introspect(client, (rs[0], "wrong"), "x").status_code == 401
    with app.app_context():
        assert db.session.scalars(select(ThrottleCounter.key)).all() == [
            "LIMITER//client-address:127.0.0.1/10/1/minute"]
