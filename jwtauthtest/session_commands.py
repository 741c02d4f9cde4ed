"""Operators ending sessions: ``flask --app jwtauthtest users logout NAME`` and
``tokens revoke-all`` (after an incident)."""

import click

from .audit import log_change
from .cli import tokens_cli, user_errors, users_cli
from .database import database_label
from .usernames import printable
from .users import log_out_everywhere, revoke_everyone


@users_cli.command("logout")
@click.argument("username")
def logout_command(username: str) -> None:
    """End every session of a user; their tokens are refused (they can log in again)."""
    with user_errors():
        user, ended = log_out_everywhere(username)
    log_change("user_logged_out", username=user.username, sessions=ended)
    click.echo(f"Ended {ended} session(s) of '{printable(user.username)}' in "
               f"{database_label()}; their tokens are revoked")


@tokens_cli.command("revoke-all")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def revoke_all_command(yes: bool) -> None:
    """End every session of every user, and refuse every token issued before now."""
    if not yes:
        click.confirm(f"Log every user out of {database_label()}?", abort=True)
    ended = revoke_everyone()
    log_change("all_tokens_revoked", sessions=ended)
    click.echo(f"Ended {ended} session(s) in {database_label()}; every token issued before "
               "now is revoked")
