"""Operators and sessions: ``flask --app jwtauthtest users sessions NAME``, ``users logout
NAME`` and ``tokens revoke-all`` (after an incident)."""

import json

import click

from .audit import log_change
from .cli import echo_table, tokens_cli, user_errors, users_cli
from .database import database_label
from .user_sessions import live_sessions, session_details
from .usernames import printable
from .users import get_user, log_out_everywhere, revoke_everyone


@users_cli.command("sessions")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sessions_command(username: str, as_json: bool) -> None:
    """List a user's live sessions: id, created, last used (UTC), login address, user agent."""
    with user_errors():
        user = get_user(username)
    rows = [session_details(family) for family in live_sessions(user.id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"id": "ID", "created_at": "CREATED", "last_used_at": "LAST USED",
              "address": "ADDRESS", "user_agent": "USER AGENT"}
    echo_table(header, [{**row, "last_used_at": row["last_used_at"] or "never",
                         "user_agent": printable(row["user_agent"] or "")} for row in rows])


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
