"""Two-step sign-in through the API, in Flask's test client, for the tests of the second factor
and of what it locks down: the codes come from pyotp on a TOTP clock the test sets
(jwtauthtest.second_factor.totp's), so that a test knows which codes the server takes.

A test module loads the fixtures ``clock`` and ``app_with`` with
``pytest_plugins = ["second_factor_api"]``, and imports the rest; the requests that need no
code are account_api.py's.
"""

import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from jwtauthtest.second_factor import totp

from account_api import bearer, password_login

NOW = 1_800_000_015.0  # 15 s into a 30-second step
CHALLENGE = "Second-Factor-Challenge"
WRONG_CODE = {"status_code": 401, "error": "Invalid credentials",
              "description": "The code is not right"}
NO_CHALLENGE = {"status_code": 401, "error": "Invalid challenge", "description":
                "The challenge is unknown, expired or spent: log in with the password again"}


@pytest.fixture
def clock(monkeypatch) -> dict[str, float]:
    """The second factor's clock, at NOW unless a test moves it."""
    now = {"t": NOW}
    monkeypatch.setattr(totp, "clock", lambda: now["t"])
    return now


@pytest.fixture
def app_with(app_with_user, clock):
    """conftest's app_with_user, with the clock set first: every app's codes are NOW's."""
    return app_with_user


def code_at(secret: str, steps: int = 0) -> str:
    """The authenticator app's code, that many steps from NOW."""
    return pyotp.TOTP(secret).at(NOW + 30 * steps)


def turn_on(client: FlaskClient, token: str, at: float = NOW) -> tuple[str, dict]:
    """Turn the second factor on with the token's session, confirmed with the code of the
    step at ``at``: the secret, and the confirmation's answer."""
    started = client.post("/auth/second-factor/enrolment", headers=bearer(token))
    assert started.status_code == 201, started.get_json()
    secret = started.get_json()["secret"]
    confirmed = client.post("/auth/second-factor/enrolment/confirm", headers=bearer(token),
                            json={"code": pyotp.TOTP(secret).at(at)})
    assert confirmed.status_code == 200, confirmed.get_json()
    return secret, confirmed.get_json()


def enrol(client: FlaskClient, at: float = NOW) -> tuple[str, list[str]]:
    """Turn the second factor on from a fresh login: the secret and the recovery codes."""
    token = password_login(client).get_json()["access_token"]
    secret, confirmed = turn_on(client, token, at)
    return secret, confirmed["recovery_codes"]


def challenge_of(client: FlaskClient) -> str:
    response = password_login(client)
    assert response.status_code == 401, response.get_json()
    return response.headers[CHALLENGE]


def second_step(client: FlaskClient, challenge: str, **body: object) -> TestResponse:
    return client.post("/auth/second-factor", json={"challenge": challenge, **body})

