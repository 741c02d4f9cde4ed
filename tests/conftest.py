"""Fixtures in Flask's tutorial style: app, client, runner, a fresh database per test.

The database is a temporary SQLite file, or the PostgreSQL database named by
TEST_DATABASE_URI (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test), emptied
after each test.
"""

import os

import pytest
from sqlalchemy import create_engine, text

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.users import add_user

SECRET = "test-secret-4f9c2a7e1d3b5c8a0e6f2d4b9a7c1e3f"
# Tests lower the argon2 cost; tests of the production parameters build their own app.
FAST_HASHING = {"ARGON2_MEMORY_COST": 1024, "ARGON2_TIME_COST": 1}
USERNAME = "admin"
PASSWORD = "mysupersecretpassword"
TEST_DATABASE_URI = os.environ.get("TEST_DATABASE_URI")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Keep the developer's own configuration and instance folder out of every test."""
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JWTAUTHTEST_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def database_uri(tmp_path):
    if TEST_DATABASE_URI is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
        return
    empty_database(TEST_DATABASE_URI)
    yield TEST_DATABASE_URI
    empty_database(TEST_DATABASE_URI)


def empty_database(uri: str) -> None:
    engine = create_engine(uri)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def make_app(database_uri):
    """Build apps on the test's database; their connections are closed afterwards."""
    apps = []

    def make(**config):
        app = create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                          "SQLALCHEMY_DATABASE_URI": database_uri,
                          "DATABASE_AUTO_UPGRADE": True, **config})
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def user(app):
    with app.app_context():
        return add_user(USERNAME, PASSWORD).id


@pytest.fixture
def token(client, user):
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["access_token"]
