"""flask clients add|list|remove (issue 37): the secret printed once and kept only as an
HMAC, the list without it, a removed client's credentials refused. (Its next introspection's
401: tests/services/test_introspection.py.)"""

import json
import logging

from sqlalchemy import select
from test_users_commands import database, invoke

from jwtauthtest.clients.model import Client
from jwtauthtest.clients.store import check_client
from jwtauthtest.database import db


def stored(app):
    with app.app_context():
        return [(c.id, c.name, c.secret_digest, c.created_at, c.last_used_at)
                for c in db.session.scalars(select(Client))]


def accepted(app, client_id, secret):
    with app.app_context():
        return check_client(client_id, secret).client_id == client_id


def test_add_prints_the_id_and_the_secret_once_and_keeps_an_hmac(app, runner, caplog):
    with caplog.at_level(logging.INFO, logger="jwtauthtest.audit"):
        result = invoke(runner, "clients", "add", "billing api")
    assert result.exit_code == 0, result.output
    id_line, secret_line = result.stdout.splitlines()
    assert id_line.startswith("client_id: ") and secret_line.startswith("client_secret: ")
    client_id, secret = id_line.split(": ")[1], secret_line.split(": ")[1]
    assert result.stderr == (f"Added client 'billing api' to {database(app)}: keep the secret "
                             "now, it is not shown again\n")
    [row] = stored(app)
    assert row[:2] == (client_id, "billing api")
    assert secret not in repr(row) and len(row[2]) == 64
    audit = [r.getMessage() for r in caplog.records if r.name == "jwtauthtest.audit"]
    assert audit == [f'client_added client="billing api" client_id="{client_id}"']
    assert secret not in caplog.text
    assert accepted(app, client_id, secret)
    assert not accepted(app, client_id, secret[:-1])


def test_add_json_is_one_line_for_scripts(app, runner):
    result = invoke(runner, "clients", "add", "rs", "--json")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    credentials = json.loads(line)
    assert set(credentials) == {"client_id", "client_secret"}
    assert accepted(app, credentials["client_id"], credentials["client_secret"])


def test_list_shows_names_ids_and_times_never_a_secret(app, runner):
    added = json.loads(invoke(runner, "clients", "add", "rs", "--json").stdout)
    invoke(runner, "clients", "add", "other")
    assert accepted(app, added["client_id"], added["client_secret"])  # noted as its use
    table = invoke(runner, "clients", "list")
    assert table.exit_code == 0, table.output
    header, *rows = table.stdout.splitlines()
    assert header.split() == ["NAME", "CLIENT", "ID", "CREATED", "LAST", "USED"]
    assert [row.split()[:2] for row in rows][0] == ["rs", added["client_id"]]
    assert rows[1].endswith("never")
    listed = json.loads(invoke(runner, "clients", "list", "--json").stdout)
    assert [set(row) for row in listed] == [{"name", "client_id", "created_at",
                                             "last_used_at"}] * 2
    assert listed[0]["last_used_at"] is not None and listed[1]["last_used_at"] is None
    for output in (table.stdout, json.dumps(listed)):
        assert added["client_secret"] not in output
        assert all(row[2] not in output for row in stored(app))


def test_remove_refuses_the_clients_credentials(app, runner, caplog):
    added = json.loads(invoke(runner, "clients", "add", "rs", "--json").stdout)
    assert accepted(app, added["client_id"], added["client_secret"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="jwtauthtest.audit"):
        result = invoke(runner, "clients", "remove", "rs")
    assert (result.exit_code, result.stdout) == (
        0, f"Removed client 'rs' from {database(app)}: its introspections are refused from now "
           "on\n")
    assert [r.getMessage() for r in caplog.records if r.name == "jwtauthtest.audit"] == [
        f'client_removed client="rs" client_id="{added["client_id"]}"']
    assert not accepted(app, added["client_id"], added["client_secret"])
    assert stored(app) == []


def test_refusals_are_one_line_and_change_nothing(app, runner):
    invoke(runner, "clients", "add", "rs")
    before = stored(app)
    for args, message in [
            (("remove", "nope"), "Error: no such client: nope"),
            (("add", "rs"), "Error: client already exists: rs"),
            (("add", ""), "Error: a client's name must be 1 to 64 printable characters, "
                          "without spaces around them, not ''"),
            (("add", " rs"), "Error: a client's name must be 1 to 64 printable characters, "
                             "without spaces around them, not ' rs'"),
            (("add", "x" * 65), "Error: a client's name must be 1 to 64 printable characters, "
                                f"without spaces around them, not '{'x' * 65}'"),
            (("add", "tab\there"), "Error: a client's name must be 1 to 64 printable "
                                   "characters, without spaces around them, not "
                                   "'tab\\there'")]:
        result = invoke(runner, "clients", *args)
        assert (result.exit_code, result.output) == (1, message + "\n"), args
    assert stored(app) == before
