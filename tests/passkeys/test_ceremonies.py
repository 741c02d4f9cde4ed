"""Passkeys (issue 27) against the webauthn library's verification, with a software
authenticator (tests/support/soft_authenticator.py): registering, signing in without a username, and
every refusal — a replayed or expired challenge, another origin or RP id, a sign count going
backwards, another account's credential — with nothing stored."""

import re
from dataclasses import replace
from importlib.metadata import version

import cbor2
import jwt as pyjwt
import pyotp
import pytest
from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.mail.outbox import message_of
from jwtauthtest.models import MailMessage, Passkey, User
from jwtauthtest.second_factor import store as second_factor
from jwtauthtest.settings import ConfigurationError
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME
from soft_authenticator import SoftPasskey, b64url, unb64url

ORIGIN = "http://localhost:5000"
PASSKEYS_ON = {"WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGINS": [ORIGIN]}
NO_CHALLENGE = "The challenge is unknown, expired or spent: ask for new options"


@pytest.fixture
def app(app_with_user):
    return app_with_user(**PASSKEYS_ON)


def bearer(token):
    return {"Authorization": f"JWT {token}"}


def fresh_token(client, username=USERNAME, password=PASSWORD):
    response = client.post("/auth", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def register(client, passkey, token=None, name="Laptop"):
    token = token or fresh_token(client)
    options = client.post("/auth/passkeys/options", headers=bearer(token))
    assert options.status_code == 200, options.get_json()
    return client.post("/auth/passkeys", headers=bearer(token),
                       json={"credential": passkey.create(options.get_json()), "name": name})


def sign_in(client, passkey, **answer):
    options = client.post("/auth/passkey/options").get_json()
    return client.post("/auth/passkey", json={"credential": passkey.get(options, **answer)})


def refused(description, status=401):
    return status, {"status_code": status, "error": "Passkey refused",
                    "description": description}


def stored(app):
    with app.app_context():
        return [(p.id, p.user_id, p.sign_count) for p in db.session.scalars(select(Passkey))]


def test_register_then_sign_in_without_a_username(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    registered = register(client, passkey)
    assert registered.status_code == 201
    body = registered.get_json()
    assert body == {"id": b64url(passkey.credential_id), "name": "Laptop",
                    "created_at": body["created_at"], "last_used_at": None,
                    "transports": ["internal"], "with_second_factor": False,
                    "address": "127.0.0.1", "user_agent": f"Werkzeug/{version('werkzeug')}"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", body["created_at"])
    signed_in = sign_in(client, passkey)
    assert signed_in.status_code == 200, signed_in.get_json()
    tokens = signed_in.get_json()
    assert sorted(tokens) == ["access_token", "refresh_token"]
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["fresh"] is True and claims["identity"] == app.user_id
    assert client.get("/hello", headers=bearer(tokens["access_token"])).status_code == 200
    assert stored(app) == [(body["id"], app.user_id, 1)]


def test_registration_options_ask_for_a_discoverable_verified_passkey(app):
    client = app.test_client()
    token = fresh_token(client)
    first = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    assert first["rp"] == {"id": "localhost", "name": "jwtauthtest"}
    assert first["authenticatorSelection"]["residentKey"] == "required"
    assert first["authenticatorSelection"]["userVerification"] == "required"
    assert first["excludeCredentials"] == []
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey, token)
    second = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    assert unb64url(second["user"]["id"]) == passkey.user_handle  # one handle per user
    assert [c["id"] for c in second["excludeCredentials"]] == [stored(app)[0][0]]
    assert second["challenge"] != first["challenge"]


def test_an_answer_presented_twice_is_refused_the_second_time(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    options = client.post("/auth/passkey/options").get_json()
    answer = passkey.get(options)
    assert client.post("/auth/passkey", json={"credential": answer}).status_code == 200
    again = client.post("/auth/passkey", json={"credential": answer})
    assert (again.status_code, again.get_json()) == refused(NO_CHALLENGE)


def test_a_registration_answer_presented_twice_stores_one_passkey(app):
    client = app.test_client()
    token = fresh_token(client)
    options = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    answer = SoftPasskey(ORIGIN).create(options)
    body = {"credential": answer, "name": "Laptop"}
    assert client.post("/auth/passkeys", headers=bearer(token), json=body).status_code == 201
    again = client.post("/auth/passkeys", headers=bearer(token), json=body)
    assert (again.status_code, again.get_json()) == refused(NO_CHALLENGE, 400)
    assert len(stored(app)) == 1


def test_an_expired_challenge_is_refused(app, monkeypatch):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    options = client.post("/auth/passkey/options").get_json()
    from jwtauthtest.passkeys import ceremonies
    later = ceremonies.time.time() + 301
    monkeypatch.setattr(ceremonies.time, "time", lambda: later)
    response = client.post("/auth/passkey", json={"credential": passkey.get(options)})
    assert (response.status_code, response.get_json()) == refused(NO_CHALLENGE)


def test_another_origin_is_refused_and_nothing_changes(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    before = stored(app)
    response = sign_in(client, passkey, origin="http://evil.localhost:5000")
    assert (response.status_code, response.get_json()["description"]) == (
        401, "Unexpected client data origin \"http://evil.localhost:5000\", expected one of "
             "['http://localhost:5000']")
    assert stored(app) == before
    token = fresh_token(client)
    options = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    elsewhere = client.post("/auth/passkeys", headers=bearer(token), json={
        "credential": SoftPasskey("https://evil.example").create(options), "name": "x"})
    assert elsewhere.status_code == 400
    assert stored(app) == before


def test_another_rp_id_is_refused(app):
    client = app.test_client()
    register(client, SoftPasskey(ORIGIN))
    wrong = SoftPasskey(ORIGIN, rp_id="example.com")
    token = fresh_token(client)
    options = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    response = client.post("/auth/passkeys", headers=bearer(token),
                           json={"credential": wrong.create(options), "name": "x"})
    assert (response.status_code, response.get_json()["description"]) == \
        (400, "Unexpected RP ID hash")
    assert len(stored(app)) == 1


def test_a_sign_count_going_backwards_is_refused_with_a_warning(app, caplog):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    assert sign_in(client, passkey).status_code == 200  # count 1
    copy = sign_in(client, passkey, count_up=False)  # a clone, still at 1
    assert (copy.status_code, copy.get_json()) == refused(
        "The passkey's sign count did not go up: a copy of the passkey, or an older answer "
        "of it; sign in again")
    warnings = [r.getMessage() for r in caplog.records
                if r.name == "jwtauthtest.audit" and r.levelname == "WARNING"]
    assert any(m.startswith(f"passkey_sign_count_backwards user_id={app.user_id} ")
               for m in warnings), warnings
    assert stored(app)[0][2] == 1


def test_a_forged_answer_with_a_low_count_is_no_warning(app, caplog):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    sign_in(client, passkey)
    forger = SoftPasskey(ORIGIN)  # another key claiming the same credential
    forger.credential_id, forger.user_handle = passkey.credential_id, passkey.user_handle
    response = sign_in(client, forger)
    assert response.status_code == 401
    assert "passkey_sign_count_backwards" not in caplog.text


def test_another_accounts_credential_is_refused(app):
    client = app.test_client()
    with app.app_context():
        add_user("bob", PASSWORD)
    alices, bobs = SoftPasskey(ORIGIN), SoftPasskey(ORIGIN)
    register(client, alices)
    register(client, bobs, fresh_token(client, "bob"))
    bobs.user_handle = alices.user_handle  # says it is Alice's
    response = sign_in(client, bobs)
    assert (response.status_code, response.get_json()) == \
        refused("This passkey belongs to another account")
    # Bob registering Alice's credential, or answering Alice's options, stores nothing.
    again = register(client, alices, fresh_token(client, "bob"))
    assert (again.status_code, again.get_json()) == \
        refused("This passkey is registered already", 400)
    token = fresh_token(client)
    options = client.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    theft = client.post("/auth/passkeys", headers=bearer(fresh_token(client, "bob")),
                        json={"credential": SoftPasskey(ORIGIN).create(options), "name": "x"})
    assert (theft.status_code, theft.get_json()) == refused(NO_CHALLENGE, 400)
    assert len(stored(app)) == 2


def test_an_unregistered_passkey_is_refused(app):
    response = sign_in(app.test_client(), SoftPasskey(ORIGIN))
    assert (response.status_code, response.get_json()) == \
        refused("This passkey is not registered here")


@pytest.mark.parametrize("credential", [{"id": 1}, "not json", [], {"response": {}},
                                        "[" * 5000])
def test_a_malformed_answer_is_refused(app, credential):
    client = app.test_client()
    response = client.post("/auth/passkey", json={"credential": credential})
    assert response.status_code == 401
    assert response.get_json()["description"].startswith("Not a passkey's answer: ")


def test_deeply_nested_client_data_is_refused_not_a_500(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    answer = passkey.get(client.post("/auth/passkey/options").get_json())
    answer["response"]["clientDataJSON"] = b64url(b"[" * 5000)
    response = client.post("/auth/passkey", json={"credential": answer})
    assert response.status_code == 401


class BrokenKeyPasskey(SoftPasskey):
    def __init__(self, cose_key: bytes) -> None:
        super().__init__(ORIGIN)
        self.broken = cose_key

    def cose_public_key(self) -> bytes:
        return self.broken


@pytest.mark.parametrize("cose_key", [
    cbor2.dumps({3: -7, -1: 1, -2: bytes(32), -3: bytes(32)}),  # no kty
    cbor2.dumps(7),  # not a map
    cbor2.dumps({1: 2, 3: -7, -1: 1, -2: b"\x01" * 32, -3: b"\x02" * 32}),  # off the curve
])
def test_a_public_key_that_cannot_verify_is_refused_at_registration(app, cose_key):
    response = register(app.test_client(), BrokenKeyPasskey(cose_key))
    assert response.status_code == 400
    assert stored(app) == []


def test_an_answer_without_a_user_handle_is_refused(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    answer = passkey.get(client.post("/auth/passkey/options").get_json())
    del answer["response"]["userHandle"]
    response = client.post("/auth/passkey", json={"credential": answer})
    assert (response.status_code, response.get_json()) == \
        refused("The passkey's answer has no user handle")


def test_an_answer_from_a_frame_of_another_site_is_refused(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    passkey.cross_origin = True
    response = sign_in(client, passkey)
    assert (response.status_code, response.get_json()) == \
        refused("Passkeys are not used from frames of other sites here")


def test_a_credential_id_over_1023_bytes_is_refused(app):
    passkey = SoftPasskey(ORIGIN)
    passkey.credential_id = bytes(1024)
    response = register(app.test_client(), passkey)
    assert (response.status_code, response.get_json()) == \
        refused("A credential id is at most 1023 bytes", 400)


def test_large_sign_counts_and_repeated_transports_are_stored(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    passkey.sign_count = 2**32 - 3
    passkey.transports = ["hybrid"] * 40 + ["internal"]
    body = register(client, passkey).get_json()
    assert body["transports"] == ["hybrid", "internal"]
    assert sign_in(client, passkey).status_code == 200
    assert stored(app)[0][2] == 2**32 - 2


def test_without_an_address_options_are_not_counted_but_capped(app_with_user, caplog):
    """One client without an address (a unix socket) can't use up a count every such client
    shares, nor lock out clients with an address; what it can make us store is bounded by
    WEBAUTHN_MAX_SIGN_IN_CHALLENGES."""
    client = app_with_user(**PASSKEYS_ON, RATELIMIT_LOGIN_ATTEMPTS="3 per minute",
                           WEBAUTHN_MAX_SIGN_IN_CHALLENGES=5).test_client()
    for _ in range(5):
        assert client.post("/auth/passkey/options",
                           environ_base={"REMOTE_ADDR": ""}).status_code == 200
    response = client.post("/auth/passkey/options", environ_base={"REMOTE_ADDR": ""})
    assert (response.status_code, response.get_json()) == (503, {
        "status_code": 503, "error": "Service Unavailable",
        "description": "Too many passkey sign-ins are under way; try again in a minute"})
    assert response.headers["Retry-After"] == "60"
    assert ("WEBAUTHN_MAX_SIGN_IN_CHALLENGES (5) sign-ins from clients without an address are "
            "under way") in caplog.text
    with_address = client.post("/auth/passkey/options")  # counted by its address instead
    assert with_address.status_code == 200


def test_the_cap_counts_live_sign_ins_of_clients_without_an_address_only(app, monkeypatch):
    client = app.test_client()
    app.extensions["jwtauthtest.passkeys"] = replace(app.extensions["jwtauthtest.passkeys"],
                                                     max_sign_in_challenges=2)
    no_address = {"REMOTE_ADDR": ""}
    token = fresh_token(client)
    for _ in range(3):  # registrations' challenges are bound to a user: not counted
        assert client.post("/auth/passkeys/options", headers=bearer(token)).status_code == 200
    for _ in range(3):  # nor sign-ins of clients with an address
        assert client.post("/auth/passkey/options").status_code == 200
    for _ in range(2):
        assert client.post("/auth/passkey/options", environ_base=no_address).status_code == 200
    assert client.post("/auth/passkey/options", environ_base=no_address).status_code == 503
    from jwtauthtest.passkeys import ceremonies
    later = ceremonies.time.time() + 301  # the two have expired: room again
    monkeypatch.setattr(ceremonies.time, "time", lambda: later)
    assert client.post("/auth/passkey/options", environ_base=no_address).status_code == 200


def test_rename_list_and_delete(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    passkey_id = register(client, passkey).get_json()["id"]
    token = fresh_token(client)
    renamed = client.patch(f"/auth/passkeys/{passkey_id}", headers=bearer(token),
                           json={"name": "  Phone  "})
    assert (renamed.status_code, renamed.get_json()["name"]) == (200, "Phone")
    listed = client.get("/auth/passkeys", headers=bearer(token)).get_json()["passkeys"]
    assert [(p["id"], p["name"]) for p in listed] == [(passkey_id, "Phone")]
    bad = client.patch(f"/auth/passkeys/{passkey_id}", headers=bearer(token),
                       json={"name": "x" * 65})
    assert bad.get_json()["description"] == \
        "A passkey's name must be 1 to 64 printable characters"
    deleted = client.delete(f"/auth/passkeys/{passkey_id}", headers=bearer(token))
    assert (deleted.status_code, deleted.get_json()) == \
        (200, {"status": "passkey removed", "ended": 0, "this_session_ended": False})
    gone = client.delete(f"/auth/passkeys/{passkey_id}", headers=bearer(token))
    assert (gone.status_code, gone.get_json()["description"]) == \
        (404, "You have no passkey with this id")
    assert sign_in(client, passkey).get_json()["description"] == \
        "This passkey is not registered here"


def test_a_passkey_stands_for_the_second_factor_too(app):
    client = app.test_client()
    token = fresh_token(client)
    kept = pyjwt.decode(token, options={"verify_signature": False})["fam"]
    with app.app_context():
        secret = second_factor.start_enrolment(app.user_id)
        second_factor.confirm_enrolment(app.user_id, pyotp.TOTP(secret).now(), kept)
    passkey = SoftPasskey(ORIGIN)
    assert register(client, passkey, token).get_json()["with_second_factor"] is True
    password = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert password.get_json()["error"] == "Second factor required"
    assert sign_in(client, passkey).status_code == 200


def test_a_disabled_users_passkey_is_refused(app):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    register(client, passkey)
    with app.app_context():
        db.session.get(User, app.user_id).active = False
        db.session.commit()
    response = sign_in(client, passkey)
    assert (response.status_code, response.get_json()) == \
        refused("This account cannot sign in")


def test_sign_in_options_are_throttled_by_address(app_with_user):
    client = app_with_user(**PASSKEYS_ON, RATELIMIT_LOGIN_ATTEMPTS="3 per minute").test_client()
    for _ in range(3):
        assert client.post("/auth/passkey/options").status_code == 200
    response = client.post("/auth/passkey/options")
    assert (response.status_code, response.get_json()["description"]) == \
        (429, "Too many login attempts")


def test_without_an_rp_id_passkeys_are_404(app_with_user):
    client = app_with_user().test_client()
    for method, path in (("post", "/auth/passkey/options"), ("post", "/auth/passkey"),
                         ("get", "/auth/passkeys")):
        headers = bearer(fresh_token(client)) if method == "get" else {}
        response = getattr(client, method)(path, headers=headers, json={"credential": {}})
        assert response.get_json() == {"status_code": 404, "error": "Not Found", "description":
                                       "Passkeys are off here (WEBAUTHN_RP_ID is not set)"}


RP_ID_MESSAGE = ("WEBAUTHN_RP_ID must be the site's host name in lower-case ASCII (xn-- for "
                 "other scripts), such as auth.example.com or localhost, not ")
ORIGIN_MESSAGE = ("is not an origin such as https://example.com (scheme and lower-case host, a "
                  "port only if not the default)")


@pytest.mark.parametrize("config,message", [
    ({"WEBAUTHN_RP_ID": "https://example.com"}, RP_ID_MESSAGE + "'https://example.com'"),
    ({"WEBAUTHN_RP_ID": "127.0.0.1"}, RP_ID_MESSAGE + "'127.0.0.1'"),
    ({"WEBAUTHN_RP_ID": "Example.com"}, RP_ID_MESSAGE + "'Example.com'"),
    ({"WEBAUTHN_RP_ID": "bücher.example"}, RP_ID_MESSAGE + "'bücher.example'"),
    ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://example.com:443"},
     f"WEBAUTHN_ORIGINS: 'https://example.com:443' {ORIGIN_MESSAGE}"),
    ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "https://user@example.com"},
     f"WEBAUTHN_ORIGINS: 'https://user@example.com' {ORIGIN_MESSAGE}"),
    ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["https://example.org"]},
     "WEBAUTHN_ORIGINS: https://example.org is not on WEBAUTHN_RP_ID example.com (its host "
     "must be example.com or end with .example.com)"),
    ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": "http://example.com"},
     "WEBAUTHN_ORIGINS: http://example.com must use https (browsers allow passkeys over http "
     "on localhost only)"),
    ({"WEBAUTHN_RP_ID": "example.com", "WEBAUTHN_ORIGINS": ["https://example.com/login"]},
     f"WEBAUTHN_ORIGINS: 'https://example.com/login' {ORIGIN_MESSAGE}"),
])
def test_inconsistent_settings_are_refused(make_app, config, message):
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        make_app(**config)


def test_the_operator_lists_and_removes_a_users_passkeys(app, caplog):
    client = app.test_client()
    passkey = SoftPasskey(ORIGIN)
    passkey_id = register(client, passkey, name="Phone").get_json()["id"]
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["users", "passkeys", "list", USERNAME])
    assert listed.exit_code == 0
    header, row = listed.output.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED", "LAST", "USED", "ADDED", "WITH",
                              "ADDRESS"]
    assert row.startswith(f"{passkey_id}  Phone  ")
    assert row.split()[-4:] == ["never", "password", "alone", "127.0.0.1"]
    remove = ["users", "passkeys", "remove", "--yes", USERNAME, "--", passkey_id]
    removed = runner.invoke(args=remove)
    assert removed.exit_code == 0 and removed.output.startswith(f"Removed passkey {passkey_id}")
    assert removed.output.endswith("; ended 0 session(s)\n")
    assert f'passkey_removed username="admin" passkey="{passkey_id}" sessions=0' in caplog.text
    again = runner.invoke(args=remove)
    assert (again.exit_code, again.output) == (
        1, f"Error: 'admin' has no passkey {passkey_id}\n")
    assert runner.invoke(args=["users", "passkeys", "list", USERNAME, "--json"]).output == "[]\n"
    assert sign_in(client, passkey).status_code == 401


@pytest.mark.parametrize("path,body,keys", [
    ("/auth/passkey", {}, "credential"),
    ("/auth/passkey", {"credential": {}, "name": "x"}, "credential"),
])
def test_a_body_of_other_keys_says_which_to_send(app, path, body, keys):
    """The one body check's words, as every other endpoint's (issue 35 changed them)."""
    response = app.test_client().post(path, json=body)
    assert (response.status_code, response.get_json()) == (400, {
        "status_code": 400, "error": "Bad Request",
        "description": f"Request body must have exactly the key {keys}"})


def test_a_registration_body_of_other_keys_says_which_to_send(app):
    client = app.test_client()
    for body in ({"credential": {}}, [], "x"):
        response = client.post("/auth/passkeys", headers=bearer(fresh_token(client)), json=body)
        assert response.get_json()["description"] == (
            "Request body must have exactly the keys credential and name"
            if isinstance(body, dict) else "Request body must be a JSON object")


def test_a_new_passkey_is_told_to_the_confirmed_address(make_app):
    app = make_app(**PASSKEYS_ON, MAIL_BACKEND="console", PUBLIC_URL="https://login.example.com")
    with app.app_context():
        add_user(USERNAME, PASSWORD, "admin@example.com")
    assert register(app.test_client(), SoftPasskey(ORIGIN), name="Work laptop").status_code == 201
    with app.app_context():
        [row] = db.session.scalars(select(MailMessage)).all()
        message = message_of(row)
    assert (message["To"], message["Subject"]) == ("admin@example.com",
                                                   "A passkey was added to your account")
    assert 'A passkey named "Work laptop" was added' in message.get_body(("plain",)).get_content()
