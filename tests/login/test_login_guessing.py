"""POST /auth against guessing, enumeration and abuse (issue 3)."""

import logging
import statistics
import time

import pyotp
import pytest
from passlib.context import CryptContext
from passlib.hash import argon2, bcrypt, django_pbkdf2_sha256, pbkdf2_sha256, sha512_crypt
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.models import User
from jwtauthtest.passwords.hashing import password_context
from jwtauthtest.passwords.usernames import username_key
from jwtauthtest.second_factor import store as second_factor
from jwtauthtest.users import UserError, add_user

from conftest import PASSWORD, SECRET, USERNAME

INVALID_CREDENTIALS = {"status_code": 401, "error": "Bad Request",
                       "description": "Invalid credentials"}


def login(client, username=USERNAME, password=PASSWORD, address="127.0.0.1", **kwargs):
    return client.post("/auth", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, **kwargs)


def stored_hash(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id).password


def store_user(app, username, password_hash, active=True) -> int:
    """A user row written directly, as an older version of the app would have left it."""
    with app.app_context():
        user = User(username=username, password=password_hash, active=active)
        db.session.add(user)
        db.session.commit()
        return user.id


# --- password storage -------------------------------------------------------------------------

def test_production_parameters_are_at_or_above_owasp_minimum(database_uri):
    # The defaults themselves: no FAST_HASHING here.
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": database_uri,
                      "DATABASE_AUTO_UPGRADE": True})
    with app.app_context():
        new_hash = password_context().hash(PASSWORD)
    assert new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    info = argon2.from_string(new_hash)
    assert info.memory_cost >= 19 * 1024 and info.rounds >= 2 and info.parallelism == 1


def test_argon2_parameters_are_configurable(make_app):
    app = make_app(ARGON2_MEMORY_COST=2048, ARGON2_TIME_COST=2, ARGON2_PARALLELISM=2)
    with app.app_context():
        assert password_context().hash(PASSWORD).startswith("$argon2id$v=19$m=2048,t=2,p=2$")


LEGACY_HASHES = {
    "pbkdf2_sha256": lambda pw: pbkdf2_sha256.hash(pw),
    "bcrypt": lambda pw: bcrypt.hash(pw),
    "argon2-older-parameters": lambda pw: argon2.using(type="ID", memory_cost=512,
                                                       rounds=1).hash(pw),
    "argon2i": lambda pw: argon2.using(type="I", memory_cost=1024, rounds=1).hash(pw),
    "django_pbkdf2_sha256": lambda pw: django_pbkdf2_sha256.hash(pw),
    "sha512_crypt (passlib's custom_app_context)": lambda pw: sha512_crypt.hash(pw),
}


@pytest.mark.parametrize("make_hash", LEGACY_HASHES.values(), ids=LEGACY_HASHES.keys())
def test_legacy_hash_verifies_and_is_upgraded_in_the_same_request(app, client, caplog,
                                                                    make_hash):
    legacy = make_hash(PASSWORD)
    user_id = store_user(app, USERNAME, legacy)
    with caplog.at_level(logging.INFO, logger="jwtauthtest.audit"):
        response = login(client)
    assert response.status_code == 200
    upgraded = stored_hash(app, user_id)
    assert upgraded.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    with app.app_context():
        assert password_context().verify(PASSWORD, upgraded)
    assert 'reason="rehashed"' in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jwtauthtest.audit"):
        assert login(client).status_code == 200
    assert stored_hash(app, user_id) == upgraded
    assert 'reason="ok"' in caplog.text


def test_wrong_password_leaves_a_legacy_hash_alone(app, client):
    legacy = pbkdf2_sha256.hash(PASSWORD)
    user_id = store_user(app, USERNAME, legacy)
    response = login(client, password="not it")
    assert response.status_code == 401
    assert response.get_json() == INVALID_CREDENTIALS
    assert stored_hash(app, user_id) == legacy


def test_long_password_against_a_legacy_bcrypt_hash_is_401_not_500(app, client):
    store_user(app, USERNAME, bcrypt.hash(PASSWORD))
    response = login(client, password="x" * 1000)
    assert response.status_code == 401
    assert response.get_json() == INVALID_CREDENTIALS


