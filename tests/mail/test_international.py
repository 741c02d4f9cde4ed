"""International addresses: an address with an ASCII form (its domain in IDNA) is sent to that
form, which a server without SMTPUTF8 takes; one that needs SMTPUTF8 (a local part beyond
ASCII) is, on such a server, refused for good and dropped, not tried for ever. A refusal of
the message itself after its data (5xx) is as final. Our own names (MAIL_FROM, PUBLIC_URL's
host in the greeting, From and Message-ID) go in ASCII too."""

import logging
import smtplib
from email.message import EmailMessage

import pytest

from jwtauthtest.mail import transport
from jwtauthtest.mail.outbox import ascii_form
from jwtauthtest.mail.sender import send_due
from jwtauthtest.mail.settings import mail_settings

from conftest import counted
from mail_server import MailServer, outbox, queue

NO_SMTPUTF8 = "the address needs SMTPUTF8, which the server does not offer"


@pytest.fixture
def ascii_server(tmp_path):
    """The test's SMTP server, without SMTPUTF8 (as many relays and providers are)."""
    with MailServer(tmp_path, smtputf8=False) as server:
        yield server


def mail_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.getMessage().startswith("Mail ")]


@pytest.mark.parametrize("address, sent_to", [
    ("bob@bücher.example", "bob@xn--bcher-kva.example"),
    ("a@exämple.org", "a@xn--exmple-cua.org"),
    ("Carol@example.com", "Carol@example.com"),
    ("zoë@bücher.example", "zoë@bücher.example"),  # no ASCII form: only SMTPUTF8 takes it
    ("not an address", "not an address")])
def test_the_ascii_form_is_email_validators(address, sent_to):
    assert ascii_form(address) == sent_to


def test_an_international_domain_reaches_a_server_without_smtputf8(make_app, ascii_server):
    app = make_app(**ascii_server.config())
    [sent] = queue(app, to="bob@bücher.example")  # as the addresses' normal form keeps it
    assert send_due(app).sent == 1
    [message] = ascii_server.messages()
    assert (message["Message-ID"], message["To"]) == (sent, "bob@xn--bcher-kva.example")
    assert outbox(app) == []


def test_a_sign_up_to_an_international_domain_is_mailed(make_app, ascii_server):
    app = make_app(**ascii_server.config(), REGISTRATION_ENABLED=True)
    signed_up = app.test_client().post("/auth/register", json={
        "username": "bob", "password": "first long passphrase", "email": "bob@BÜCHER.example"})
    assert signed_up.status_code == 202
    assert send_due(app).sent == 1
    [message] = ascii_server.messages()
    assert (message["To"], message["Subject"]) == ("bob@xn--bcher-kva.example",
                                                   "Confirm your address")


@pytest.mark.parametrize("server, to, words", [
    ("ascii_server", "zoë@example.org", NO_SMTPUTF8),
    ("mail_server", "rejected@example.com", "(554) 5.6.0 Message content rejected")],
    ids=["needs SMTPUTF8", "5xx after the data"])
def test_a_message_that_can_never_go_is_dropped_and_the_next_goes_out(
        make_app, request, caplog, server, to, words):
    server = request.getfixturevalue(server)
    app = make_app(**server.config(), METRICS_ENABLED=True)
    refused = counted(app, "mail", event="refused")
    queue(app, to=to)
    [sent] = queue(app, to="alice@example.com")
    [dropped, _] = (row.id for row in outbox(app))
    result = send_due(app)
    assert (result.sent, result.refused, result.failed, result.waiting) == (1, 1, 0, 0)
    assert [m["Message-ID"] for m in server.messages()] == [sent]
    assert outbox(app) == []
    assert counted(app, "mail", event="refused") == refused + 1
    assert mail_lines(caplog) == [f"Mail {dropped} refused for good by the server: {words}; "
                                  "deleted"]


def test_a_server_with_smtputf8_takes_the_address_as_it_is(make_app, mail_server):
    app = make_app(**mail_server.config())
    queue(app, to="zoë@bücher.example")
    assert send_due(app).sent == 1
    [message] = mail_server.messages()
    assert message["To"] == "zoë@bücher.example"


@pytest.mark.parametrize("config, sender", [
    ({"MAIL_FROM": "noreply@bücher.example"}, "noreply@xn--bcher-kva.example"),
    ({"MAIL_FROM": "Bücher <noreply@BÜCHER.example>"}, "Bücher <noreply@xn--bcher-kva.example>"),
    ({"PUBLIC_URL": "https://login.bücher.example"}, "noreply@login.xn--bcher-kva.example")],
    ids=["MAIL_FROM", "MAIL_FROM with a name", "PUBLIC_URL"])
def test_an_international_sender_reaches_a_server_without_smtputf8(
        make_app, ascii_server, config, sender):
    app = make_app(**ascii_server.config(**config))
    [sent] = queue(app, to="alice@example.com")
    result = send_due(app)
    assert (result.sent, result.refused, result.failed) == (1, 0, 0)
    [message] = ascii_server.messages()
    assert (message["Message-ID"].strip(), message["From"]) == (sent, sender)  # may be folded


def test_an_international_public_url_names_the_greeting_and_message_id_in_ascii(make_app):
    app = make_app(MAIL_BACKEND="console", PUBLIC_URL="https://login.bücher.example")
    with app.app_context():
        assert mail_settings().sender == "noreply@login.xn--bcher-kva.example"
    [sent] = queue(app)
    assert sent.endswith("@login.xn--bcher-kva.example>")


class NoSmtpUtf8:
    """A connection whose server lacks SMTPUTF8, as smtplib finds for any address beyond
    ASCII (the sender's too)."""

    def send_message(self, message):
        raise smtplib.SMTPNotSupportedError("no SMTPUTF8")

    def quit(self):
        pass


@pytest.mark.parametrize("to, permanent", [("zoë@example.org", True),
                                           ("alice@example.com", False)])
def test_only_a_recipient_beyond_ascii_makes_a_missing_smtputf8_final(
        make_app, to, permanent):
    app = make_app(MAIL_BACKEND="console", PUBLIC_URL="https://login.example.com")
    message = EmailMessage()
    message["To"] = to
    with app.app_context(), pytest.raises(transport.NotSent) as raised:
        transport.deliver(NoSmtpUtf8(), message, mail_settings())
    assert (str(raised.value), raised.value.permanent) == (NO_SMTPUTF8, permanent)
