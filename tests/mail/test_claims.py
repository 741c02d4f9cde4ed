"""Senders side by side (issue 36): each message is claimed by one sender and delivered once;
a claim whose process died runs out and the message goes again, with the same Message-ID; the
jobs of a round; a request's wake-up."""

import logging
import statistics
import threading
import time

from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from jwtauthtest.database import db
from jwtauthtest.mail.claims import claim
from jwtauthtest.mail.sender import on_each_round, send_due, start_sender, stop_sender, wake_sender
from jwtauthtest.models import MailMessage

from mail_server import outbox, queue


def test_senders_at_once_deliver_each_message_exactly_once(make_app, mail_server):
    app = make_app(**mail_server.config())
    sent_ids = queue(app, count=24)
    start = threading.Barrier(4)
    rounds = []

    def sender():
        start.wait()
        rounds.append(send_due(app))

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r.sent for r in rounds) == 24 and not any(r.failed for r in rounds)
    arrived = [m["Message-ID"] for m in mail_server.wait_for(24)]
    assert sorted(arrived) == sorted(sent_ids)  # each once
    assert outbox(app) == []


def test_a_claim_whose_process_died_runs_out_and_the_message_goes_again(make_app, mail_server):
    app = make_app(**mail_server.config())
    [message_id] = queue(app)
    with app.app_context():
        taken = claim(outbox(app)[0].id)  # a sender that claimed it, and was never heard of
        assert taken is not None and claim(taken.message.id) is None
    assert send_due(app).sent == 0  # a live claim is left alone
    with app.app_context():
        db.session.execute(update(MailMessage).values(claimed_until=time.time() - 1))
        db.session.commit()
    assert send_due(app).sent == 1
    assert [m["Message-ID"] for m in mail_server.messages()] == [message_id]


def test_a_round_runs_its_jobs_first_and_goes_on_after_a_database_error(
        make_app, mail_server, caplog):
    app = make_app(**mail_server.config())
    ran = []

    def broken_job():
        ran.append("broken")
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    def queue_job():
        ran.append("queue")
        queue(app, to="bob@example.com")

    on_each_round(app, broken_job)
    on_each_round(app, queue_job)
    assert send_due(app).sent == 1  # what the job queued went out in the same round
    assert ran == ["broken", "queue"]
    assert mail_server.messages()[0]["To"] == "bob@example.com"
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
              and "broken_job" in r.getMessage()]
    assert line == "Mail job broken_job failed: Database unavailable: database is locked"


def test_a_woken_sender_sends_at_once_without_waiting_for_its_poll(make_app, mail_server):
    app = make_app(**mail_server.config(MAIL_POLL_SECONDS=60))
    start_sender(app)
    try:
        waits = []
        for count in range(1, 4):
            time.sleep(0.1)  # the sender waits for its poll
            began = time.monotonic()
            queue(app)
            with app.app_context():
                wake_sender()
            mail_server.wait_for(count, timeout=5)
            waits.append(time.monotonic() - began)
        assert statistics.median(waits) < 1
    finally:
        stop_sender(app, timeout=10)
    print(f"wake to arrival: {[round(w, 3) for w in waits]} s")


def test_wake_sender_is_nothing_where_no_sender_runs(app):
    with app.app_context():
        wake_sender()
