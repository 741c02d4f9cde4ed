"""``flask mail send`` and ``flask mail list`` (issue 36): one round from the command line,
one line of outcome, status 1 with one line when mail can't go out."""

import re

from jwtauthtest.database import db
from jwtauthtest.models import MailMessage

from conftest import SECRET
from mail_server import outbox, queue
from processes import run_flask, subprocess_env


def command_env(tmp_path, database_uri, mail_server, **more):
    return subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                          FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                          **mail_server.env(), **more)


def test_mail_send_sends_what_is_due_and_says_so(tmp_path, make_app, mail_server,
                                                 database_uri):
    app = make_app(**mail_server.config())
    sent = queue(app, count=2)
    queue(app, to="busy@example.com")
    result = run_flask(command_env(tmp_path, database_uri, mail_server), "mail", "send")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"Sent 2 messages; 1 waiting \(next try in (2\d|30) s\)\n", result.stdout)
    assert sorted(m["Message-ID"] for m in mail_server.messages()) == sorted(sent)
    result = run_flask(command_env(tmp_path, database_uri, mail_server), "mail", "send")
    assert re.fullmatch(r"Sent 0 messages; 1 waiting \(next try in (2\d|30) s\)\n", result.stdout)


def test_mail_send_without_mail_set_up_is_one_line(tmp_path, make_app, database_uri):
    make_app()
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri)
    result = run_flask(env, "mail", "send")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "Error: E-mail is not set up: set MAIL_SERVER and PUBLIC_URL (docs/email.md)\n")


def test_mail_send_with_the_server_down_is_one_line_and_keeps_the_retry(
        tmp_path, make_app, mail_server, database_uri):
    app = make_app(**mail_server.config())
    queue(app)
    mail_server.stop()
    result = run_flask(command_env(tmp_path, database_uri, mail_server), "mail", "send")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()[-1:]
    assert line.startswith(f"Error: the mail server took no message: localhost:"
                           f"{mail_server.port}: connection refused; 1 waiting (next try in ")
    [row] = outbox(app)
    assert row.tries == 1 and "connection refused" in row.last_error


def test_mail_list_shows_what_waits_and_never_the_text(make_app, mail_server):
    app = make_app(**mail_server.config())
    queue(app, username="secret-looking-name")
    with app.app_context():
        db.session.execute(MailMessage.__table__.update().values(
            tries=2, last_error="(451) 4.2.1 Mailbox busy"))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["mail", "list"])
    assert result.exit_code == 0, result.output
    header, line = result.output.splitlines()
    assert header.split() == ["ID", "RECIPIENT", "TRIES", "NEXT", "TRY", "LAST", "ERROR"]
    assert line.split()[:3] == [str(outbox(app)[0].id), "alice@example.com", "2"]
    assert line.endswith("(451) 4.2.1 Mailbox busy")
    assert "secret-looking-name" not in result.output
