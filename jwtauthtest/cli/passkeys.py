"""``flask --app jwtauthtest users passkeys ...``: list and remove a user's passkeys
(registered on the users group by ``init_cli``)."""

import json

import click
from flask.cli import AppGroup

from jwtauthtest.cli.common import echo_table, user_errors
from jwtauthtest.database import database_label
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passkeys import store
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.users import get_user


@click.group("passkeys", cls=AppGroup)
def passkeys_cli() -> None:
    """See or remove a user's passkeys."""


@passkeys_cli.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(username: str, as_json: bool) -> None:
    """A user's passkeys: id, name, created and last used (UTC, as `users sessions` shows),
    whether the account had a second factor when it was added, and the address it was added
    from."""
    with user_errors():
        user = get_user(username)
    rows = [store.details(passkey) for passkey in store.passkeys_of(user.id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"id": "ID", "name": "NAME", "created_at": "CREATED", "last_used_at": "LAST USED",
              "with_second_factor": "ADDED WITH", "address": "ADDRESS"}
    echo_table(header, [{**row, "name": printable(row["name"]),
                         "last_used_at": row["last_used_at"] or "never",
                         "with_second_factor": "second factor" if row["with_second_factor"]
                         else "password alone", "address": row["address"] or "unknown"}
                        for row in rows])


@passkeys_cli.command("remove")
@click.argument("username")
@click.argument("passkey_id")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def remove_command(username: str, passkey_id: str, yes: bool) -> None:
    """Remove one of a user's passkeys: it signs in no more, and the sessions it signed in
    end."""
    with user_errors():
        user = get_user(username)
    if not yes:
        click.confirm(f"Remove passkey {passkey_id} of '{printable(user.username)}' from "
                      f"{database_label()}? The sessions it signed in end", abort=True)
    ended = store.remove_passkey(user.id, passkey_id)
    if ended is None:
        raise click.ClickException(f"'{printable(user.username)}' has no passkey "
                                   f"{printable(passkey_id)}")
    log_change("passkey_removed", username=user.username, passkey=passkey_id, sessions=ended)
    click.echo(f"Removed passkey {passkey_id} of '{printable(user.username)}' from "
               f"{database_label()}; ended {ended} session(s)")
