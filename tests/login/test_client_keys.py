"""Which client a throttle counts a request under: an IPv4 address as it is, an IPv6 client
by its /64 (the least a home or phone is given: counted per address, one client has 2^64
counters), an IPv4-mapped IPv6 address as its IPv4 address; and e-mail requests from clients
without an address, which all count as one client, so that mail to any address stays
bounded (logins without one are counted per username only: tests/login/test_throttle.py)."""

import logging

import pytest
from sqlalchemy import func, select
from test_throttle import NO_ADDRESS_WARNING, throttle_warnings

from jwtauthtest.database import db
from jwtauthtest.models import MailRequest, User
from jwtauthtest.throttle.networks import client_key
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME

MAIL = {"MAIL_BACKEND": "console", "PUBLIC_URL": "https://login.example.com",
        "REGISTRATION_ENABLED": True, "RATELIMIT_MAIL_PER_CLIENT": "3 per hour"}
FROM_YOUR_ADDRESS = "Too many e-mail requests from your network address"
WITHOUT_AN_ADDRESS = "Too many e-mail requests from clients without an address"


@pytest.fixture
def mail_app(make_app):
    """An app that mails and takes sign-ups, with at most 3 e-mail requests a client."""
    return make_app(**MAIL)


def login(client, address, username=USERNAME, password="wrong"):
    return client.post("/auth", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def sign_up(client, address, n):
    return client.post("/auth/register", environ_base={"REMOTE_ADDR": address}, json={
        "username": f"user{n}", "password": PASSWORD, "email": f"user{n}@example.net"})


def reset(client, address, n):
    return client.post("/auth/password-reset", json={"email": f"someone{n}@example.net"},
                       environ_base={"REMOTE_ADDR": address})


def assert_too_many(response, description):
    assert response.status_code == 429
    assert response.get_json() == {"status_code": 429, "error": "Too Many Requests",
                                   "description": description}
    assert int(response.headers["Retry-After"]) >= 1


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("address, key", [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("fe80::1%eth0", "fe80::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("::ffff:c000:207", "192.0.2.7"),
    ("unknown", "unknown"),  # what some proxies forward: no address to parse
])
def test_the_key_of_a_client_address(address, key):
    assert client_key(address) == key


def test_failed_logins_from_one_ipv6_64_count_as_one_client(make_app):
    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    with app.app_context():
        add_user("bob", PASSWORD)
    client = app.test_client()
    for i in range(3):
        assert login(client, f"2001:db8:1:2::{i + 1}", f"guess{i}").status_code == 401
    assert_too_many(login(client, "2001:db8:1:2:a:b:c:d", "bob", PASSWORD),
                    "Too many failed logins")
    assert login(client, "2001:db8:1:3::1", "bob", PASSWORD).status_code == 200


def test_an_ipv4_mapped_address_is_its_ipv4_address(make_app):
    app = make_app(RATELIMIT_LOGIN_FAILURES="3 per minute")
    with app.app_context():
        add_user("bob", PASSWORD)
    client = app.test_client()
    for i, address in enumerate(["::ffff:192.0.2.7", "192.0.2.7", "::ffff:192.0.2.7"]):
        assert login(client, address, f"guess{i}").status_code == 401
    assert_too_many(login(client, "192.0.2.7", "bob", PASSWORD), "Too many failed logins")
    assert login(client, "::ffff:192.0.2.8", "bob", PASSWORD).status_code == 200


def test_sign_ups_from_one_ipv6_64_share_the_per_client_limit(mail_app):
    client = mail_app.test_client()
    for i in range(3):
        assert sign_up(client, f"2001:db8:1:2::{i:x}", i).status_code == 202
    assert_too_many(sign_up(client, "2001:db8:1:2::ff", 3), FROM_YOUR_ADDRESS)
    assert (rows(mail_app, User), rows(mail_app, MailRequest)) == (3, 3)
    assert sign_up(client, "2001:db8:1:3::1", 4).status_code == 202  # another /64


def test_clients_without_an_address_share_one_clients_mail_limit(mail_app, caplog):
    """A unix socket with no proxy header: every such client is one client to the e-mail
    limit, whatever the addresses written to, and a client with an address keeps its own."""
    client = mail_app.test_client()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest.throttle"):
        assert sign_up(client, "", 0).status_code == 202
        assert reset(client, "", 1).status_code == 202
        assert sign_up(client, "", 2).status_code == 202
        assert_too_many(reset(client, "", 3), WITHOUT_AN_ADDRESS)
        assert_too_many(sign_up(client, "", 4), WITHOUT_AN_ADDRESS)
    assert (rows(mail_app, User), rows(mail_app, MailRequest)) == (2, 3)
    assert reset(client, "192.0.2.7", 5).status_code == 202
    assert throttle_warnings(caplog) == [NO_ADDRESS_WARNING]

