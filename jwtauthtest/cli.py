"""Commands registered on the app: ``flask --app jwtauthtest users ...`` and ``tokens ...``.

Passwords are prompted for (hidden, twice) or read from one line of standard
input with ``--password-stdin``; never taken as arguments, which ``ps`` and
shell history would show.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .audit import log_change
from .database import database_label, db
from .models import User
from .schema import UPGRADE_COMMAND, schema_is_current, unreachable
from .sessions import purge_expired_sessions
from .user_import import import_command
from .usernames import printable
from .users import UserError, add_user, change_password, delete_user, read_password_line, set_active


@click.group("users", cls=AppGroup)
@with_appcontext
def users_cli() -> None:
    """Manage the users who can log in."""
    require_current_schema()


@click.group("tokens", cls=AppGroup)
@with_appcontext
def tokens_cli() -> None:
    """Manage issued tokens."""
    require_current_schema()


def require_current_schema() -> None:
    """A one-line error, not a traceback, when the database can't be used yet."""
    try:
        current = schema_is_current()
    except SQLAlchemyError as e:
        raise click.ClickException(unreachable(e)) from None
    if not current:
        raise click.ClickException("the database schema is not up to date: run "
                                   f"`{UPGRADE_COMMAND}` first")
password_stdin_option = click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from one line of standard input instead of prompting.")


@contextmanager
def user_errors() -> Iterator[None]:
    """A refused operation is one line on stderr and exit status 1; nothing is half-written."""
    try:
        yield
    except UserError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None


def read_new_password(password_stdin: bool) -> str:
    if password_stdin:
        return read_password_line(sys.stdin)
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def add_and_report(username: str, password_stdin: bool) -> None:
    """What ``useradd.py`` and ``flask users add`` do."""
    password = read_new_password(password_stdin)
    with user_errors():
        user = add_user(username, password)
    click.echo(f"Added user '{printable(user.username)}' (id {user.id}) to {database_label()}")


@users_cli.command("add")
@click.argument("username")
@password_stdin_option
def add_command(username: str, password_stdin: bool) -> None:
    """Add a user (the same as python useradd.py)."""
    add_and_report(username, password_stdin)


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List the users: id, username, active, created, last login (UTC)."""
    users = db.session.scalars(select(User).order_by(User.id)).all()
    rows = [{"id": u.id, "username": u.username, "active": u.active,
             "created_at": iso(u.created_at), "last_login_at": iso(u.last_login_at)}
            for u in users]
    if as_json:  # names with every non-ASCII character escaped: JSON readers restore them
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"id": "ID", "username": "USERNAME", "active": "ACTIVE",
              "created_at": "CREATED", "last_login_at": "LAST LOGIN"}
    echo_table(header, [{**r, "username": printable(r["username"]),
                         "active": "yes" if r["active"] else "no",
                         "last_login_at": r["last_login_at"] or "never"} for r in rows])


def echo_table(header: dict[str, str], rows: list[dict]) -> None:
    """Columns as wide as their widest value, under the header's titles."""
    table = [header, *rows]
    widths = {key: max(len(str(row[key] or "")) for row in table) for key in header}
    for row in table:
        click.echo("  ".join(str(row[k] or "").ljust(widths[k]) for k in header).rstrip())


def iso(moment: object) -> str | None:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else None


@users_cli.command("passwd")
@click.argument("username")
@password_stdin_option
def passwd_command(username: str, password_stdin: bool) -> None:
    """Set a new password; tokens issued before are refused from the next request on."""
    with user_errors():
        user = change_password(username, read_new_password(password_stdin))
    log_change("password_change", username=user.username)
    click.echo(f"Changed the password of '{printable(user.username)}' in {database_label()}; "
               "earlier tokens are revoked")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Stop a user from logging in; their tokens are refused."""
    with user_errors():
        user = set_active(username, False)
    log_change("user_disabled", username=user.username)
    click.echo(f"Disabled '{printable(user.username)}' in {database_label()}; "
               "their tokens are revoked")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username: str) -> None:
    """Let a disabled user log in again (old tokens stay revoked)."""
    with user_errors():
        user = set_active(username, True)
    log_change("user_enabled", username=user.username)
    click.echo(f"Enabled '{printable(user.username)}' in {database_label()}")


@users_cli.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def delete_command(username: str, yes: bool) -> None:
    """Delete a user; their tokens are refused afterwards."""
    if not yes:
        click.confirm(f"Delete user '{printable(username)}' from {database_label()}?",
                      abort=True)
    with user_errors():
        user = delete_user(username)
    log_change("user_deleted", username=user.username)
    click.echo(f"Deleted '{printable(user.username)}' from {database_label()}")


@tokens_cli.command("purge")
def purge_command() -> None:
    """Delete the sessions none of whose tokens is valid any more."""
    count = purge_expired_sessions()
    click.echo(f"Purged {count} expired session(s) from {database_label()}")


def init_cli(app: Flask) -> None:
    from . import session_commands  # noqa: F401 (registers its commands)
    from .key_commands import keys_cli

    users_cli.add_command(import_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(keys_cli)
