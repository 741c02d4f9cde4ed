"""``flask --app jwtauthtest users ...``: add, list, email, passwd, disable, enable, delete,
sessions, logout (and ``import``, registered on the group by ``init_cli``)."""

import json

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from jwtauthtest.cli.common import (
    echo_table,
    passkeys_removed,
    password_stdin_option,
    read_new_password,
    require_current_schema,
    user_errors,
)
from jwtauthtest.database import database_label, db
from jwtauthtest.models import User
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.tokens.listing import live_sessions, session_details, shown_time
from jwtauthtest.users import (
    add_user,
    change_password,
    check_new_username,
    delete_user,
    get_user,
    log_out_everywhere,
    operators_address,
    set_active,
    set_email,
)

email_option = click.option("--email", metavar="ADDRESS",
                            help="The user's e-mail address, confirmed (set by an operator).")


@click.group("users", cls=AppGroup)
@with_appcontext
def users_cli() -> None:
    """Manage the users who can log in."""
    require_current_schema()


def add_and_report(username: str, password_stdin: bool, email: str | None = None) -> None:
    """What ``useradd.py`` and ``flask users add`` do: the name (and address) are checked
    before the password is asked for."""
    with user_errors():
        check_new_username(username)
        if email is not None:
            operators_address(email)
    password = read_new_password(password_stdin)
    with user_errors():
        user = add_user(username, password, email)
    click.echo(f"Added user '{printable(user.username)}' (id {user.id}) to {database_label()}")


@users_cli.command("add")
@click.argument("username")
@password_stdin_option
@email_option
def add_command(username: str, password_stdin: bool, email: str | None) -> None:
    """Add a user (the same as python useradd.py)."""
    add_and_report(username, password_stdin, email)


@users_cli.command("email")
@click.argument("username")
@click.argument("address")
def email_command(username: str, address: str) -> None:
    """Set a user's e-mail address, confirmed: resets and notices go to it, and the reset
    links mailed to the old one stop working."""
    with user_errors():
        user = set_email(username, address)
    log_change("address_set", username=user.username)
    click.echo(f"Set the address of '{printable(user.username)}' to {printable(user.email)} "
               f"(confirmed) in {database_label()}")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """List the users: id, username, e-mail (with * if not confirmed), active, created, last
    login (UTC)."""
    users = db.session.scalars(select(User).order_by(User.id)).all()
    rows = [{"id": u.id, "username": u.username, "email": u.email,
             "email_verified": u.email_verified, "active": u.active,
             "created_at": shown_time(u.created_at, for_people=True),
             "last_login_at": shown_time(u.last_login_at, for_people=True)}
            for u in users]
    if as_json:  # names with every non-ASCII character escaped: JSON readers restore them
        click.echo(json.dumps(rows, indent=2))
        return
    header = {"id": "ID", "username": "USERNAME", "email": "E-MAIL", "active": "ACTIVE",
              "created_at": "CREATED", "last_login_at": "LAST LOGIN"}
    echo_table(header, [{**r, "username": printable(r["username"]),
                         "email": shown_address(r["email"], r["email_verified"]),
                         "active": "yes" if r["active"] else "no",
                         "last_login_at": r["last_login_at"] or "never"} for r in rows])


def shown_address(address: str | None, confirmed: bool) -> str:
    if address is None:
        return "-"
    return printable(address) + ("" if confirmed else " *")


@users_cli.command("passwd")
@click.argument("username")
@password_stdin_option
def passwd_command(username: str, password_stdin: bool) -> None:
    """Set a new password; tokens issued before are refused from the next request on."""
    with user_errors():
        user, ended = change_password(username, read_new_password(password_stdin))
    log_change("password_change", username=user.username, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys))
    click.echo(f"Changed the password of '{printable(user.username)}' in {database_label()}; "
               f"earlier tokens are revoked{passkeys_removed(ended)}")


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
    log_change("user_logged_out", username=user.username, sessions=ended.sessions,
               passkeys_removed=len(ended.passkeys))
    click.echo(f"Ended {ended.sessions} session(s) of '{printable(user.username)}' in "
               f"{database_label()}; their tokens are revoked{passkeys_removed(ended)}")

