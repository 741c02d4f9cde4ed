"""What a request leaves for the sender: a reset, a sign-up or an address change asks for a
message without anyone looking the address up, so that its answer is the same whatever the
address. Each round the sender takes the requests (one process each, by deleting its row) and
decides, the address looked up, what to mail: a link, a word that the address already has an
account, or nothing."""

import time

from flask import Flask, current_app
from sqlalchemy import delete, select

from jwtauthtest.addresses.links import CONFIRM, RESET, new_link, void_links
from jwtauthtest.addresses.normal import AddressError, address_key, normal_address
from jwtauthtest.database import db
from jwtauthtest.mail import public_url
from jwtauthtest.mail.outbox import send_later
from jwtauthtest.mail.sender import on_each_round
from jwtauthtest.mail.setaside import requests_set_aside
from jwtauthtest.models import MailRequest, User
from jwtauthtest.settings import ConfigurationError, whole_number

RESET_REQUEST, SIGN_UP, ADDRESS_CHANGE = "reset", "sign_up", "address"
BATCH = 100  # requests taken at a time, each in its own transaction
# A bound on a user's live reset links, which the per-address throttle keeps far from reach
# (3 an hour, each link 15 minutes): never one to be met by a user who asked.
MAX_LIVE_RESETS = 10
LIFETIMES = ("PASSWORD_RESET_SECONDS", "EMAIL_CONFIRM_SECONDS", "REGISTRATION_CONFIRM_SECONDS")


def init_requests(app: Flask) -> None:
    """Check the links' lifetimes, and have the sender take the requests each round."""
    for key in LIFETIMES:
        whole_number(app.config, key, "seconds", least=60)
    if not isinstance(app.config["REGISTRATION_ENABLED"], bool):
        raise ConfigurationError(f"REGISTRATION_ENABLED must be true or false, not "
                                 f"{app.config['REGISTRATION_ENABLED']!r}")
    on_each_round(app, take_requests)


def ask(kind: str, address: str, user_id: int | None = None) -> None:
    """Leave a request for the sender. Uncommitted: the caller's transaction holds it."""
    db.session.add(MailRequest(kind=kind, address=address, user_id=user_id))


def take_requests() -> None:
    """The sender's job each round: every waiting request turned into its message (or into
    nothing), one at a time; expired sign-ups deleted. A request whose handling raises is
    left waiting, set aside for a while (mail/setaside.py), and the others go on; one no
    longer waiting is forgotten."""
    delete_expired_sign_ups()
    db.session.commit()
    aside = requests_set_aside()
    last, seen = 0, set[int]()
    while ids := db.session.scalars(select(MailRequest.id).where(MailRequest.id > last)
                                    .order_by(MailRequest.id).limit(BATCH)).all():
        for request_id in ids:
            if aside.due(request_id):
                aside.run(request_id, take)
        last = ids[-1]
        seen.update(ids)
    aside.keep_only(seen)


def take(request_id: int) -> None:
    request = db.session.get(MailRequest, request_id)
    # Deleting the row is the claim: another process's delete waits, then finds none.
    if request is None or db.session.execute(delete(MailRequest).where(
            MailRequest.id == request_id)).rowcount != 1:
        db.session.rollback()
        return
    HANDLERS[request.kind](request)
    db.session.commit()


def mail_reset_link(request: MailRequest) -> None:
    """Only a confirmed address of an active user gets a link; any other, nothing. The
    user's older links stay live (up to MAX_LIVE_RESETS in all): a reset a stranger asks for
    must not void the one the user asked for."""
    user = holder(request.address)
    if user is None or not user.active:
        return
    token = new_link(user, RESET, seconds("PASSWORD_RESET_SECONDS"), address=user.email,
                     keep=MAX_LIVE_RESETS)
    send_later(user.email, "Reset your password", "password_reset", username=user.username,
               link=page_link("reset", token), lifetime=in_words("PASSWORD_RESET_SECONDS"))


def mail_sign_up_link(request: MailRequest) -> None:
    """A new account's address gets its link, unless another account has it: then it is
    told so, and the new account waits for its deadline like any other not confirmed (were
    it deleted now, its username, free again, would tell that the address has an account)."""
    user = db.session.get(User, request.user_id)
    if user is None or user.confirm_by is None:
        return
    if holder(request.address) is not None:
        send_later(request.address, "You already have an account", "already_registered")
        return
    token = new_link(user, CONFIRM, seconds("REGISTRATION_CONFIRM_SECONDS"),
                     address=request.address)
    # Not a word the stranger who signed up chose (the username): the address is not
    # confirmed to be theirs.
    send_later(request.address, "Confirm your address", "confirm_sign_up",
               link=page_link("confirm", token),
               lifetime=in_words("REGISTRATION_CONFIRM_SECONDS"))


def mail_address_link(request: MailRequest) -> None:
    """A new address gets its link (without the username: the address is not the user's
    yet); one that another account holds is told of the try, and the account that asked
    learns nothing: its older link is voided whatever the address (were it voided only by a
    new link, following it would tell whether one was made)."""
    user = db.session.get(User, request.user_id)
    if user is None or not user.active:
        return
    void_links(user, CONFIRM)
    other = holder(request.address)
    if other is not None:
        if other.id != user.id:
            send_later(request.address, "Someone tried to use your address",
                       "address_taken")
        return
    token = new_link(user, CONFIRM, seconds("EMAIL_CONFIRM_SECONDS"), address=request.address)
    send_later(request.address, "Confirm your new address", "confirm_address",
               link=page_link("confirm", token), lifetime=in_words("EMAIL_CONFIRM_SECONDS"))


HANDLERS = {RESET_REQUEST: mail_reset_link, SIGN_UP: mail_sign_up_link,
            ADDRESS_CHANGE: mail_address_link}


def holder(address: str) -> User | None:
    """The user whose confirmed address this is."""
    try:
        key = address_key(normal_address(address))
    except AddressError:
        return None
    return db.session.scalars(select(User).where(User.email_key == key)).first()


def delete_expired_sign_ups() -> int:
    """Sign-ups past their deadline, deleted: their usernames are free again. (Looked for
    first, by the index: the sender asks every few seconds, and a DELETE would take the
    write lock each time, rows or none.)"""
    expired = User.confirm_by < time.time()
    if db.session.scalar(select(User.id).where(expired).limit(1)) is None:
        return 0
    return db.session.execute(delete(User).where(expired)).rowcount


def page_link(purpose: str, token: str) -> str:
    """The account page, told what the link is for; the token after ``#`` never reaches a
    server's logs, nor another site in a Referer."""
    return f"{public_url()}/account#{purpose}={token}"


def seconds(key: str) -> int:
    return int(current_app.config[key])


def in_words(key: str) -> str:
    """A link's lifetime as a message says it: "15 minutes", "24 hours", "1 hour"."""
    minutes = seconds(key) // 60
    amount, unit = (minutes // 60, "hour") if minutes % 60 == 0 else (minutes, "minute")
    return f"{amount} {unit}{'' if amount == 1 else 's'}"
