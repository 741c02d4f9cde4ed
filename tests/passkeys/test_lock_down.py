"""Passkeys and locking an account down (issue 32): a passkey added with the password alone
is removed when the second factor is turned on, the password changed, or an operator logs the
user out or resets the second factor; deleting a passkey ends the sessions it signed in; a
passkey's owner sees where it was added from; passkey sign-ins are counted by credential;
two registrations of one credential at once; answers without user verification."""

import threading

import jwt as pyjwt
import pyotp
import pytest
from sqlalchemy import insert, select

from jwtauthtest.database import db
from jwtauthtest.models import Passkey, TokenFamily
from jwtauthtest.passkeys import ceremonies
from jwtauthtest.users import add_user

from account_api import bearer, password_login
from conftest import PASSWORD, USERNAME
from second_factor_api import turn_on
from soft_authenticator import SoftPasskey

pytest_plugins = ["second_factor_api"]

ORIGIN = "http://localhost:5000"
PASSKEYS_ON = {"WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGINS": [ORIGIN]}
NEW_PASSWORD = "a brand new long password"


@pytest.fixture
def app(app_with_user, clock):
    return app_with_user(**PASSKEYS_ON)


def fresh_token(client, username=USERNAME, password=PASSWORD):
    response = password_login(client, password, username)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def register(client, passkey, token, name="Laptop", headers=None, **request):
    options = client.post("/auth/passkeys/options", headers=bearer(token))
    assert options.status_code == 200, options.get_json()
    return client.post("/auth/passkeys", headers={**bearer(token), **(headers or {})},
                       json={"credential": passkey.create(options.get_json()), "name": name},
                       **request)


def registered(client, token, name="Laptop"):
    """A new passkey of the token's user, registered."""
    passkey = SoftPasskey(ORIGIN)
    response = register(client, passkey, token, name)
    assert response.status_code == 201, response.get_json()
    passkey.id = response.get_json()["id"]
    return passkey


def sign_in(client, passkey):
    options = client.post("/auth/passkey/options").get_json()
    return client.post("/auth/passkey", json={"credential": passkey.get(options)})


def passkey_session(client, passkey):
    """The tokens of a sign-in with the passkey."""
    response = sign_in(client, passkey)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def refreshes(client, tokens):
    return client.post("/auth/refresh",
                       headers=bearer(tokens["refresh_token"])).status_code == 200


def stored(app):
    with app.app_context():
        return {p.name: p.with_second_factor for p in db.session.scalars(select(Passkey))}


def test_turning_the_second_factor_on_removes_what_the_password_alone_added(app, clock):
    """The attack: someone with the password adds a passkey of their own; the owner turns the
    second factor on. Their passkey, and the session it signed in, must not survive it."""
    attacker, owner = app.test_client(), app.test_client()
    theirs = registered(attacker, fresh_token(attacker), "Attacker's")
    their_session = passkey_session(attacker, theirs)
    _, confirmed = turn_on(owner, fresh_token(owner), clock["t"])
    assert confirmed["passkeys_removed"] == [{"id": theirs.id, "name": "Attacker's"}]
    assert stored(app) == {}
    assert sign_in(attacker, theirs).get_json()["description"] == \
        "This passkey is not registered here"
    assert not refreshes(attacker, their_session)


