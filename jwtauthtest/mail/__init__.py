"""E-mail going out: the settings and whether mail can go out at all (``settings``), the
outbox that requests add messages to within their own transaction (``outbox``), how a
message reaches the mail server, or the console in development (``transport``), and the
senders that hand the outbox to it, a thread in each server process and ``flask mail send``
(``sender``), setting aside a job that fails unexpectedly so the others go on (``setaside``).

May import ``settings``, ``secret``, ``schema``, the database, the models, ``keys``, ``ops`` and
``entrypoints``; nothing here knows of views, tokens' claims or commands. The account flows call
``outbox.send_later`` and ``sender.wake_sender``; the factory calls ``init_mail``.
"""

from flask import Flask

from jwtauthtest.entrypoints import starting_a_server
from jwtauthtest.mail.sender import start_sender
from jwtauthtest.mail.settings import configure_mail, mail_problem, public_url

CONSOLE_AT_START = ("MAIL_BACKEND=console: every message is printed in this output, and none "
                    "is sent")


def init_mail(app: Flask) -> None:
    """Check the mail settings (a ConfigurationError names the one that can't be used), and in
    a server process with mail set up, start its sender. Tests (TESTING) run rounds themselves
    with ``sender.send_due``, or start one with ``sender.start_sender``.

    Reads PUBLIC_URL and MAIL_BACKEND, MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, MAIL_USE_SSL,
    MAIL_USERNAME, MAIL_PASSWORD, MAIL_FROM, MAIL_CA_FILE, MAIL_TIMEOUT, MAIL_RETRY_SECONDS and
    MAIL_POLL_SECONDS.
    """
    settings = configure_mail(app)
    if settings.problem is None and starting_a_server() and not app.testing:
        if settings.backend == "console":  # right for trying it out, wrong anywhere else
            app.logger.warning(CONSOLE_AT_START)
        start_sender(app)


__all__ = ["init_mail", "mail_problem", "public_url"]
