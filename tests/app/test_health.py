"""GET /healthz, and 503 instead of 500 whenever the database is unreachable (issue 6)."""

import logging

from jwtauthtest import create_app

from conftest import FAST_HASHING, SECRET
from processes import free_port
from token_makers import flask_jwt_claims, sign

UNAVAILABLE = {"status_code": 503, "error": "Service Unavailable",
               "description": "The database is unavailable; try again soon"}


def test_healthz_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def unreachable_database_app(caplog):
    """An app whose PostgreSQL server is not there (nothing listens on the port)."""
    with caplog.at_level(logging.WARNING):
        app = create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                          "SQLALCHEMY_DATABASE_URI":
                              f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"})
    assert "At start: Database unavailable: connection failed: " in caplog.text
    return app


def test_the_app_starts_without_its_database(caplog):
    unreachable_database_app(caplog)


def test_every_database_path_answers_503(caplog):
    client = unreachable_database_app(caplog).test_client()
    token = sign(flask_jwt_claims(1), SECRET)
    requests = [
        ("GET", "/healthz", {}, None),
        ("POST", "/auth", {}, {"username": "admin", "password": "pw"}),
        ("GET", "/hello", {"Authorization": f"JWT {token}"}, None),
        ("GET", "/me", {"Authorization": f"JWT {token}"}, None),
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        for method, path, headers, body in requests:
            response = client.open(path, method=method, headers=headers, json=body)
            assert response.status_code == 503, path
            assert response.get_json() == UNAVAILABLE, path
    # One line per request from the error handler (the login's throttle warns once besides).
    warnings = [r.getMessage() for r in caplog.records if r.name == "jwtauthtest"
                and r.getMessage().startswith("Database unavailable: connection failed: ")]
    assert len(warnings) == len(requests)
    assert "Traceback" not in caplog.text


def test_database_url_passwords_stay_out_of_messages(caplog):
    client = create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                         "SQLALCHEMY_DATABASE_URI":
                             f"postgresql+psycopg://app:db-password@127.0.0.1:{free_port()}/x"}
                        ).test_client()
    with caplog.at_level(logging.DEBUG):
        assert client.get("/healthz").status_code == 503
    assert "db-password" not in caplog.text



def test_all_connections_busy_is_503(make_app, user):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0,
                                              "pool_timeout": 0.2})
    client = app.test_client()
    with app.app_context():
        from jwtauthtest.database import db

        held = db.engine.connect()  # the only connection, held elsewhere
        try:
            for path in ("/healthz", "/hello"):
                headers = {"Authorization": f"JWT {sign(flask_jwt_claims(user), SECRET)}"}
                response = client.get(path, headers=headers)
                assert response.status_code == 503, path
                assert response.get_json() == UNAVAILABLE
        finally:
            held.close()
    assert client.get("/healthz").status_code == 200


def test_a_database_not_upgraded_yet_is_503_everywhere_with_the_fix_in_the_log(make_app,
                                                                               caplog):
    """Before `flask db upgrade` (the operator's job off SQLite) every route that reads the
    database answers 503, not 500 (PostgreSQL's UndefinedTable, SQLite's no such table)."""
    client = make_app(DATABASE_AUTO_UPGRADE=False).test_client()
    access = sign(flask_jwt_claims(1), SECRET)
    refresh = sign({**flask_jwt_claims(1), "type": "refresh", "fam": "f", "jti": "j"}, SECRET)
    healthz = client.get("/healthz")
    assert (healthz.status_code, healthz.get_json()["description"]) == (
        503, "The database schema is not up to date")
    requests = [
        ("POST", "/auth", None, {"username": "admin", "password": "pw"}),
        ("GET", "/hello", access, None),
        ("GET", "/me", access, None),
        ("POST", "/auth/refresh", refresh, None),
        ("POST", "/auth/logout", access, None),
    ]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest"):
        for method, path, token, body in requests:
            response = client.open(path, method=method, json=body,
                                   headers={"Authorization": f"JWT {token}"} if token else {})
            assert (response.status_code, response.get_json()) == (503, UNAVAILABLE), path
    logged = [r.getMessage() for r in caplog.records if r.name == "jwtauthtest"]
    assert len(logged) == len(requests)
    assert all(line.startswith("The database schema is not up to date: run "
                               "`flask --app jwtauthtest db upgrade` (") for line in logged)
