"""The senders in real processes (issue 36): the Procfile's server, two workers with a sender
each, sends what another process queued within its poll, and what waited while the mail
server was down once it is back; two ``flask mail send`` at once send each message once."""

import statistics
import subprocess
import sys
import time

from conftest import SECRET
from mail_server import outbox, queue
from processes import REPO_ROOT, start_procfile_server, stop_process, subprocess_env

POLL, RETRY = 0.2, 0.5


def test_the_servers_senders_send_what_is_queued_and_what_waited_for_the_mail_server(
        tmp_path, make_app, mail_server, database_uri):
    app = make_app(**mail_server.config())  # migrated; sends nothing itself (TESTING)
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         **mail_server.env(MAIL_POLL_SECONDS=POLL, MAIL_RETRY_SECONDS=RETRY))
    with start_procfile_server(env, workers=2) as server:
        waits = []
        for count in range(1, 6):
            began = time.monotonic()
            queue(app)
            mail_server.wait_for(count, timeout=POLL + 5)
            waits.append(time.monotonic() - began)
        assert max(waits) < POLL + 1, waits

        mail_server.stop()
        [waited] = queue(app, to="bob@example.com")
        deadline = time.monotonic() + 5
        while not (rows := outbox(app)) or not rows[0].tries:  # a sender tried, and failed
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        assert "connection refused" in rows[0].last_error
        mail_server.start()
        arrived = mail_server.wait_for(6, timeout=10)
        assert arrived[-1]["Message-ID"] == waited and arrived[-1]["To"] == "bob@example.com"
        assert len({m["Message-ID"] for m in arrived}) == 6
        time.sleep(POLL * 2)
        assert len(mail_server.messages()) == 6 and outbox(app) == []
        assert "not sent: localhost:" in server.stderr()
    print(f"queued to arrived, polled by 2 workers every {POLL} s: "
          f"median {statistics.median(waits):.3f} s of {[round(w, 3) for w in waits]}")


def test_two_commands_at_once_send_each_message_once(tmp_path, make_app, mail_server,
                                                     database_uri):
    app = make_app(**mail_server.config())
    sent = queue(app, count=30)
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri, **mail_server.env())
    argv = [sys.executable, "-m", "flask", "--app", "jwtauthtest", "mail", "send"]
    commands = [subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    try:
        outputs = [command.communicate(timeout=30) for command in commands]
    finally:
        for command in commands:
            stop_process(command)
    assert [command.returncode for command in commands] == [0, 0], outputs
    counts = [int(out.split()[1]) for out, _ in outputs]
    assert sum(counts) == 30, outputs
    assert sorted(m["Message-ID"] for m in mail_server.wait_for(30)) == sorted(sent)
    assert outbox(app) == []