def test_unrecognised_stored_hash_is_a_failed_login(app, client):
    store_user(app, USERNAME, "plaintext-from-a-broken-import")
    response = login(client, password="plaintext-from-a-broken-import")
    assert response.status_code == 401
    assert response.get_json() == INVALID_CREDENTIALS


# --- bounded work -----------------------------------------------------------------------------

@pytest.fixture
def count_verifications(monkeypatch):
    calls = []
    original = CryptContext.verify

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CryptContext, "verify", counting)
    return calls


def test_body_over_16_kib_is_413(client, user, count_verifications):
    body = '{"username": "admin", "password": "%s"}' % ("x" * 16 * 1024)
    response = client.post("/auth", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {
        "status_code": 413, "error": "Request Entity Too Large",
        "description": "The data value transmitted exceeds the capacity limit."}
    assert count_verifications == []


@pytest.mark.parametrize("username,password,description", [
    (USERNAME, "x" * 1025, "Password must be at most 1024 characters"),
    ("u" * 151, PASSWORD, "Username must be at most 150 characters"),
])
def test_over_long_credentials_are_400_without_hashing(client, user, count_verifications,
                                                       username, password, description):
    response = login(client, username, password)
    assert response.status_code == 400
    assert response.get_json() == {"status_code": 400, "error": "Bad Request",
                                   "description": description}
    assert count_verifications == []


def test_longest_allowed_credentials_are_checked(client, user, count_verifications):
    assert login(client, "u" * 150, "x" * 1024).get_json() == INVALID_CREDENTIALS
    assert count_verifications == [1]


def test_add_user_refuses_over_long_values(app):
    with app.app_context():
        with pytest.raises(UserError, match="^username must be at most 150 characters$"):
            add_user("u" * 151, PASSWORD)
        with pytest.raises(UserError, match="^password must be at most 1024 characters$"):
            add_user(USERNAME, "x" * 1025)
        assert db.session.scalars(select(User)).all() == []


# --- no user enumeration ----------------------------------------------------------------------

@pytest.mark.alone
def test_unknown_disabled_and_wrong_password_cost_the_same(make_app):
    # A cost where hashing, not the database, dominates, as in production.
    app = make_app(ARGON2_MEMORY_COST=16384, ARGON2_TIME_COST=2, RATELIMIT_ENABLED=False)
    with app.app_context():
        add_user("alice", PASSWORD)
        db.session.get(User, add_user("mallory", PASSWORD).id).active = False
        db.session.commit()
        turn_on_second_factor(add_user("carol", PASSWORD).id)
    client = app.test_client()
    cases = {"unknown user": ("nobody", PASSWORD), "disabled": ("mallory", PASSWORD),
             "wrong password": ("alice", "wrong"),
             "wrong password, second factor on": ("carol", "wrong")}
    login(client, "nobody", "warm-up")
    samples = {name: [] for name in cases}
    bodies = set()
    for _ in range(35):  # interleaved, so drift in machine load hits every case alike
        for name, (username, password) in cases.items():
            started = time.perf_counter()
            response = login(client, username, password)
            samples[name].append(time.perf_counter() - started)
            assert response.status_code == 401
            bodies.add((response.data, tuple(response.headers)))
    timings = {name: statistics.median(values) for name, values in samples.items()}
    assert len(bodies) == 1, "answers must be identical byte for byte"
    fastest, slowest = min(timings.values()), max(timings.values())
    assert slowest <= 1.25 * fastest, timings


def turn_on_second_factor(user_id: int) -> None:
    """A second factor for the user, enrolled with the app's current code (an app context)."""
    secret = second_factor.start_enrolment(user_id)
    assert second_factor.confirm_enrolment(user_id, pyotp.TOTP(secret).now()) is not None


@pytest.mark.alone
def test_a_right_password_costs_the_same_with_or_without_a_second_factor(make_app):
    """The challenge takes the place of the session: neither kind of user answers sooner."""
    app = make_app(ARGON2_MEMORY_COST=16384, ARGON2_TIME_COST=2, RATELIMIT_ENABLED=False)
    with app.app_context():
        add_user("alice", PASSWORD)
        turn_on_second_factor(add_user("carol", PASSWORD).id)
    client = app.test_client()
    login(client, "nobody", "warm-up")
    samples = {"alice": [], "carol": []}
    for _ in range(25):
        for name, times in samples.items():
            started = time.perf_counter()
            response = login(client, name)
            times.append(time.perf_counter() - started)
            assert response.status_code == (200 if name == "alice" else 401)
    timings = {name: statistics.median(values) for name, values in samples.items()}
    assert max(timings.values()) <= 1.25 * min(timings.values()), timings


def test_usernames_are_unique_case_insensitively_and_under_nfkc(app, client):
    with app.app_context():
        user = add_user("Ａｄｍｉｎ", PASSWORD)  # fullwidth letters: NFKC makes them "Admin"
        assert user.username == "Admin"
        for twin in ("admin", "ADMIN", "Admin"):
            with pytest.raises(UserError, match="^user already exists: "):
                add_user(twin, "another password")
    for spelling in ("admin", "ADMIN", "Admin", "Ａｄｍｉｎ", "aDmIn"):
        response = login(client, spelling)
        assert response.status_code == 200, spelling


def test_the_database_refuses_a_case_variant(app):
    with app.app_context():
        add_user("Admin", PASSWORD)
        db.session.add(User(username="ADMIN", password="x"))  # past add_user's check
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(IntegrityError):
            db.session.execute(text("INSERT INTO users (username, username_key, password)"
                                    " VALUES ('aDMIN', :key, 'x')"), {"key": username_key("aDMIN")})
        db.session.rollback()
        assert db.session.scalar(text("SELECT count(*) FROM users")) == 1


def test_unicode_case_folding_beyond_ascii(app, client):
    with app.app_context():
        add_user("Straße", PASSWORD)
        with pytest.raises(UserError):
            add_user("STRASSE", PASSWORD)
    assert login(client, "STRASSE").status_code == 200
    assert login(client, "straße").status_code == 200


def test_disabled_user_cannot_log_in_and_tokens_are_refused(app, client, token, user):
    with app.app_context():
        db.session.get(User, user).active = False
        db.session.commit()
    response = login(client)
    assert response.status_code == 401
    assert response.get_json() == INVALID_CREDENTIALS
    response = client.get("/hello", headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 401
    assert response.get_json() == {"status_code": 401, "error": "Invalid JWT",
                                   "description": "User does not exist"}


@pytest.mark.alone
def test_the_first_unknown_username_costs_no_more_than_the_rest(make_app):
    """The dummy hash is made at start, not by the first unknown login (which would stand out)."""
    app = make_app(ARGON2_MEMORY_COST=16384, ARGON2_TIME_COST=2, RATELIMIT_ENABLED=False)
    with app.app_context():
        add_user("alice", PASSWORD)
    client = app.test_client()
    started = time.perf_counter()
    assert login(client, "nobody-1", PASSWORD).status_code == 401
    first = time.perf_counter() - started
    later = []
    for i in range(9):
        started = time.perf_counter()
        assert login(client, "alice" if i % 2 else f"nobody-{i + 2}", "wrong").status_code == 401
        later.append(time.perf_counter() - started)
    assert first <= 1.6 * statistics.median(later), (first, later)  # twice the work would be 2x


def test_two_logins_rewriting_one_outdated_hash_both_succeed(app, client, monkeypatch):
    """Each verified the old hash; the second must not mistake the first's rewrite for a
    password change."""
    import threading

    import jwtauthtest.jwt

    user_id = store_user(app, USERNAME, pbkdf2_sha256.hash(PASSWORD))
    real_verify = jwtauthtest.jwt.verify_password
    both_verified = threading.Barrier(2, timeout=10)

    def verify_together(password, password_hash):
        result = real_verify(password, password_hash)
        both_verified.wait()  # both have read the old hash before either writes
        return result

    monkeypatch.setattr(jwtauthtest.jwt, "verify_password", verify_together)
    statuses = []
    clients = [threading.Thread(target=lambda: statuses.append(
        app.test_client().post("/auth", json={"username": USERNAME,
                                              "password": PASSWORD}).status_code))
               for _ in range(2)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=30)
    assert statuses == [200, 200]
    assert stored_hash(app, user_id).startswith("$argon2id$")


def test_a_bytes_secret_key_works(make_app):
    """os.urandom(32) in instance/config.py is the usual Flask idiom."""
    import os

    app = make_app(SECRET_KEY=os.urandom(32))
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    tokens = login(client).get_json()
    assert client.get("/hello", headers={"Authorization": f"JWT {tokens['access_token']}"}) \
        .status_code == 200
    assert login(client, password="wrong").status_code == 401
