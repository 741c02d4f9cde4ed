"""When the mail server can't take a message (issue 36): the message waits, with the server's
words and a next try that backs off; nothing is lost, and certificates are always checked."""

import logging
import socket
import time

import pytest

from jwtauthtest.database import db
from jwtauthtest.mail.claims import MAX_RETRY_SECONDS, retry_delay
from jwtauthtest.mail.sender import send_due
from jwtauthtest.models import MailMessage

from mail_server import outbox, queue

RETRY = 0.5


def make_due(app) -> None:
    """Every waiting message's next try is now (as if its wait were over)."""
    with app.app_context():
        db.session.execute(MailMessage.__table__.update().values(next_try_at=0))
        db.session.commit()


def mail_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.getMessage().startswith("Mail ")]


def test_each_wait_doubles_up_to_an_hour():
    assert [retry_delay(tries, 30) for tries in range(1, 9)] == \
        [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert retry_delay(1000, 30) == MAX_RETRY_SECONDS == 3600
    assert [retry_delay(tries, 0.5) for tries in (1, 2, 3)] == [0.5, 1, 2]


def test_while_the_server_is_down_messages_wait_and_back_off_then_arrive(
        make_app, mail_server, caplog):
    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=RETRY))
    sent_ids = queue(app, count=2)
    mail_server.stop()
    for tries in (1, 2, 3):
        before = time.time()
        result = send_due(app)
        after = time.time()
        assert (result.sent, result.failed, result.waiting) == (0, 2, 2)
        assert "connection refused" in result.unreachable
        for row in outbox(app):
            assert row.tries == tries and row.claimed_until is None
            assert "localhost" in row.last_error and "connection refused" in row.last_error
            wait = RETRY * 2 ** (tries - 1)
            assert before + wait <= row.next_try_at <= after + wait
        assert send_due(app).failed == 0  # not due yet: no try
        make_due(app)
    lines = mail_lines(caplog)
    assert len(lines) == 3  # one a round, naming both messages
    ids = [row.id for row in outbox(app)]
    assert lines[0].startswith(f"Mail {ids[0]}, {ids[1]} not sent: localhost:")
    assert lines[0].endswith("; next try in 0.5 s") and lines[2].endswith("in 2 s")
    mail_server.start()
    assert send_due(app).sent == 2
    assert [m["Message-ID"] for m in mail_server.messages()] == sent_ids
    assert outbox(app) == []


def test_the_wait_stops_growing_at_an_hour(make_app, mail_server):
    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=30))
    queue(app)
    mail_server.stop()
    with app.app_context():
        db.session.execute(MailMessage.__table__.update().values(tries=12))
        db.session.commit()
    before = time.time()
    send_due(app)
    [row] = outbox(app)
    assert row.tries == 13 and before + 3600 <= row.next_try_at <= time.time() + 3600


def test_without_the_ca_file_the_certificate_is_refused_and_the_message_waits(
        make_app, mail_server):
    app = make_app(**mail_server.config(MAIL_CA_FILE=None))
    queue(app)
    result = send_due(app)
    assert (result.sent, result.failed) == (0, 1)
    [row] = outbox(app)
    assert row.tries == 1
    assert "certificate verify failed" in row.last_error
    assert mail_server.messages() == []


def test_a_wrong_password_leaves_the_message_waiting_with_one_line(
        make_app, mail_server, caplog):
    app = make_app(**mail_server.config(MAIL_PASSWORD="wrong-password-123"))
    queue(app)
    with caplog.at_level(logging.INFO):
        assert send_due(app).failed == 1
    [row] = outbox(app)
    assert row.last_error.startswith(f"localhost:{mail_server.port}: (535) ")
    [line] = mail_lines(caplog)
    assert line == f"Mail {row.id} not sent: {row.last_error}; next try in 30 s"
    assert "\n" not in line
    assert not [r for r in caplog.records if "wrong-password" in r.getMessage()
                or mail_server.password in r.getMessage()]


def test_a_server_that_never_answers_times_out(make_app, mail_server):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the connection is made, and no greeting ever comes
        app = make_app(**mail_server.config(MAIL_PORT=silent.getsockname()[1],
                                            MAIL_TIMEOUT=0.3))
        queue(app)
        began = time.monotonic()
        assert send_due(app).failed == 1
        assert time.monotonic() - began < 3
    [row] = outbox(app)
    assert row.last_error.endswith("no answer within 0.3 s (MAIL_TIMEOUT)")


def test_a_recipient_refused_for_good_is_dropped_and_one_refused_for_now_waits(
        make_app, mail_server, caplog):
    app = make_app(**mail_server.config())
    queue(app, to="refused@example.com")
    queue(app, to="busy@example.com")
    [sent] = queue(app, to="alice@example.com")
    refused, busy, _ = (row.id for row in outbox(app))
    result = send_due(app)  # over one connection: the others' refusals don't stop it
    assert (result.sent, result.refused, result.failed, result.waiting) == (1, 1, 1, 1)
    assert [m["Message-ID"] for m in mail_server.messages()] == [sent]
    [row] = outbox(app)
    assert (row.id, row.tries) == (busy, 1)
    assert row.last_error == "(451) 4.2.1 Mailbox busy, try again later"
    assert mail_lines(caplog) == [
        f"Mail {refused} refused for good by the server: (550) 5.1.1 No such mailbox here; "
        "deleted",
        f"Mail {busy} not sent: (451) 4.2.1 Mailbox busy, try again later; next try in 30 s"]


@pytest.mark.parametrize("counted", ["sent", "failed"])
def test_metrics_count_what_the_senders_did(make_app, mail_server, counted):
    from conftest import counted as counted_value

    app = make_app(**mail_server.config(), METRICS_ENABLED=True)
    before = counted_value(app, "mail", event=counted)
    queue(app)
    if counted == "failed":
        mail_server.stop()
    send_due(app)
    assert counted_value(app, "mail", event=counted) == before + 1
