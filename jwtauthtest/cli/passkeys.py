"""``flask --app jwtauthtest users passkeys ...``: list and remove a user's passkeys
(registered on the users group by ``init_cli``)."""

import json

import click
from flask.cli import AppGroup
from sqlalchemy import delete, select

from jwtauthtest.cli.common import echo_table, user_errors
from jwtauthtest.database import database_label, db
from jwtauthtest.models import Passkey
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.tokens.listing import iso_time
from jwtauthtest.users import get_user


@click.group("passkeys", cls=AppGroup)
def passkeys_cli() -> None:
    """See or remove a user's passkeys."""


@passkeys_cli.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(username: str, as_json: bool) -> None:
    """A user's passkeys: id, name, created and last used (UTC, as `users sessions` shows)."""
    with user_errors():
        user = get_user(username)
    rows = [{"id": p.id, "name": p.name, "created_at": iso_time(p.created_at),
             "last_used_at": iso_time(p.last_used_at)}
            for p in db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)
                                        .order_by(Passkey.created_at))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"id": "ID", "name": "NAME", "created_at": "CREATED", "last_used_at": "LAST USED"}
    echo_table(header, [{**row, "name": printable(row["name"]),
                         "last_used_at": row["last_used_at"] or "never"} for row in rows])


@passkeys_cli.command("remove")
@click.argument("username")
@click.argument("passkey_id")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def remove_command(username: str, passkey_id: str, yes: bool) -> None:
    """Remove one of a user's passkeys: it signs in no more."""
    with user_errors():
        user = get_user(username)
    if not yes:
        click.confirm(f"Remove passkey {passkey_id} of '{printable(user.username)}' from "
                      f"{database_label()}?", abort=True)
    removed = db.session.execute(delete(Passkey).where(Passkey.id == passkey_id,
                                                       Passkey.user_id == user.id))
    db.session.commit()
    if removed.rowcount != 1:
        raise click.ClickException(f"'{printable(user.username)}' has no passkey "
                                   f"{printable(passkey_id)}")
    log_change("passkey_removed", username=user.username, passkey=passkey_id)
    click.echo(f"Removed passkey {passkey_id} of '{printable(user.username)}' from "
               f"{database_label()}")
