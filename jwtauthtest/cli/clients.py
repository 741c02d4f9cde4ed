"""``flask --app jwtauthtest clients add|list|remove``: the resource servers allowed to
introspect tokens (clients/, POST /auth/introspect)."""

import json

import click
from flask.cli import AppGroup, with_appcontext

from jwtauthtest.cli.common import echo_table, require_current_schema, user_errors
from jwtauthtest.clients.model import Client
from jwtauthtest.clients.store import add_client, all_clients, remove_client
from jwtauthtest.database import database_label
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.tokens.listing import shown_time

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead.")


@click.group("clients", cls=AppGroup)
@with_appcontext
def clients_cli() -> None:
    """Manage the resource servers allowed to introspect tokens."""
    require_current_schema()


@clients_cli.command("add")
@click.argument("name")
@json_option
def add_command(name: str, as_json: bool) -> None:
    """Add a client: its client_id and client_secret are printed, the secret this once (only
    an HMAC of it is kept)."""
    with user_errors():
        client, secret = add_client(name)
    log_change("client_added", client=client.name, client_id=client.id)
    if as_json:
        click.echo(json.dumps({"client_id": client.id, "client_secret": secret}))
    else:
        click.echo(f"client_id: {client.id}\nclient_secret: {secret}")
    click.echo(f"Added client '{printable(client.name)}' to {database_label()}: keep the "
               "secret now, it is not shown again", err=True)


@clients_cli.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List the clients: name, client_id, created, last used (to the minute; UTC). Never
    their secrets, which are not kept."""
    rows = [details(client) for client in all_clients()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"name": "NAME", "client_id": "CLIENT ID", "created_at": "CREATED",
              "last_used_at": "LAST USED"}
    echo_table(header, [{**row, "name": printable(row["name"]),
                         "last_used_at": row["last_used_at"] or "never"} for row in rows])


def details(client: Client) -> dict[str, str | None]:
    return {"name": client.name, "client_id": client.id,
            "created_at": shown_time(client.created_at, for_people=True),
            "last_used_at": shown_time(client.last_used_at, for_people=True)}


@clients_cli.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove a client: its credentials are refused from its next introspection on."""
    with user_errors():
        client = remove_client(name)
    log_change("client_removed", client=client.name, client_id=client.id)
    click.echo(f"Removed client '{printable(client.name)}' from {database_label()}: its "
               "introspections are refused from now on")
