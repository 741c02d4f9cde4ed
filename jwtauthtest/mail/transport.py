"""Handing messages to the mail server over SMTP (smtplib): one connection for a round of
messages, TLS (STARTTLS or from the first byte) with the certificate always checked against the
system's CAs and MAIL_CA_FILE's, AUTH when MAIL_USERNAME is set. With MAIL_BACKEND "console" the
messages are written to the server's output instead (development only).

Failures come out as ``NotSent``, in the server's own words (or the connection's): never the
message, never the password.
"""

import smtplib
import ssl
import sys
from email.message import EmailMessage
from typing import Protocol

from jwtauthtest.mail.settings import MailSettings, mail_domain

NO_SMTPUTF8 = "the address needs SMTPUTF8, which the server does not offer"


class NotSent(Exception):
    """The server could not take a message (or any, when connecting failed); one line.
    ``permanent``: it refused the message for good (5xx to its recipient or its data), or the
    recipient's address needs SMTPUTF8 and the server does not offer it, so trying again is no
    use."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(" ".join(reason.split()))
        self.permanent = permanent


class Connection(Protocol):
    def send_message(self, message: EmailMessage) -> object: ...

    def quit(self) -> object: ...


def connect(settings: MailSettings) -> Connection:
    """A connection ready to send: greeted, TLS on as set, logged in as set."""
    if settings.backend == "console":
        return Console()
    context = ssl.create_default_context()  # the system's CAs, host name and chain checked
    if settings.ca_file:
        context.load_verify_locations(settings.ca_file)
    # Named after the service (no DNS look-up of our own name, which can be slow).
    greeting = mail_domain(settings.public_url or "http://localhost")
    try:
        if settings.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.server or "", settings.port, greeting, timeout=settings.timeout,
                context=context)
        else:
            smtp = smtplib.SMTP(settings.server or "", settings.port, greeting,
                                timeout=settings.timeout)
        try:
            if settings.use_tls:
                smtp.starttls(context=context)
            if settings.username is not None and settings.password is not None:
                smtp.login(settings.username, settings.password)
        except BaseException:
            smtp.close()
            raise
    except (smtplib.SMTPException, OSError) as e:
        raise NotSent(f"{settings.server}:{settings.port}: {reason(e, settings)}") from None
    return smtp


def deliver(connection: Connection, message: EmailMessage, settings: MailSettings) -> None:
    """Hand one message to the server; NotSent when it did not take it."""
    try:
        connection.send_message(message)
    except smtplib.SMTPNotSupportedError:  # smtplib's check, before a word of the message
        # Final only for a recipient beyond ASCII: the sender's address is ours to fix.
        raise NotSent(NO_SMTPUTF8, permanent=not str(message["To"]).isascii()) from None
    except smtplib.SMTPRecipientsRefused as e:
        code, words = next(iter(e.recipients.values()))
        raise NotSent(f"({code}) {text(words)}", permanent=refused_for_good(code)) from None
    except smtplib.SMTPDataError as e:  # the server read the message, and said no to it
        raise NotSent(reason(e, settings), permanent=refused_for_good(e.smtp_code)) from None
    except (smtplib.SMTPException, OSError) as e:
        raise NotSent(reason(e, settings)) from None


def refused_for_good(code: int) -> bool:
    """A 5xx answer: this message will never be taken, however often it is tried."""
    return 500 <= code < 600


def still_open(connection: Connection) -> bool:
    """Whether the connection can take another message (the server may have closed it)."""
    return not isinstance(connection, smtplib.SMTP) or connection.sock is not None


def close(connection: Connection) -> None:
    """Say goodbye; a server that went away meanwhile is no matter."""
    try:
        connection.quit()
    except (smtplib.SMTPException, OSError):
        if isinstance(connection, smtplib.SMTP):
            connection.close()


def reason(error: BaseException, settings: MailSettings) -> str:
    """What went wrong, in the server's words where it gave some."""
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"no answer within {settings.timeout:g} s (MAIL_TIMEOUT)"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"({error.smtp_code}) {text(error.smtp_error)}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS: certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or error}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower() if error.strerror[:1].isupper() else error.strerror
    return str(error) or type(error).__name__


def text(words: bytes | str) -> str:
    return words.decode("utf-8", "replace") if isinstance(words, bytes) else words


class Console:
    """MAIL_BACKEND "console": each message's headers and text, written to standard output
    in one block. Development only: the text holds live links."""

    def send_message(self, message: EmailMessage) -> None:
        headers = "".join(f"{name}: {value}\n" for name, value in message.items()
                          if name not in ("MIME-Version", "Content-Type"))
        body = message.get_body(("plain",))
        content = body.get_content() if isinstance(body, EmailMessage) else ""
        rule = "-" * 20
        sys.stdout.write(f"{rule} MAIL_BACKEND=console: not sent {rule}\n{headers}\n"
                         f"{content.rstrip()}\n{rule} end of message {rule}\n")
        sys.stdout.flush()

    def quit(self) -> None:
        pass
