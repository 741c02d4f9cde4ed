"""The small apps of these tests, with one user, as in the examples of Flask-JWT's era,
and the requests they make."""

import flask_jwt
from flask import Flask

SECRET = "test-secret-" + "0123456789abcdef" * 4


class User:
    def __init__(self, id: int, username: str, password: str) -> None:
        self.id, self.username, self.password = id, username, password


JOE = User(1, "joe", "pass")


def authenticate(username: str, password: str) -> User | None:
    if username == JOE.username and password == JOE.password:
        return JOE
    return None


def identity(payload: dict) -> User | None:
    return JOE if payload["identity"] == JOE.id else None


def make_app(**config) -> Flask:
    """An app with ``JWT(app, authenticate, identity)`` and ``GET /protected``."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, **config)
    flask_jwt.JWT(app, authenticate, identity)

    @app.route("/protected")
    @flask_jwt.jwt_required()
    def protected():
        return flask_jwt.current_identity.username

    return app


def login(client, username: str = "joe", password: str = "pass", url: str = "/auth"):
    return client.post(url, json={"username": username, "password": password})


def token_of(client, **kwargs) -> str:
    response = login(client, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def bearer(token: str, prefix: str = "JWT") -> dict[str, str]:
    return {"Authorization": f"{prefix} {token}"}
