"""Notices: a user is told at their confirmed address when their account changes — a new
passkey, the password changed or reset, the second factor turned off, the address changed
(told to the old one) — so that a change they did not make does not go unseen."""

import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.database import db
from jwtauthtest.mail import mail_problem
from jwtauthtest.mail.outbox import send_later
from jwtauthtest.mail.sender import wake_sender
from jwtauthtest.models import User
from jwtauthtest.schema import database_problem
from jwtauthtest.tokens.listing import shown_time

logger = logging.getLogger("jwtauthtest.mail")
SUBJECTS = {
    "password_changed": "Your password was changed",
    "password_reset_done": "Your password was reset",
    "passkey_added": "A passkey was added to your account",
    "second_factor_off": "Your second factor was turned off",
    "address_changed": "Your e-mail address was changed",
}


def notify(user: User, notice: str, to: str | None = None, **context: object) -> None:
    """Queue the notice for the user's confirmed address (or TO), when mail is set up; it
    goes out with the caller's commit. Without mail set up, the change goes on untold."""
    address = to or (user.email if user.email_verified else None)
    if address is None or mail_problem() is not None:
        return
    send_later(address, SUBJECTS[notice], notice, username=user.username,
               when=shown_time(time.time(), for_people=True), **context)


def send_notice(user_id: int, notice: str, **context: object) -> None:
    """The notice of a change already committed, in a transaction of its own: should it
    fail, the change stands and the request still succeeds (the failure is logged)."""
    try:
        user = db.session.get(User, user_id)
        if user is not None:
            notify(user, notice, **context)
            db.session.commit()
            wake_sender()
    except SQLAlchemyError as error:
        db.session.rollback()
        logger.warning("A notice (%s) was not queued: %s", notice, database_problem(error))


def masked(address: str) -> str:
    """Enough of an address for its owner to know it, not for anyone else to learn it."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"