def test_a_passkey_added_with_the_second_factor_stays_when_it_is_locked_down(app, clock):
    client = app.test_client()
    token = fresh_token(client)
    turn_on(client, token, clock["t"])  # this session is kept, and fresh
    mine = registered(client, token, "Mine")
    assert stored(app) == {"Mine": True}
    clock["t"] += 30
    secret_free = client.post("/auth/password", headers=bearer(token), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert secret_free.status_code == 200
    assert stored(app) == {"Mine": True}
    assert sign_in(client, mine).status_code == 200


def test_without_a_second_factor_a_fresh_password_login_still_adds_passkeys(app):
    client = app.test_client()
    registered(client, fresh_token(client))
    assert stored(app) == {"Laptop": False}


def test_a_password_change_removes_them_and_the_sessions_they_signed_in(app):
    client = app.test_client()
    passkey = registered(client, fresh_token(client))
    signed_in = passkey_session(app.test_client(), passkey)
    changed = client.post("/auth/password", headers=bearer(fresh_token(client)), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert stored(app) == {}
    assert not refreshes(client, signed_in)
    assert sign_in(client, passkey).status_code == 401


def add_as_if_with_a_second_factor(app, name="Key"):
    with app.app_context():
        db.session.execute(insert(Passkey).values(
            id=name.lower(), user_id=app.user_id, user_handle="h", public_key="k",
            sign_count=0, transports="[]", name=name, created_at=1.0, with_second_factor=True))
        db.session.commit()


@pytest.mark.parametrize("command", [["users", "passwd", USERNAME, "--password-stdin"],
                                     ["users", "logout", USERNAME]])
def test_the_operators_lock_downs_remove_them(app, caplog, command):
    client = app.test_client()
    token = fresh_token(client)
    registered(client, token, "Phone")
    add_as_if_with_a_second_factor(app)  # it stays
    result = app.test_cli_runner().invoke(args=command, input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(
        "; removed 1 passkey(s) added with the password alone: 'Phone'")
    assert stored(app) == {"Key": True}
    assert "passkeys_removed=1" in caplog.text
    assert client.get("/hello", headers=bearer(token)).status_code == 401


def test_a_reset_of_the_second_factor_removes_every_passkey(app, caplog):
    """Those added with the second factor too: it no longer stands behind them."""
    client = app.test_client()
    token = fresh_token(client)
    registered(client, token, "Phone")
    add_as_if_with_a_second_factor(app)
    result = app.test_cli_runner().invoke(
        args=["users", "second-factor", "reset", USERNAME, "--yes"])
    assert result.output.rstrip().endswith("; removed 2 passkey(s): 'Key', 'Phone'")
    assert stored(app) == {}
    assert "second_factor_reset" in caplog.text and "passkeys_removed=2" in caplog.text


def test_a_second_factor_of_the_attackers_own_launders_no_passkey(app, clock):
    """Someone with the password turns on a second factor of their own and adds a passkey
    under it; the owner, locked out, has an operator reset the factor: the passkey goes."""
    attacker = app.test_client()
    token = fresh_token(attacker)
    turn_on(attacker, token, clock["t"])
    theirs = registered(attacker, token, "Attacker's")
    assert stored(app) == {"Attacker's": True}
    app.test_cli_runner().invoke(args=["users", "second-factor", "reset", USERNAME, "--yes"])
    assert stored(app) == {}
    assert sign_in(attacker, theirs).status_code == 401


def test_turning_the_second_factor_off_removes_every_passkey(app, clock):
    client = app.test_client()
    token = fresh_token(client)
    secret, _ = turn_on(client, token, clock["t"])
    registered(client, token, "Mine")
    clock["t"] += 30
    off = client.delete("/auth/second-factor", headers=bearer(token),
                        json={"code": pyotp.TOTP(secret).at(clock["t"])})
    assert off.status_code == 200, off.get_json()
    assert [p["name"] for p in off.get_json()["passkeys_removed"]] == ["Mine"]
    assert stored(app) == {}


def test_an_import_that_updates_a_password_locks_the_account_down(app, tmp_path):
    client = app.test_client()
    registered(client, fresh_token(client), "Phone")
    path = tmp_path / "users.csv"
    path.write_text(f"username,password\n{USERNAME},{NEW_PASSWORD}\n")
    result = app.test_cli_runner().invoke(args=["users", "import", str(path), "--update"])
    assert result.exit_code == 0, result.output
    assert "1 passkey(s) added with the password alone removed" in result.output
    assert stored(app) == {}


def test_a_lock_down_with_no_passkey_to_remove_says_nothing_of_them(app):
    result = app.test_cli_runner().invoke(args=["users", "logout", USERNAME])
    assert result.exit_code == 0
    assert "passkey" not in result.output


def test_deleting_a_passkey_ends_the_sessions_it_signed_in(app):
    client = app.test_client()
    token = fresh_token(client)
    passkey = registered(client, token)
    elsewhere = passkey_session(app.test_client(), passkey)
    deleted = client.delete(f"/auth/passkeys/{passkey.id}", headers=bearer(token))
    assert deleted.get_json() == {"status": "passkey removed", "ended": 1,
                                  "this_session_ended": False}
    assert not refreshes(client, elsewhere)
    assert client.get("/hello", headers=bearer(token)).status_code == 200  # a password's


def test_deleting_the_passkey_this_session_signed_in_with_ends_it(app):
    client = app.test_client()
    passkey = registered(client, fresh_token(client))
    tokens = passkey_session(client, passkey)
    deleted = client.delete(f"/auth/passkeys/{passkey.id}",
                            headers=bearer(tokens["access_token"]))
    assert deleted.get_json() == {"status": "passkey removed", "ended": 1,
                                  "this_session_ended": True}
    assert client.get("/hello", headers=bearer(tokens["access_token"])).status_code == 401


def test_the_operator_removing_a_passkey_ends_its_sessions(app, caplog):
    client = app.test_client()
    passkey = registered(client, fresh_token(client))
    tokens = passkey_session(client, passkey)
    result = app.test_cli_runner().invoke(
        args=["users", "passkeys", "remove", "--yes", USERNAME, "--", passkey.id])
    assert result.output.endswith("; ended 1 session(s)\n")
    assert f'passkey="{passkey.id}" sessions=1' in caplog.text
    assert not refreshes(client, tokens)


def test_the_second_factor_kept_for_the_confirming_session_even_from_a_removed_passkey(
        app, clock):
    """The session that turns the second factor on has just proved a code: it stays, though
    the passkey it signed in with (added with the password alone) goes."""
    client = app.test_client()
    passkey = registered(client, fresh_token(client))
    tokens = passkey_session(client, passkey)
    _, confirmed = turn_on(client, tokens["access_token"], clock["t"])
    assert [p["name"] for p in confirmed["passkeys_removed"]] == ["Laptop"]
    assert refreshes(client, tokens)
    with app.app_context():
        assert db.session.scalars(select(TokenFamily.passkey_id)).all() == [None]


def test_the_owner_sees_where_each_passkey_was_added_from(app):
    client = app.test_client()
    response = register(client, SoftPasskey(ORIGIN), fresh_token(client),
                        environ_base={"REMOTE_ADDR": "203.0.113.7"},
                        headers={"User-Agent": "Firefox/140 \x00on\tLinux " + "x" * 300})
    body = response.get_json()
    assert (body["address"], body["with_second_factor"]) == ("203.0.113.7", False)
    assert body["user_agent"] == "Firefox/140 onLinux " + "x" * 236  # printable, 256 at most
    listed = client.get("/auth/passkeys", headers=bearer(fresh_token(client))).get_json()
    assert listed["passkeys"] == [body]


def test_another_users_passkey_cannot_be_renamed_or_deleted_by_its_id(app):
    client = app.test_client()
    alices = registered(client, fresh_token(client), "Alice's")
    with app.app_context():
        add_user("bob", "a long password of his own")
    bob = fresh_token(client, "bob", "a long password of his own")
    renamed = client.patch(f"/auth/passkeys/{alices.id}", headers=bearer(bob),
                           json={"name": "Bob's now"})
    deleted = client.delete(f"/auth/passkeys/{alices.id}", headers=bearer(bob))
    for response in (renamed, deleted):
        assert (response.status_code, response.get_json()["description"]) == \
            (404, "You have no passkey with this id")
    assert stored(app) == {"Alice's": False}


def test_registering_needs_a_fresh_token(app):
    client = app.test_client()
    tokens = password_login(client).get_json()
    stale = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
    token = stale.get_json()["access_token"]
    options = client.post("/auth/passkeys/options", headers=bearer(tokens["access_token"]))
    response = client.post("/auth/passkeys", headers=bearer(token), json={
        "credential": SoftPasskey(ORIGIN).create(options.get_json()), "name": "Laptop"})
    assert (response.status_code, response.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token", "description": "Fresh token required"})
    assert stored(app) == {}


def test_answers_without_user_verification_are_refused(app):
    client = app.test_client()
    unverified = SoftPasskey(ORIGIN)
    unverified.user_verified = False
    response = register(client, unverified, fresh_token(client))
    assert response.status_code == 400
    assert response.get_json()["description"].startswith("User verification is required")
    passkey = registered(client, fresh_token(client))
    passkey.user_verified = False
    refused = sign_in(client, passkey)
    assert refused.status_code == 401
    assert refused.get_json()["description"].startswith("User verification is required")


def test_two_registrations_of_one_credential_at_once_are_one_passkey_and_a_400(app,
                                                                             monkeypatch):
    """The second insert meets the first's row in the database (not the check before it):
    it is the 'registered already' answer, not a 503."""
    client = app.test_client()
    token = fresh_token(client)
    passkey = SoftPasskey(ORIGIN)
    first, second = (passkey.create(client.post("/auth/passkeys/options",
                                                headers=bearer(token)).get_json())
                     for _ in range(2))
    checked, other_done = threading.Event(), threading.Event()
    make_storable = ceremonies.storable  # called for the insert, after the check
    answers = []

    def wait_after_the_check(*args):
        if not checked.is_set():  # the first: let the second register meanwhile
            checked.set()
            assert other_done.wait(timeout=10)
        return make_storable(*args)

    monkeypatch.setattr(ceremonies, "storable", wait_after_the_check)

    def post(answer):
        answers.append(app.test_client().post("/auth/passkeys", headers=bearer(token),
                                              json={"credential": answer, "name": "Laptop"}))

    late = threading.Thread(target=post, args=(first,))
    late.start()
    assert checked.wait(timeout=10)
    post(second)
    other_done.set()
    late.join(timeout=30)
    early, loser = answers
    assert early.status_code == 201
    assert (loser.status_code, loser.get_json()) == (400, {
        "status_code": 400, "error": "Passkey refused",
        "description": "This passkey is registered already"})
    assert stored(app) == {"Laptop": False}


def test_refused_sign_ins_are_counted_by_the_credential_they_name(app_with_user):
    """With no client address, one client's refused answers lock out only the credential
    they name, not every passkey sign-in."""
    app = app_with_user(**PASSKEYS_ON, RATELIMIT_LOGIN_FAILURES="3 per minute")
    client = app.test_client()
    mine = registered(client, fresh_token(client))
    unknown = SoftPasskey(ORIGIN)
    unknown.user_handle = b"someone"
    no_address = {"REMOTE_ADDR": ""}

    def answer(passkey):
        options = client.post("/auth/passkey/options", environ_base=no_address).get_json()
        return client.post("/auth/passkey", environ_base=no_address,
                           json={"credential": passkey.get(options)})

    for _ in range(3):
        assert answer(unknown).status_code == 401
    throttled = answer(unknown)
    assert (throttled.status_code, throttled.get_json()["description"]) == \
        (429, "Too many failed logins")
    assert answer(mine).status_code == 200


def test_refused_sign_ins_from_a_known_address_count_for_it_too(app_with_user):
    app = app_with_user(**PASSKEYS_ON, RATELIMIT_LOGIN_FAILURES="3 per minute")
    client = app.test_client()
    for _ in range(3):
        other = SoftPasskey(ORIGIN)
        other.user_handle = b"someone"
        assert sign_in(client, other).status_code == 401
    options = client.post("/auth/passkey/options")  # the address is spent
    assert (options.status_code, options.get_json()["description"]) == \
        (429, "Too many failed logins")


def test_a_passkey_session_records_its_passkey(app):
    client = app.test_client()
    passkey = registered(client, fresh_token(client))
    tokens = passkey_session(client, passkey)
    family = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})["fam"]
    with app.app_context():
        assert db.session.get(TokenFamily, family).passkey_id == passkey.id


def elsewhere(work):
    """Run work in a thread of its own, as another request would (its own app context and
    database session), while this one waits; what it returned."""
    done = []
    thread = threading.Thread(target=lambda: done.append(work()))
    thread.start()
    thread.join(timeout=30)
    return done[0]


def test_a_registration_racing_the_lock_down_stores_nothing(app, clock, monkeypatch):
    """The attacker's registration is verified; before it is stored, the owner turns the
    second factor on, which ends the attacker's session: the passkey must not land after
    the lock-down as one added with the password alone."""
    attacker, owner = app.test_client(), app.test_client()
    token = fresh_token(attacker)
    options = attacker.post("/auth/passkeys/options", headers=bearer(token)).get_json()
    answer = SoftPasskey(ORIGIN).create(options)
    make_storable = ceremonies.storable  # called for the insert, after verification

    def owner_locks_down_first(*args):
        if not hasattr(owner, "confirmed"):
            owner.confirmed = elsewhere(lambda: turn_on(owner, fresh_token(owner), clock["t"]))
        return make_storable(*args)

    monkeypatch.setattr(ceremonies, "storable", owner_locks_down_first)
    response = attacker.post("/auth/passkeys", headers=bearer(token),
                             json={"credential": answer, "name": "Attacker's"})
    assert (response.status_code, response.get_json()["description"]) == \
        (401, "Token has been revoked")
    assert stored(app) == {}


def test_a_password_change_racing_the_second_factor_is_refused(app, clock, monkeypatch):
    """A change that found no second factor (so asked no code) and checked the password
    while the owner turned one on: refused, not a password and a fresh session."""
    from jwtauthtest.account import api

    attacker, owner = app.test_client(), app.test_client()
    token = fresh_token(attacker)
    verify = api.verify_password

    def owner_turns_it_on_meanwhile(*args):
        verified = verify(*args)
        elsewhere(lambda: turn_on(owner, fresh_token(owner), clock["t"]))
        return verified

    monkeypatch.setattr(api, "verify_password", owner_turns_it_on_meanwhile)
    response = attacker.post("/auth/password", headers=bearer(token), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert (response.status_code, response.get_json()["description"]) == \
        (401, "Token has been revoked")
    assert password_login(app.test_client()).get_json()["error"] == "Second factor required"


def test_a_code_for_a_factor_turned_off_meanwhile_is_wrong_not_429(app, clock, monkeypatch):
    from jwtauthtest.account import api

    client = app.test_client()
    token = fresh_token(client)
    secret, _ = turn_on(client, token, clock["t"])
    verify = api.verify_password

    def reset_meanwhile(*args):
        verified = verify(*args)
        app.test_cli_runner().invoke(args=["users", "second-factor", "reset", USERNAME,
                                           "--yes"])
        return verified

    monkeypatch.setattr(api, "verify_password", reset_meanwhile)
    clock["t"] += 30
    response = client.post("/auth/password", headers=bearer(token), json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "code": pyotp.TOTP(secret).at(clock["t"])})
    assert (response.status_code, response.get_json()["description"]) == \
        (401, "The code is not right")
