"""The MAIL_* settings and PUBLIC_URL, checked once at start (one line naming the setting when
one can't be used), and whether mail can go out at all: ``mail_problem()``.

Mail is off, and says why, until there is somewhere to send it (MAIL_SERVER, or MAIL_BACKEND
"console") and a PUBLIC_URL for the links in it.
"""

import ipaddress
import os
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app

from jwtauthtest.settings import ConfigurationError, number_of_seconds, whole_number

EXTENSION_KEY = "jwtauthtest.mail"
BACKENDS = ("smtp", "console")
DOCS = "docs/email.md"


@dataclass(frozen=True)
class MailSettings:
    backend: str
    server: str | None
    port: int
    use_tls: bool  # STARTTLS
    use_ssl: bool  # TLS from the first byte
    username: str | None
    password: str | None = field(repr=False)
    sender: str | None  # From; None without a PUBLIC_URL to make the default of
    ca_file: str | None
    timeout: float
    retry_seconds: float
    poll_seconds: float
    public_url: str | None  # without a trailing slash
    problem: str | None  # why mail can't go out, or None


def configure_mail(app: Flask) -> MailSettings:
    """Check the settings and keep them on the app; a ConfigurationError names the first one
    that can't be used and what to do."""
    config = app.config
    backend = config["MAIL_BACKEND"]
    if backend not in BACKENDS:
        raise ConfigurationError(f"MAIL_BACKEND must be smtp or console (development only), "
                                 f"not {backend!r}")
    server = optional_text(config, "MAIL_SERVER", "a host name, such as smtp.example.com")
    port = whole_number(config, "MAIL_PORT", "", 1, 65535)
    use_tls, use_ssl = flag(config, "MAIL_USE_TLS"), flag(config, "MAIL_USE_SSL")
    if use_tls and use_ssl:
        raise ConfigurationError("MAIL_USE_TLS and MAIL_USE_SSL are both true: set one, "
                                 "MAIL_USE_TLS for STARTTLS (port 587) or MAIL_USE_SSL for TLS "
                                 "from the first byte (port 465)")
    username = optional_text(config, "MAIL_USERNAME", "a user name")
    password = optional_text(config, "MAIL_PASSWORD", "a password", secret=True)
    if password is not None and not (use_tls or use_ssl):
        raise ConfigurationError("MAIL_PASSWORD is set but MAIL_USE_TLS and MAIL_USE_SSL are "
                                 "both false: set one, so that the password never goes in the "
                                 "clear")
    if (username is None) != (password is None):
        missing = "MAIL_PASSWORD" if password is None else "MAIL_USERNAME"
        raise ConfigurationError(f"MAIL_USERNAME and MAIL_PASSWORD go together: set {missing} "
                                 "too, or neither")
    ca_file = optional_text(config, "MAIL_CA_FILE", "the path of a CA bundle (PEM)")
    if ca_file is not None and not (os.path.isfile(ca_file) and os.access(ca_file, os.R_OK)):
        raise ConfigurationError(f"MAIL_CA_FILE must be a CA bundle (PEM) this process may "
                                 f"read, and {ca_file} is not a readable file")
    timeout, retry_seconds, poll_seconds = (
        positive_seconds(config, key)
        for key in ("MAIL_TIMEOUT", "MAIL_RETRY_SECONDS", "MAIL_POLL_SECONDS"))
    url = checked_public_url(config["PUBLIC_URL"])
    settings = MailSettings(
        backend, server, port, use_tls, use_ssl, username, password,
        sender_address(config["MAIL_FROM"], url), ca_file, timeout, retry_seconds,
        poll_seconds, url, problem_of(backend, server, url))
    app.extensions[EXTENSION_KEY] = settings
    return settings


