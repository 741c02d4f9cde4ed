"""The outbox (issue 36): a queued message goes out whole through a real SMTP server with
STARTTLS and AUTH, its text sealed in the database meanwhile; the console backend."""

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.mail.outbox import message_of, send_later
from jwtauthtest.mail.sender import send_due
from jwtauthtest.models import MailMessage

from mail_server import PUBLIC_URL, outbox, queue


def test_a_queued_message_arrives_whole(make_app, mail_server):
    app = make_app(**mail_server.config())
    [message_id] = queue(app, to="alice@example.com", username="alice")
    result = send_due(app)
    assert (result.sent, result.failed, result.waiting) == (1, 0, 0)
    [message] = mail_server.messages()
    assert message["From"] == "noreply@login.example.com"
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Your password was changed"
    assert message["Message-ID"] == message_id
    assert message_id.endswith("@login.example.com>")
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "The password of your account alice was changed at 2026-12-06 10:00 UTC." in text
    assert f"reset it at {PUBLIC_URL}/account#forgot and tell your administrator" in text
    assert f'<a href="{PUBLIC_URL}/account#forgot">' in html
    assert outbox(app) == []  # deleted once the server took it


def test_the_text_is_escaped_in_html_only(make_app, mail_server):
    app = make_app(**mail_server.config())
    queue(app, username="<b>bob</b>")
    send_due(app)
    [message] = mail_server.messages()
    assert "account <b>bob</b> was" in message.get_body(("plain",)).get_content()
    assert "&lt;b&gt;bob&lt;/b&gt;" in message.get_body(("html",)).get_content()


def test_the_database_holds_the_text_sealed(make_app, mail_server):
    app = make_app(**mail_server.config())
    queue(app, username="alice-the-user")
    [row] = outbox(app)
    assert "alice-the-user" not in row.body and "account#forgot" not in row.body
    with app.app_context():
        assert "alice-the-user" in message_of(row).get_body(("plain",)).get_content()
    other = make_app(**mail_server.config(), SECRET_KEY="another-secret-9d2b7e4a1c6f3e8b5a0d")
    with other.app_context(), pytest.raises(InvalidToken):
        message_of(row)


def test_a_message_is_part_of_the_callers_transaction(make_app, mail_server):
    app = make_app(**mail_server.config())
    with app.app_context():
        row = send_later("alice@example.com", "Your password was changed", "password_changed",
                         username="alice", when="now")
        assert row.next_try_at and row.tries == 0 and row.claimed_until is None
        db.session.rollback()  # the change it told of didn't happen: neither does the message
        assert db.session.scalars(select(MailMessage)).all() == []
    assert send_due(app).sent == 0
    assert mail_server.messages() == []


@pytest.mark.parametrize("to, subject", [("alice@example.com\r\nBcc: eve@example.com", "Hi"),
                                         ("alice@example.com", "Hi\r\nBcc: eve@example.com"),
                                         ("nobody", "Hi")])
def test_headers_cannot_be_injected(make_app, mail_server, to, subject):
    app = make_app(**mail_server.config())
    with app.app_context(), pytest.raises(ValueError):
        send_later(to, subject, "password_changed", username="alice", when="now")


def test_the_console_backend_writes_the_message_to_the_output(make_app, capfd):
    app = make_app(MAIL_BACKEND="console", PUBLIC_URL="http://localhost:5000/")
    [message_id] = queue(app, username="alice")
    assert send_due(app).sent == 1
    out = capfd.readouterr().out
    assert "MAIL_BACKEND=console: not sent" in out
    assert f"Message-ID: {message_id}\n" in out and "To: alice@example.com\n" in out
    assert "From: noreply@localhost\n" in out
    assert "reset it at http://localhost:5000/account#forgot" in out
    assert outbox(app) == []
