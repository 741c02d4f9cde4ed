"""One bad row does not stop the mail: an outbox message or a mail request whose handling
raises what nothing expected is set aside (logged in one line, tried again later, backing
off), and the round goes on with the others; so does a job that raises. What the server has
accepted is never put off, whatever happens after."""

import logging
import time

from sqlalchemy import delete, select

from jwtauthtest.addresses.requests import RESET_REQUEST
from jwtauthtest.database import db
from jwtauthtest.mail import claims, transport
from jwtauthtest.mail.outbox import cipher
from jwtauthtest.mail.sender import on_each_round, send_due
from jwtauthtest.models import MailMessage, MailRequest
from jwtauthtest.users import add_user

from mail_server import outbox, queue

RETRY = 0.5
UNREADABLE = "JSONDecodeError: Expecting value: line 1 column 1 (char 0)"


def set_aside_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.ERROR and " set aside: " in r.getMessage()]


def poison(app, message_id: int) -> None:
    """The message's body: sealed under the right key, and not what a message is made of."""
    with app.app_context():
        row = db.session.get(MailMessage, message_id)
        row.body = cipher().encrypt(b"<the body>").decode()
        db.session.commit()


def test_a_message_that_cant_be_made_is_set_aside_and_the_next_goes_out(
        make_app, mail_server, caplog):
    from conftest import counted

    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=RETRY), METRICS_ENABLED=True)
    failed = counted(app, "mail", event="failed")
    queue(app, to="bob@example.com")
    [sent] = queue(app, to="alice@example.com")
    [bad, _] = (row.id for row in outbox(app))
    poison(app, bad)
    before = time.time()
    result = send_due(app)
    assert (result.sent, result.failed, result.waiting) == (1, 1, 1)
    assert [m["Message-ID"] for m in mail_server.messages()] == [sent]
    [row] = outbox(app)
    assert (row.id, row.tries, row.last_error, row.claimed_until) == (bad, 1, UNREADABLE, None)
    assert before + RETRY <= row.next_try_at <= time.time() + RETRY
    assert counted(app, "mail", event="failed") == failed + 1
    assert set_aside_lines(caplog) == [f"Mail {bad} set aside: {UNREADABLE}; next try in 0.5 s"]
    assert not [r for r in caplog.records if "<the body>" in r.getMessage()]

    time.sleep(RETRY)
    assert send_due(app).failed == 1  # tried again, and put off twice as long
    assert outbox(app)[0].tries == 2
    assert set_aside_lines(caplog)[-1] == f"Mail {bad} set aside: {UNREADABLE}; next try in 1 s"


def test_a_message_that_cant_be_made_leaves_the_connection_open(
        make_app, mail_server, monkeypatch):
    app = make_app(**mail_server.config())
    connections = []
    connect = transport.connect
    monkeypatch.setattr(transport, "connect",
                        lambda settings: connections.append(settings) or connect(settings))
    queue(app, to="bob@example.com")
    queue(app, to="alice@example.com")
    poison(app, outbox(app)[0].id)
    assert send_due(app).sent == 1
    assert len(connections) == 1


def test_what_goes_wrong_after_the_server_took_a_message_does_not_put_it_off(
        make_app, mail_server, monkeypatch):
    """Put off, it would be sent again at its next try (and at each, should the trouble last);
    left claimed, it is sent again only once its claim runs out, as after a crash."""
    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=RETRY))

    def broken_settle(claimed: claims.Claim) -> bool:
        raise RuntimeError("a bug after the send")

    monkeypatch.setattr(claims, "settle", broken_settle)
    [sent] = queue(app)
    try:
        send_due(app)
    except RuntimeError:
        pass  # the round ends on it, as on any bug (the sender's thread logs it)
    monkeypatch.undo()
    time.sleep(RETRY)
    send_due(app)
    assert [m["Message-ID"] for m in mail_server.messages()] == [sent]  # not sent again
    [row] = outbox(app)
    assert (row.tries, row.last_error) == (0, None) and row.claimed_until > time.time()


def test_a_request_that_raises_is_set_aside_and_the_next_is_mailed(
        make_app, mail_server, caplog):
    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=RETRY))
    bad_id = carol_and_a_bad_request(app)
    client = app.test_client()
    assert client.post("/auth/password-reset", json={"email": "carol@example.com"}
                       ).status_code == 202
    assert send_due(app).sent == 1
    [message] = mail_server.messages()
    assert (message["To"], message["Subject"]) == ("carol@example.com", "Reset your password")
    assert requests_waiting(app) == [bad_id]  # rolled back: it waits
    line = f"Mail request {bad_id} set aside: KeyError: 'a newer kind'; next try in"
    assert set_aside_lines(caplog) == [f"{line} 0.5 s"]

    send_due(app)  # too soon: not tried
    assert len(set_aside_lines(caplog)) == 1
    time.sleep(RETRY)
    send_due(app)
    assert set_aside_lines(caplog)[1:] == [f"{line} 1 s"]
    assert requests_waiting(app) == [bad_id]


def test_a_request_handled_elsewhere_is_forgotten_and_a_new_one_with_its_id_goes_at_once(
        make_app, mail_server, caplog):
    """Another process (or ``flask mail send``) may take a request this one set aside; on
    SQLite a new request may then get its id, and must not inherit its wait."""
    app = make_app(**mail_server.config(MAIL_RETRY_SECONDS=60))
    bad_id = carol_and_a_bad_request(app)
    send_due(app)
    assert len(set_aside_lines(caplog)) == 1  # waits a minute here
    with app.app_context():
        db.session.execute(delete(MailRequest))  # taken elsewhere
        db.session.commit()
    send_due(app)
    with app.app_context():
        db.session.add(MailRequest(id=bad_id, kind=RESET_REQUEST, address="carol@example.com"))
        db.session.commit()
    assert send_due(app).sent == 1
    assert requests_waiting(app) == []


def carol_and_a_bad_request(app) -> int:
    """A user, and a request of a kind no code knows for her address; its id."""
    with app.app_context():
        add_user("carol", "first long passphrase", "carol@example.com")
        bad = MailRequest(kind="a newer kind", address="carol@example.com")
        db.session.add(bad)
        db.session.commit()
        return bad.id


def requests_waiting(app) -> list[int]:
    with app.app_context():
        ids = list(db.session.scalars(select(MailRequest.id).order_by(MailRequest.id)))
        db.session.commit()
        return ids


def test_a_job_that_raises_does_not_keep_the_messages_back(make_app, mail_server, caplog):
    app = make_app(**mail_server.config())

    def broken_job() -> None:
        raise RuntimeError("a bug\nover two lines")

    on_each_round(app, broken_job)
    [sent] = queue(app)
    assert send_due(app).sent == 1
    assert [m["Message-ID"] for m in mail_server.messages()] == [sent]
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "Mail job broken_job failed: RuntimeError: a bug over two lines"]
