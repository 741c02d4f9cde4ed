"""Throttling of failed logins (Flask-Limiter): per address, per username, shared storage."""

import logging
import os
import uuid

import pytest

from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME

TOO_MANY = {"status_code": 429, "error": "Too Many Requests",
            "description": "Too many failed logins"}
TOO_MANY_ATTEMPTS = {**TOO_MANY, "description": "Too many login attempts"}
NO_ADDRESS_WARNING = (
    "Requests come without a client address (a unix socket?): logins are throttled per "
    "username (passkeys: per credential) only, and e-mail requests from all such clients "
    "share one client's RATELIMIT_MAIL_PER_CLIENT; behind a proxy, set FLASK_TRUSTED_PROXIES "
    "so that X-Forwarded-For gives it")


@pytest.fixture
def make_app(make_app):
    """conftest's make_app, with the users admin and bob in the test's database."""
    made = []

    def make(**config):
        app = make_app(**config)
        if not made:
            with app.app_context():
                add_user(USERNAME, PASSWORD)
                add_user("bob", PASSWORD)
        made.append(app)
        return app

    return make


def login(client, username=USERNAME, password="wrong", address="127.0.0.1", headers=None):
    return client.post("/auth", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def assert_throttled(response, body=TOO_MANY):
    assert response.status_code == 429
    assert response.get_json() == body
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def throttle_warnings(caplog):
    return [r.getMessage() for r in caplog.records
            if r.name == "jwtauthtest.throttle" and r.levelname == "WARNING"]


def test_ten_failures_a_minute_then_429(make_app):
    client = make_app().test_client()
    for _ in range(10):
        assert login(client).status_code == 401
    assert_throttled(login(client))
    # Even the right password waits: that is what stops guessing.
    assert_throttled(login(client, password=PASSWORD))


def test_successful_logins_do_not_count(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute").test_client()
    for _ in range(8):
        assert login(client, password=PASSWORD).status_code == 200
    for _ in range(3):
        assert login(client).status_code == 401
    assert_throttled(login(client))


def test_successful_logins_are_limited_too(make_app):
    """Each success is a session row and an argon2 check: at most RATELIMIT_LOGIN_ATTEMPTS."""
    client = make_app(RATELIMIT_LOGIN_ATTEMPTS="5 per minute").test_client()
    for _ in range(5):
        assert login(client, password=PASSWORD).status_code == 200
    assert_throttled(login(client, password=PASSWORD), TOO_MANY_ATTEMPTS)
    # Per username and per address: another user from another address is unaffected.
    assert login(client, "bob", PASSWORD, address="10.0.0.2").status_code == 200


def test_an_unknown_client_address_is_not_one_counter_for_everyone(make_app, caplog):
    """Behind a proxy on a unix socket every client has no address: counting it would let a
    few failures from anyone lock every user out. Logins are then counted per username."""
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute").test_client()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest.throttle"):
        for i in range(6):
            assert login(client, f"guess{i}", address="").status_code == 401
        assert login(client, "bob", PASSWORD, address="").status_code == 200
        for _ in range(3):
            login(client, address="")
        assert_throttled(login(client, address=""))  # still per username
    assert throttle_warnings(caplog) == [NO_ADDRESS_WARNING]


def test_a_proxy_that_is_not_trusted_is_reported_once(make_app, caplog):
    client = make_app().test_client()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest.throttle"):
        for i in range(3):
            login(client, f"guess{i}", headers={"X-Forwarded-For": f"203.0.113.{i}"})
    assert throttle_warnings(caplog) == [
        "Logins come through a proxy (X-Forwarded-For) but TRUSTED_PROXIES is 0: every client "
        "behind it shares the proxy's address, and its failures; set FLASK_TRUSTED_PROXIES to "
        "the number of proxies"]


def test_refused_bodies_do_not_count(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="2 per minute").test_client()
    for _ in range(5):
        assert client.post("/auth", data="nonsense").status_code == 400
    assert login(client, password=PASSWORD).status_code == 200


def test_limit_per_username_across_addresses_and_spellings(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute").test_client()
    for i, spelling in enumerate(["admin", "ADMIN", "Ａｄｍｉｎ"]):
        assert login(client, spelling, address=f"10.0.0.{i}").status_code == 401
    assert_throttled(login(client, "Admin", address="10.0.0.99"))
    # Another user from a fresh address is unaffected.
    assert login(client, "bob", PASSWORD, address="10.0.0.100").status_code == 200


def test_limit_per_address_across_usernames(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute").test_client()
    for i in range(3):
        assert login(client, f"guess{i}", address="192.0.2.7").status_code == 401
    assert_throttled(login(client, "bob", PASSWORD, address="192.0.2.7"))
    assert login(client, "bob", PASSWORD, address="192.0.2.8").status_code == 200


def test_spoofed_forwarded_for_is_ignored_by_default(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute").test_client()
    for i in range(3):
        response = login(client, f"guess{i}", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        assert response.status_code == 401
    assert_throttled(login(client, "another", headers={"X-Forwarded-For": "203.0.113.200"}))


def test_forwarded_for_is_used_behind_a_configured_proxy(make_app):
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute",
                      TRUSTED_PROXIES=1).test_client()
    for i in range(3):
        login(client, f"guess{i}", headers={"X-Forwarded-For": "203.0.113.1"})
    assert_throttled(login(client, "another", headers={"X-Forwarded-For": "203.0.113.1"}))
    # Same proxy, another client behind it: a client of its own.
    response = login(client, "bob", PASSWORD, headers={"X-Forwarded-For": "203.0.113.2"})
    assert response.status_code == 200


def test_only_the_last_hop_counts_behind_one_proxy(make_app):
    """A client can't pick its own address by prepending to X-Forwarded-For."""
    client = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute",
                      TRUSTED_PROXIES=1).test_client()
    for i in range(3):
        login(client, f"guess{i}", headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.1"})
    assert_throttled(login(client, "another",
                           headers={"X-Forwarded-For": "198.51.100.77, 203.0.113.1"}))


@pytest.mark.parametrize("value", [-1, "two", True])
def test_bad_proxy_count_is_refused(make_app, value):
    with pytest.raises(ValueError, match="TRUSTED_PROXIES must be a whole number"):
        make_app(TRUSTED_PROXIES=value)


def test_throttling_can_be_disabled(make_app):
    client = make_app(RATELIMIT_ENABLED=False).test_client()
    for _ in range(15):
        assert login(client).status_code == 401


REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379)")
def test_instances_sharing_redis_add_up_failures(make_app):
    import redis

    prefix = f"jwtauthtest-test-{uuid.uuid4().hex}"
    config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix,
              "RATELIMIT_LOGIN_FAILURES": "4 per minute"}
    first = make_app(**config).test_client()
    second = make_app(**config).test_client()
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        assert login(first).status_code == 401
        assert login(second).status_code == 401
        assert login(first).status_code == 401
        assert login(second).status_code == 401
        assert_throttled(login(first, password=PASSWORD))
        assert_throttled(login(second, password=PASSWORD))
        keys = connection.keys(f"*{prefix}*")
        assert keys, "the counters live in Redis"
        assert not any(USERNAME.encode() in key for key in keys), "keys hold no usernames"
    finally:
        for key in connection.scan_iter(f"*{prefix}*"):
            connection.delete(key)
        connection.close()


def test_concurrent_attempts_cannot_slip_past_the_limit(make_app, monkeypatch):
    """20 wrong passwords at once against a limit of 3: only 3 passwords are checked."""
    import threading
    import time

    import jwtauthtest.jwt

    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    real_verify = jwtauthtest.jwt.verify_password
    checked = []

    def slow_verify(password, password_hash):
        checked.append(password)
        time.sleep(0.3)  # every attempt is in flight before any is answered
        return real_verify(password, password_hash)

    monkeypatch.setattr(jwtauthtest.jwt, "verify_password", slow_verify)
    statuses = []

    def attempt(i):
        statuses.append(login(app.test_client(), password=f"guess {i}").status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [401] * 3 + [429] * 17
    assert len(checked) == 3


def test_other_requests_run_no_throttling_code(make_app):
    """Only the login view counts attempts: no hook runs before or after other requests
    (Flask-Limiter's before-request check cost about a fifth of a protected request). The
    pages' blueprints (/docs) add security headers to their own answers only, and forward
    authentication (/auth/verify) no-store to its own."""
    from jwtauthtest import views

    app = make_app()
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        # None would be app-wide; the e-mail routes' own hook answers 503 while mail is off,
        # introspection's and forward authentication's mark their own answers no-store.
        assert set(hooks) <= {"docs", "swagger_ui", "account_page", "email",
                              "introspection", "verify"}, hooks
    assert app.view_functions["views.hello"] is views.hello
    assert app.view_functions["jwt"].__wrapped__ is not None  # the login view is wrapped