def optional_text(config: dict, key: str, example: str, secret: bool = False) -> str | None:
    """A setting that is one line of text, or None; a SECRET one is never repeated."""
    value = config[key]
    if value is None or (isinstance(value, str) and value and value.isprintable()):
        return value
    raise ConfigurationError(f"{key} must be {example} on one line"
                             + ("" if secret else f", not {value!r}"))


def positive_seconds(config: dict, key: str) -> float:
    value = number_of_seconds(config, key)
    if not value:
        raise ConfigurationError(f"{key} must be a number of seconds above 0, not 0")
    return value


def flag(config: dict, key: str) -> bool:
    value = config[key]
    if isinstance(value, bool):
        return value
    raise ConfigurationError(f"{key} must be true or false, not {value!r}")


def checked_public_url(value: object) -> str | None:
    """PUBLIC_URL without its trailing slash: an absolute http(s) URL, nothing after the
    path."""
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    try:
        port_ok = parts is not None and (parts.port or 1) > 0
    except ValueError:
        port_ok = False
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname \
            or parts.query or parts.fragment or "@" in parts.netloc or not port_ok \
            or not value.isprintable() or value.endswith("?") or value.endswith("#") \
            or ascii_domain(parts.hostname) is None:
        raise ConfigurationError("PUBLIC_URL must be the absolute http(s) URL users reach the "
                                 "service at, such as https://login.example.com, without query "
                                 f"or fragment, not {value!r}")
    return value.rstrip("/")


def sender_address(value: object, url: str | None) -> str | None:
    """MAIL_FROM with its domain in ASCII (IDNA), or noreply@<PUBLIC_URL's host>: smtplib
    needs SMTPUTF8 for a sender beyond ASCII, and many servers don't offer it."""
    if value is None:
        return None if url is None else f"noreply@{mail_domain(url)}"
    name, address = parseaddr(value) if isinstance(value, str) and value.isprintable() \
        else ("", "")
    local, _, domain = address.rpartition("@")
    if local and not local.isascii():
        raise ConfigurationError("MAIL_FROM's part before the @ must be ASCII, which every "
                                 f"mail server takes, not {value!r}")
    in_ascii = ascii_domain(domain) if local else None
    if in_ascii is None:
        raise ConfigurationError("MAIL_FROM must be an address, such as noreply@example.com "
                                 f"or 'Example <noreply@example.com>', not {value!r}")
    return value if in_ascii == domain else formataddr((name, f"{local}@{in_ascii}"))


def mail_domain(url: str) -> str:
    """The domain of PUBLIC_URL's host in ASCII (IDNA), as the EHLO greeting, an address and
    a Message-ID name it."""
    host = urlsplit(url).hostname or "localhost"
    try:
        return f"[{ipaddress.ip_address(host)}]"
    except ValueError:
        return ascii_domain(host) or host


def ascii_domain(domain: str) -> str | None:
    """DOMAIN in ASCII, as IDNA where it is not (as email-validator makes it, for the
    recipients' too); None when it can't be one."""
    if domain.isascii():
        return domain
    try:
        return validate_email(f"noreply@{domain}", check_deliverability=False,
                              globally_deliverable=False, test_environment=True).ascii_domain
    except EmailNotValidError:
        return None


def problem_of(backend: str, server: str | None, url: str | None) -> str | None:
    missing = [name for name, value in (("MAIL_SERVER", backend == "console" or server),
                                        ("PUBLIC_URL", url)) if not value]
    if not missing:
        return None
    return f"E-mail is not set up: set {' and '.join(missing)} ({DOCS})"


def mail_settings() -> MailSettings:
    """The current app's mail settings."""
    return current_app.extensions[EXTENSION_KEY]


def mail_problem() -> str | None:
    """None when mail can go out; otherwise one line saying what to set."""
    return mail_settings().problem


def public_url() -> str:
    """PUBLIC_URL without a trailing slash (links in messages start with it)."""
    url = mail_settings().public_url
    if url is None:
        raise RuntimeError(mail_problem())
    return url
