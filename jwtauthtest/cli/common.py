"""What the command groups share: the schema check, password input, one-line errors, tables,
what a lock-down removed.

Passwords are prompted for (hidden, twice) or read from one line of standard input with
``--password-stdin``; never taken as arguments, which ``ps`` and shell history would show.
"""

import getpass
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.database import database_label, db
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.schema import UPGRADE_COMMAND, driver_message, schema_is_current, unreachable
from jwtauthtest.users import LockDown, UserError, read_password_line


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
    """A refused operation is one line on stderr and exit status 1; nothing is half-written.
    So is a change the database refuses (read-only, a standby's), in its words alone: never
    the statement or its parameters (a new user's hash)."""
    try:
        yield
    except UserError as e:
        db.session.rollback()
        raise click.ClickException(str(e)) from None
    except SQLAlchemyError as e:
        db.session.rollback()
        raise click.ClickException(f"the database {database_label()} refused the change "
                                   f"({driver_message(e)})") from None


def read_new_password(password_stdin: bool) -> str:
    if password_stdin:
        return read_password_line(sys.stdin)
    with warnings.catch_warnings():
        # With no terminal, getpass warns and would read the password from stdin, shown.
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return click.prompt("Password", hide_input=True, confirmation_prompt=True)
        except getpass.GetPassWarning:
            raise click.ClickException("there is no terminal to ask for the password on: give "
                                       "it on standard input with --password-stdin") from None


def echo_table(header: dict[str, str], rows: list[dict]) -> None:
    """Columns as wide as their widest value, under the header's titles."""
    table = [header, *rows]
    widths = {key: max(len(str(row[key] or "")) for row in table) for key in header}
    for row in table:
        click.echo("  ".join(str(row[k] or "").ljust(widths[k]) for k in header).rstrip())


def passkeys_removed(ended: LockDown, which: str = "added with the password alone") -> str:
    """The end of a sentence naming the passkeys a lock-down removed, if any."""
    if not ended.passkeys:
        return ""
    names = ", ".join(f"'{printable(p['name'])}'" for p in ended.passkeys)
    return f"; removed {len(ended.passkeys)} passkey(s){f' {which}' if which else ''}: {names}"
