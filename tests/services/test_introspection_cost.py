"""What an introspection costs us (review 2, findings 5 and 6): a sent id that can't be one of
ours is refused without reading the clients table, and a token is verified once a call."""

import re

import pytest
from sqlalchemy import event

from jwtauthtest.clients import store
from jwtauthtest.database import db
from jwtauthtest.keys import signing
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME
from introspection import introspect, new_client

CLIENTS_TABLE = re.compile(r"\bclients\b")


@pytest.fixture
def rs(app):
    return new_client(app)


@pytest.fixture
def client_reads(app):
    """The statements run on the clients table from now on."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if CLIENTS_TABLE.search(statement):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    yield statements
    event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def digests(monkeypatch):
    """The client ids a secret's digest was computed for, in order."""
    ids: list[str] = []
    real = store.secret_digest

    def noted(client_id: str, secret: str) -> str:
        ids.append(client_id)
        return real(client_id, secret)

    monkeypatch.setattr(store, "secret_digest", noted)
    return ids


def test_an_id_without_the_shape_of_ours_costs_no_read_but_the_same_digest(
        client, rs, client_reads, digests):
    client_id, secret = rs
    junk = [secret, secret[:22] + "!", "x", "", client_id[:-1], client_id + "A", "A" * 21 + "\0"]
    for sent in junk:
        assert introspect(client, (sent, secret), "x").status_code == 401
    assert (client_reads, digests) == ([], junk)
    assert introspect(client, ("A" * 22, secret), "x").status_code == 401  # shaped, unknown
    assert len(client_reads) == 1


@pytest.fixture
def signature_checks(monkeypatch):
    """How many tokens got the full check (keys/signing.py's verify_by_kid) from now on."""
    checks = [0]
    real = signing.verify_by_kid

    def check(keys, token):
        checks[0] += 1
        return real(keys, token)

    monkeypatch.setattr(signing, "verify_by_kid", check)
    return checks


def test_without_the_verified_token_memory_a_token_is_verified_once_a_call(
        make_app, signature_checks):
    app = make_app(JWT_VERIFIED_TOKENS=0)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client, rs = app.test_client(), new_client(app)
    pair = client.post("/auth", json={"username": USERNAME, "password": PASSWORD}).get_json()
    for token in (pair["access_token"], pair["refresh_token"], "a.b.c"):
        before = signature_checks[0]
        assert introspect(client, rs, token).status_code == 200
        assert signature_checks[0] - before == 1, token
