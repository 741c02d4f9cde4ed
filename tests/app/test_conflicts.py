"""A write a constraint refused, which no view expected (two requests making the same change at
once): 409, one warning line without the statement or its values, and not counted as the
database being unavailable (ops/errors.py). Any other database error is still a 503."""

import logging

import pytest
from sqlalchemy import func, select, text

from jwtauthtest.database import db
from jwtauthtest.models import User
from jwtauthtest.passwords.usernames import username_key
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME

CONFLICT = {"status_code": 409, "error": "Conflict",
            "description": "The request conflicts with a concurrent change; try again"}
UNAVAILABLE = {"status_code": 503, "error": "Service Unavailable",
               "description": "The database is unavailable; try again soon"}
THE_ROWS_PASSWORD = "not-a-hash-4711"  # a value of the refused row, which no log may hold


@pytest.fixture
def conflicting_app(make_app):
    """An app with metrics, the user USERNAME, and test-only routes: POST /test-duplicate
    inserts USERNAME again (the unique username_key refuses it), POST /test-missing-table
    reads a table that isn't there."""
    app = make_app(METRICS_ENABLED=True)

    def duplicate():
        db.session.add(User(username=USERNAME, password=THE_ROWS_PASSWORD))
        db.session.commit()
        return {"status": "inserted"}

    def missing_table():
        db.session.execute(text("SELECT * FROM no_such_table")).all()
        return {"status": "read"}

    app.add_url_rule("/test-duplicate", view_func=duplicate, methods=["POST"])
    app.add_url_rule("/test-missing-table", view_func=missing_table, methods=["POST"])
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    return app


def unavailable(app):
    """What database_unavailable has counted so far in this process (conftest.counted, for
    a counter without labels)."""
    metric = app.extensions["jwtauthtest.metrics"].counters["database_unavailable"]
    return sum(sample.value for family in metric.collect() for sample in family.samples
               if sample.name.endswith("_total"))


def users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_an_integrity_error_no_view_handled_is_409(conflicting_app):
    response = conflicting_app.test_client().post("/test-duplicate")
    assert (response.status_code, response.get_json()) == (409, CONFLICT)
    assert response.headers["Content-Type"] == "application/json"
    assert users(conflicting_app) == 1


def test_a_conflict_is_one_warning_line_without_the_statement_or_its_values(conflicting_app,
                                                                          caplog):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="jwtauthtest"):
        assert conflicting_app.test_client().post("/test-duplicate").status_code == 409
    [record] = [r for r in caplog.records if r.name == "jwtauthtest"]
    message = record.getMessage()
    assert record.levelname == "WARNING"
    assert message.startswith("A concurrent change refused a write: ")
    assert "\n" not in message
    for leaked in ("INSERT", "[SQL", "[parameters", USERNAME, username_key(USERNAME),
                   THE_ROWS_PASSWORD):
        assert leaked not in message, leaked
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text


def test_a_conflict_is_not_counted_as_the_database_being_unavailable(conflicting_app):
    before = unavailable(conflicting_app)
    assert conflicting_app.test_client().post("/test-duplicate").status_code == 409
    assert unavailable(conflicting_app) == before


def test_the_session_is_usable_after_a_conflict(conflicting_app):
    client = conflicting_app.test_client()
    assert client.post("/test-duplicate").status_code == 409
    login = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert login.status_code == 200
    assert client.get("/hello", headers={
        "Authorization": f"JWT {login.get_json()['access_token']}"}).status_code == 200


def test_another_database_error_is_still_503_and_counted(conflicting_app, caplog):
    before = unavailable(conflicting_app)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest"):
        response = conflicting_app.test_client().post("/test-missing-table")
    assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
    assert unavailable(conflicting_app) == before + 1
    assert "A concurrent change" not in caplog.text
