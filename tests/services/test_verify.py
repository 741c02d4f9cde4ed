"""Forward authentication (issue 37): GET /auth/verify, which a reverse proxy asks about a
request's token: 200 with the user's name and id in headers, or 401, never stored; Bearer is
taken there and nowhere else."""

import pytest

from jwtauthtest.users import add_user, set_active

from conftest import PASSWORD, SECRET, USERNAME, counted
from processes import free_port
from token_makers import flask_jwt_claims, sign

CHALLENGE = 'JWT realm="Login Required", Bearer realm="Login Required"'
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def login(client, username=USERNAME, password=PASSWORD) -> dict:
    response = client.post("/auth", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def verify(client, authorization=None, method="GET"):
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.open("/auth/verify", method=method, headers=headers)


def assert_refused(response, error: str, description: str) -> None:
    assert response.status_code == 401
    assert response.get_json() == {"status_code": 401, "error": error,
                                   "description": description}
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert "X-Auth-User" not in response.headers and "X-Auth-User-Id" not in response.headers
    assert {name: response.headers.get(name) for name in NO_STORE} == NO_STORE


@pytest.mark.parametrize("scheme", ["JWT", "Bearer", "bearer"])
def test_a_live_token_is_answered_with_its_user_and_an_empty_body(client, user, scheme):
    response = verify(client, f"{scheme} {login(client)['access_token']}")
    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["X-Auth-User"] == USERNAME
    assert response.headers["X-Auth-User-Id"] == str(user)
    assert {name: response.headers.get(name) for name in NO_STORE} == NO_STORE
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("username,encoded", [
    ("zoë", "zo%C3%AB"),
    ("Ünal Öz", "%C3%9Cnal%20%C3%96z"),
    ("a/b:c%d", "a%2Fb%3Ac%25d"),
])
def test_a_name_is_percent_encoded_utf_8(app, client, username, encoded):
    with app.app_context():
        user_id = add_user(username, PASSWORD).id
    response = verify(client, f"Bearer {login(client, username)['access_token']}")
    assert (response.headers["X-Auth-User"], response.headers["X-Auth-User-Id"]) == (
        encoded, str(user_id))


def test_head_answers_as_get_does(client, user):
    response = verify(client, f"JWT {login(client)['access_token']}", method="HEAD")
    assert (response.status_code, response.get_data()) == (200, b"")
    assert response.headers["X-Auth-User-Id"] == str(user)
    refused = verify(client, method="HEAD")
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, CHALLENGE)


@pytest.mark.parametrize("method", ["OPTIONS", "POST"])
def test_no_other_method_is_answered_2xx(client, user, method):
    """A proxy that asked with another method must not read a 200 as a yes (Flask would
    answer OPTIONS itself)."""
    assert verify(client, f"JWT {login(client)['access_token']}", method).status_code == 405


def test_bearer_is_still_refused_elsewhere_as_flask_jwt_did(client, user):
    response = client.get("/hello",
                          headers={"Authorization": f"Bearer {login(client)['access_token']}"})
    assert response.status_code == 401
    assert response.get_json()["description"] == "Unsupported authorization type"
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


@pytest.mark.parametrize("authorization,error,description", [
    (None, "Authorization Required", "Request does not contain an access token"),
    ("Basic YWRtaW46cGFzcw==", "Invalid JWT header", "Unsupported authorization type"),
    ("Bearer", "Invalid JWT header", "Token missing"),
    ("Bearer a b", "Invalid JWT header", "Token contains spaces"),
    ("JWT a b", "Invalid JWT header", "Token contains spaces"),
    ("Bearer not.a.token", "Invalid token", "The token's header is not base64url"),
])
def test_no_usable_token_is_401_naming_both_schemes(client, user, authorization, error,
                                                    description):
    assert_refused(verify(client, authorization), error, description)


def test_a_refresh_token_is_the_wrong_type(client, user):
    assert_refused(verify(client, f"Bearer {login(client)['refresh_token']}"),
                   "Invalid token", "Expected an access token, got a refresh token")


def test_a_logged_out_token_is_revoked(client, user):
    tokens = login(client)
    assert verify(client, f"JWT {tokens['access_token']}").status_code == 200
    assert client.post("/auth/logout",
                       headers={"Authorization": f"JWT {tokens['access_token']}"}
                       ).status_code == 200
    assert_refused(verify(client, f"Bearer {tokens['access_token']}"),
                   "Invalid token", "Token has been revoked")


def test_a_disabled_users_token_is_refused(app, client, user):
    token = login(client)["access_token"]
    with app.app_context():
        set_active(USERNAME, False)
    assert_refused(verify(client, f"JWT {token}"), "Invalid JWT", "User does not exist")


def test_refusals_count_as_rejected_tokens(make_app):
    app = make_app(METRICS_ENABLED=True)
    before = counted(app, "tokens_rejected", reason="missing")
    assert app.test_client().get("/auth/verify").status_code == 401
    assert counted(app, "tokens_rejected", reason="missing") == before + 1


def test_a_database_outage_is_503_not_stored(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:"
                                           f"{free_port()}/none", DATABASE_AUTO_UPGRADE=False)
    response = verify(app.test_client(), f"Bearer {sign(flask_jwt_claims(1), SECRET)}")
    assert response.status_code == 503
    assert {name: response.headers.get(name) for name in NO_STORE} == NO_STORE
