"""``flask --app jwtauthtest mail send``: one round of the outbox now (from cron, where no
server runs); ``mail list``: what waits in it (never a message's text)."""

import math
import time
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.cli.common import echo_table, require_current_schema
from jwtauthtest.database import db
from jwtauthtest.mail import mail_problem
from jwtauthtest.mail.sender import Round, send_due
from jwtauthtest.models import MailMessage
from jwtauthtest.schema import unreachable


@click.group("mail", cls=AppGroup)
@with_appcontext
def mail_cli() -> None:
    """Send the e-mail outbox."""
    require_current_schema()


@mail_cli.command("send")
def send_command() -> None:
    """Send every message that is due now, over one connection, and say what is left."""
    problem = mail_problem()
    if problem is not None:
        raise click.ClickException(problem)
    try:
        result = send_due(current_app._get_current_object())  # type: ignore[attr-defined]
    except SQLAlchemyError as e:
        raise click.ClickException(unreachable(e)) from None
    if result.unreachable is not None:
        raise click.ClickException(f"the mail server took no message: {result.unreachable}; "
                                   f"{left(result)}")
    click.echo(summary(result))


def summary(result: Round) -> str:
    """``Sent 2 messages; 1 waiting (next try in 55 s)``."""
    line = f"Sent {result.sent} message{'' if result.sent == 1 else 's'}"
    if result.refused:
        line += f"; {result.refused} refused for good by the server (deleted)"
    return f"{line}; {left(result)}"


def left(result: Round) -> str:
    if not result.waiting:
        return "none waiting"
    if result.next_try_at is None:
        return f"{result.waiting} waiting"
    return (f"{result.waiting} waiting (next try in "
            f"{max(0, math.ceil(result.next_try_at - time.time()))} s)")


@mail_cli.command("list")
def list_command() -> None:
    """The messages waiting: id, recipient, tries, next try (UTC), last error."""
    rows = db.session.execute(select(MailMessage.id, MailMessage.recipient, MailMessage.tries,
                                     MailMessage.next_try_at, MailMessage.last_error)
                              .order_by(MailMessage.next_try_at, MailMessage.id)).all()
    echo_table({"id": "ID", "recipient": "RECIPIENT", "tries": "TRIES", "next": "NEXT TRY",
                "error": "LAST ERROR"},
               [{"id": row.id, "recipient": row.recipient, "tries": str(row.tries),
                 "next": datetime.fromtimestamp(row.next_try_at, timezone.utc)
                 .strftime("%Y-%m-%d %H:%M:%S"), "error": row.last_error} for row in rows])
