"""Every log entry about a condition we expect — a database down, a table missing — is one
line that says what is wrong, without SQL or its parameters (issue 22, item 4)."""

import json
import logging
import sys

import pytest

from jwtauthtest.ops.logs import JsonFormatter

from conftest import PASSWORD, USERNAME

NOT_UPGRADED = "The database schema is not up to date: run `flask --app jwtauthtest db upgrade`"
SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "[SQL", "parameters", "LINE ", "Background on")


def app_messages(caplog):
    return [record.getMessage() for record in caplog.records
            if record.name.startswith("jwtauthtest")]


def assert_one_line_without_sql(messages):
    assert messages
    for message in messages:
        assert "\n" not in message, message
        assert not any(word in message for word in SQL_WORDS), message


def test_a_login_against_a_database_not_upgraded_says_so_in_one_line(make_app, caplog):
    """No table at all (a new PostgreSQL database before `flask db upgrade`): the throttle's
    counters and the user lookup both fail, each logged as what it is — not "unreachable"."""
    client = make_app(DATABASE_AUTO_UPGRADE=False).test_client()
    caplog.clear()
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 503
    messages = app_messages(caplog)
    assert_one_line_without_sql(messages)
    assert messages[0].startswith(f"Throttle storage failed ({NOT_UPGRADED} (")
    assert messages[-1].startswith(f"{NOT_UPGRADED} (")
    assert not any("unreachable" in message for message in messages)


def test_a_database_that_is_down_is_one_line_at_start_and_per_request(make_app, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:9/none",
                   DATABASE_AUTO_UPGRADE=False, RATELIMIT_ENABLED=False)
    response = app.test_client().post("/auth", json={"username": USERNAME,
                                                     "password": PASSWORD})
    assert response.status_code == 503
    messages = app_messages(caplog)
    assert_one_line_without_sql(messages)
    assert messages[0].startswith("At start: Database unavailable: connection failed: ")
    assert messages[-1].startswith("Database unavailable: connection failed: ")
    assert 'port 9 failed' in messages[-1]


def test_in_json_only_an_unexpected_exception_carries_a_traceback(make_app):
    """An expected condition is an event with a message; an unexpected exception keeps its
    traceback, in the JSON line's exception field."""
    formatter = JsonFormatter()
    expected = logging.LogRecord("jwtauthtest", logging.WARNING, __file__, 1, NOT_UPGRADED,
                                 None, None)
    assert "exception" not in json.loads(formatter.format(expected))
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        unexpected = logging.LogRecord("jwtauthtest", logging.ERROR, __file__, 1,
                                       "Exception on /hello [GET]", None, sys.exc_info())
    line = formatter.format(unexpected)
    assert "\n" not in line
    assert json.loads(line)["exception"].splitlines()[-1] == "RuntimeError: a bug"


def test_driver_messages_lose_the_statement_and_the_excerpt(make_app):
    """PostgreSQL quotes the statement (LINE 2: FROM users ^), SQLAlchemy appends it with its
    parameters: the log keeps the server's own sentence only."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from jwtauthtest.database import db
    from jwtauthtest.schema import database_problem

    app = make_app(DATABASE_AUTO_UPGRADE=False)
    with app.app_context(), pytest.raises(DBAPIError) as raised:
        db.session.execute(text("SELECT id FROM users WHERE id = :id"), {"id": 1})
    problem = database_problem(raised.value)
    assert problem.startswith(f"{NOT_UPGRADED} (")
    assert_one_line_without_sql([problem])
