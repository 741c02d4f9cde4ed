"""A real SMTP server for tests: aiosmtpd in a process of its own on 127.0.0.1, which asks for
STARTTLS and then AUTH (LOGIN or PLAIN) before it takes mail, with a certificate for localhost
and 127.0.0.1 from a throwaway CA made here. Each message it accepts becomes one .eml file in
its folder (written whole, then renamed). A recipient whose local part starts with
``refused`` is refused for good (550), one starting with ``busy`` for now (451); a message to
one starting with ``rejected`` is refused for good after its data (554). It offers SMTPUTF8
unless made with ``smtputf8=False``.

    with MailServer(tmp_path) as server:   # or .start() / .stop(), and .start() again
        app = make_app(**server.config())  # MAIL_* (and PUBLIC_URL) to reach it
        ...
        server.wait_for(1)                 # the parsed messages

Run as a script it is the server itself (``python mail_server.py FOLDER PORT CERT KEY
[smtputf8|ascii]``, the account's name and password in MAIL_TEST_USERNAME and
MAIL_TEST_PASSWORD).
"""

import datetime
import email.policy
import ipaddress
import os
import secrets
import signal
import subprocess
import sys
import time
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

READY = "mail server ready"
PUBLIC_URL = "https://login.example.com"


class MailServer:
    def __init__(self, folder: Path, port: int | None = None, smtputf8: bool = True) -> None:
        from processes import free_port

        self.folder = Path(folder) / "mail-server"
        self.inbox = self.folder / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.username = "mailer"
        self.password = secrets.token_urlsafe(12)
        self.smtputf8 = smtputf8
        self.ca_file, self._cert, self._key = make_certificates(self.folder)
        self._process: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "MailServer":
        """Start the server (again, on the same port) and wait until it says it is ready."""
        from processes import read_line

        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(self.inbox), str(self.port), str(self._cert),
             str(self._key), "smtputf8" if self.smtputf8 else "ascii"],
            env={**os.environ, "MAIL_TEST_USERNAME": self.username,
                 "MAIL_TEST_PASSWORD": self.password},
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            bufsize=0)
        line = read_line(self._process.stdout, time.monotonic() + timeout)
        if READY not in line.decode(errors="replace"):
            self.stop()
            raise AssertionError(f"the mail server did not start: {line!r}")
        return self

    def stop(self) -> None:
        """Stop the server (the messages it took stay in its folder)."""
        from processes import stop_process

        if self._process is not None:
            try:
                stop_process(self._process)
            finally:
                self._process.stdout.close()
                self._process = None

    def __enter__(self) -> "MailServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def config(self, **more: object) -> dict[str, object]:
        """The settings of an app that sends through this server."""
        return {"MAIL_SERVER": "localhost", "MAIL_PORT": self.port, "MAIL_USE_TLS": True,
                "MAIL_USERNAME": self.username, "MAIL_PASSWORD": self.password,
                "MAIL_CA_FILE": str(self.ca_file), "MAIL_TIMEOUT": 5,
                "PUBLIC_URL": PUBLIC_URL, **more}

    def env(self, **more: object) -> dict[str, str]:
        """The same as FLASK_* variables, for a server or command in a process."""
        return {f"FLASK_{key}": (value if isinstance(value, str) else
                                 str(value).lower() if isinstance(value, bool) else str(value))
                for key, value in self.config(**more).items()}

    def messages(self) -> list[EmailMessage]:
        """The messages taken so far, in the order they came."""
        parser = BytesParser(policy=email.policy.default)
        return [parser.parsebytes(path.read_bytes())  # type: ignore[misc]
                for path in sorted(self.inbox.glob("*.eml"))]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages, once there are at least COUNT; fails after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while len(found := self.messages()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} message(s) arrived within {timeout} s, "
                                     f"not {count}")
            time.sleep(0.02)
        return found


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA (ca.pem) and, signed by it, a certificate for localhost and 127.0.0.1
    (server.pem) with its key (server-key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jwtauthtest test CA")])

    def certificate(subject, public_key, issuer_key, issuer, extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical)
        return builder.sign(issuer_key, hashes.SHA256())

    usage = dict.fromkeys(("content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "encipher_only", "decipher_only"), False)
    ca = certificate(ca_name, ca_key.public_key(), ca_key, ca_name, [
        (x509.BasicConstraints(ca=True, path_length=0), True),
        (x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **usage),
         True)])
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), key.public_key(),
        ca_key, ca_name, [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                           **usage), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
             False),
            (aki, False)])
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def queue(app, count: int = 1, to: str = "alice@example.com", **context: object) -> list[str]:
    """Queue COUNT password-change notices to TO in APP's outbox, committed; their Message-IDs."""
    from jwtauthtest.database import db
    from jwtauthtest.mail.outbox import send_later

    with app.app_context():
        rows = [send_later(to, "Your password was changed", "password_changed",
                           **{"username": "alice", "when": "2026-12-06 10:00", **context})
                for _ in range(count)]
        db.session.commit()
        return [row.message_id for row in rows]


def outbox(app) -> list:
    """The rows of APP's outbox, by id."""
    from sqlalchemy import select

    from jwtauthtest.database import db
    from jwtauthtest.models import MailMessage

    with app.app_context():
        rows = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        db.session.commit()
        return list(rows)


class Handler:
    """Takes mail into a folder, one file a message; refuses some recipients (see above)."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        local = address.partition("@")[0]
        if local.startswith("refused"):
            return "550 5.1.1 No such mailbox here"
        if local.startswith("busy"):
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if any(address.startswith("rejected") for address in envelope.rcpt_tos):
            return "554 5.6.0 Message content rejected"
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        partial = self.inbox / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, self.inbox / name)
        return "250 2.0.0 Accepted"


def serve(inbox: str, port: str, cert: str, key: str, utf8: str = "smtputf8") -> None:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    username = os.environ["MAIL_TEST_USERNAME"].encode()
    password = os.environ["MAIL_TEST_PASSWORD"].encode()

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and data.login == username \
            and secrets.compare_digest(data.password, password)
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(Handler(Path(inbox)), hostname="127.0.0.1", port=int(port),
                            tls_context=context, require_starttls=True,
                            authenticator=authenticator, auth_required=True,
                            auth_require_tls=True, enable_SMTPUTF8=utf8 == "smtputf8")
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), sys.exit(0)))
    print(READY, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    serve(*sys.argv[1:6])
