"""``flask --app jwtauthtest tokens purge`` and ``tokens revoke-all`` (after an incident)."""

import click
from flask.cli import AppGroup, with_appcontext

from jwtauthtest.cli.common import require_current_schema
from jwtauthtest.database import database_label
from jwtauthtest.ops.audit import log_change
from jwtauthtest.tokens.sessions import purge_expired_sessions
from jwtauthtest.users import revoke_everyone


@click.group("tokens", cls=AppGroup)
@with_appcontext
def tokens_cli() -> None:
    """Manage issued tokens."""
    require_current_schema()


@tokens_cli.command("purge")
def purge_command() -> None:
    """Delete the sessions none of whose tokens is valid any more."""
    count = purge_expired_sessions()
    click.echo(f"Purged {count} expired session(s) from {database_label()}")


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
