"""``flask --app jwtauthtest users second-factor ...``: status and reset of a user's second
factor (registered on the users group by ``init_cli``)."""

import json

import click
from flask.cli import AppGroup

from jwtauthtest.addresses.notices import send_notice
from jwtauthtest.cli.common import passkeys_removed, user_errors
from jwtauthtest.database import database_label
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.second_factor import store
from jwtauthtest.users import get_user


@click.group("second-factor", cls=AppGroup)
def second_factor_cli() -> None:
    """See or reset a user's second factor (authenticator app)."""


@second_factor_cli.command("status")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a sentence.")
def status_command(username: str, as_json: bool) -> None:
    """Whether a second factor is on, and how many recovery codes are left."""
    with user_errors():
        user = get_user(username)
    status = store.status(user.id)
    if as_json:
        click.echo(json.dumps(status))
        return
    name = printable(user.username)
    if status["enabled"]:
        click.echo(f"'{name}': second factor on, {status['recovery_codes_left']} recovery "
                   "code(s) left")
    elif status["pending"]:
        click.echo(f"'{name}': second factor off (an enrolment waits for its first code)")
    else:
        click.echo(f"'{name}': second factor off")


@second_factor_cli.command("reset")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def reset_command(username: str, yes: bool) -> None:
    """Remove a user's second factor and recovery codes, end their sessions and remove their
    passkeys (each was added with the password alone or with this factor): they log in with
    the password alone, and can enrol again and add passkeys."""
    with user_errors():
        user = get_user(username)
    if not yes:
        click.confirm(f"Reset the second factor of '{printable(user.username)}' in "
                      f"{database_label()}? Their sessions end", abort=True)
    ended = store.turn_off(user.id)
    log_change("second_factor_reset", username=user.username, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys))
    metrics.count("second_factor", event="reset")
    send_notice(user.id, "second_factor_off")
    click.echo(f"Reset the second factor of '{printable(user.username)}' in "
               f"{database_label()}; ended {ended.sessions} session(s)"
               f"{passkeys_removed(ended, which='')}")
