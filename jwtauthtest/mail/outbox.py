"""The outbox: ``send_later`` renders a message from its templates and adds it to the
caller's transaction, so that it goes out if and only if the change it tells of is committed;
``message_of`` makes the whole message back from its row, the same on every try.

The text and HTML are stored encrypted under a key derived from the app's secret (SECRET_KEY,
or JWT_SECRET_KEY where it is the only one: ``secret.app_secret``): a reset link is a key to an
account, and a database dump or backup must not hold live ones.

A message goes to its address's ASCII form where there is one (the domain in IDNA), so that a
server without SMTPUTF8 takes it; only an address whose local part is beyond ASCII needs it.
"""

import json
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from cryptography.fernet import Fernet
from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template

from jwtauthtest.database import db
from jwtauthtest.keys.material import storage_cipher
from jwtauthtest.mail.settings import mail_domain, mail_settings, public_url
from jwtauthtest.models import MailMessage
from jwtauthtest.secret import app_secret

MAX_SUBJECT_LENGTH = 255  # the column's


def send_later(to: str, subject: str, template: str, **context: object) -> MailMessage:
    """Queue a message to TO made from ``templates/mail/TEMPLATE.txt`` and ``.html`` (which
    get CONTEXT and ``public_url``): added to db.session, not committed (the caller's commit
    sends it, its rollback drops it). Call ``sender.wake_sender()`` after the commit."""
    if not (subject.isprintable() and len(subject) <= MAX_SUBJECT_LENGTH):
        raise ValueError("a subject is one printable line of at most 255 characters")
    if not to.isprintable() or "@" not in to:
        raise ValueError("a recipient is one address")
    context = {**context, "public_url": public_url()}
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", **context)
    sealed = cipher().encrypt(json.dumps({"text": text, "html": html}).encode()).decode()
    now = time.time()
    message = MailMessage(
        message_id=make_msgid(domain=mail_domain(public_url())), recipient=to, subject=subject,
        body=sealed, created_at=now, next_try_at=now, tries=0)
    db.session.add(message)
    return message


def message_of(row: MailMessage) -> EmailMessage:
    """The message a queued row stands for: From, To, Subject, Date (when it was queued),
    its Message-ID, and the text and HTML as alternatives."""
    parts = json.loads(cipher().decrypt(row.body.encode()))
    message = EmailMessage()
    message["From"] = mail_settings().sender
    message["To"] = ascii_form(row.recipient)
    message["Subject"] = row.subject
    message["Date"] = formatdate(row.created_at, usegmt=True)
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to it
    message.set_content(parts["text"])
    message.add_alternative(parts["html"], subtype="html")
    return message


def ascii_form(address: str) -> str:
    """The address in ASCII, its domain as IDNA (``a@xn--bcher-kva.example``), as email-validator
    gives it; as it is when it has none (a local part such as ``zoë``) or is no address."""
    try:
        return validate_email(address, check_deliverability=False).ascii_email or address
    except EmailNotValidError:
        return address


def cipher() -> Fernet:
    """The cipher of the outbox's bodies."""
    return storage_cipher(app_secret(current_app), b"mail outbox")
