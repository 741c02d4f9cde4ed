import os

import pytest

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.users import add_user

SECRET = "test-secret-" + "x" * 40
# Tests lower the argon2 cost; tests of the production parameters build their own app.
FAST_HASHING = {"ARGON2_MEMORY_COST": 1024, "ARGON2_TIME_COST": 1}
USERNAME = "admin"
PASSWORD = "mysupersecretpassword"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """Keep the developer's own configuration and instance folder out of every test."""
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JWTAUTHTEST_INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def app(tmp_path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.sqlite'}",
        **FAST_HASHING,
    })
    yield app
    with app.app_context():
        db.engine.dispose()


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
