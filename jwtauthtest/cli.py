"""Commands registered on the app: ``flask --app jwtauthtest tokens ...``."""

import click
from flask import Flask
from flask.cli import AppGroup

from .database import database_label
from .sessions import purge_expired_sessions

tokens_cli = AppGroup("tokens", help="Manage issued tokens.")


@tokens_cli.command("purge")
def purge_command() -> None:
    """Delete the sessions none of whose tokens is valid any more."""
    count = purge_expired_sessions()
    click.echo(f"Purged {count} expired session(s) from {database_label()}")


def init_cli(app: Flask) -> None:
    app.cli.add_command(tokens_cli)
