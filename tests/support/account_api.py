"""The conftest user's own requests of the API, in Flask's test client: a login with the
password, a password change, and the header that sends a token. The second factor's tests ask
what a password still does once a code is needed too, so they make these requests again and
again."""

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from conftest import PASSWORD, USERNAME

INVALID_CREDENTIALS = {"status_code": 401, "error": "Bad Request",
                       "description": "Invalid credentials"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"JWT {token}"}


def password_login(client: FlaskClient, password: str = PASSWORD,
                   username: str = USERNAME) -> TestResponse:
    return client.post("/auth", json={"username": username, "password": password})


def change_password(client: FlaskClient, token: str, **more: object) -> TestResponse:
    return client.post("/auth/password", headers=bearer(token), json={
        "current_password": PASSWORD, "new_password": "a brand new long password", **more})
