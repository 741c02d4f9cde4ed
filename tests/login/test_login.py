"""POST /auth: Flask-JWT's contract, and JSON errors where Flask-JWT crashed."""

import time

import jwt as pyjwt
import pytest

from conftest import PASSWORD, SECRET, USERNAME

INVALID_CREDENTIALS = {"status_code": 401, "error": "Bad Request",
                       "description": "Invalid credentials"}


def test_valid_credentials_give_a_token(client, user):
    before = int(time.time())
    response = client.post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert sorted(body) == ["access_token", "refresh_token"]
    header = pyjwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = pyjwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert set(claims) == {"exp", "iat", "nbf", "identity", "jti", "type", "fam", "fresh"}
    assert claims["identity"] == user
    assert claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["nbf"] == claims["iat"]
    assert before <= claims["iat"] <= int(time.time())
    refresh = pyjwt.decode(body["refresh_token"], SECRET, algorithms=["HS256"])
    assert refresh["type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 14 * 24 * 3600
    assert refresh["fam"] == claims["fam"]
    assert refresh["jti"] != claims["jti"]


@pytest.mark.parametrize("body", [
    {"username": USERNAME, "password": "wrong password"},
    {"username": "nobody", "password": PASSWORD},
    {"username": USERNAME},
    {"password": PASSWORD},
    {"username": "", "password": PASSWORD},
    {"username": USERNAME, "password": ""},
    {"username": None, "password": PASSWORD},
    {},
], ids=["wrong-password", "unknown-user", "no-password", "no-username", "empty-username",
        "empty-password", "null-username", "empty-object"])
def test_refused_credentials(client, user, body):
    response = client.post("/auth", json=body)
    assert response.status_code == 401
    assert response.get_json() == INVALID_CREDENTIALS


@pytest.mark.parametrize("body", [
    {"username": USERNAME, "password": PASSWORD, "remember": True},
    {"username": USERNAME, "password": "wrong password", "code": "123456"},
    {"user": USERNAME, "password": PASSWORD},
])
def test_keys_besides_the_two_say_which_to_send(client, user, body):
    """Refused as Flask-JWT refused them (401 Bad Request), saying what to send: the right
    password in a body with another key logs no one in."""
    response = client.post("/auth", json=body)
    assert (response.status_code, response.get_json()) == (401, {
        **INVALID_CREDENTIALS,
        "description": "Invalid credentials: send exactly the keys username and password"})


NOT_AN_OBJECT = "Request body must be a JSON object"
NOT_SENT_AS_JSON = "Request body must be JSON, sent with Content-Type: application/json"


@pytest.mark.parametrize("data,content_type,description", [
    ("username=admin&password=x", "application/x-www-form-urlencoded", NOT_SENT_AS_JSON),
    ('{"username": "admin", "password":', "application/json", NOT_AN_OBJECT),
    ('["admin", "mysupersecretpassword"]', "application/json", NOT_AN_OBJECT),
    ("null", "application/json", NOT_AN_OBJECT),
    ('"admin"', "application/json", NOT_AN_OBJECT),
    ("", "application/json", NOT_AN_OBJECT),
    ("", None, NOT_AN_OBJECT),
    ('{"username": "admin", "password": "x"}', "text/plain", NOT_SENT_AS_JSON),
    ('{"username": "admin", "password": "x"}', None, NOT_SENT_AS_JSON),
], ids=["form", "broken-json", "list", "null", "string", "empty", "nothing", "text-plain",
        "no-type"])
def test_body_that_is_not_a_json_object(client, user, data, content_type, description):
    response = client.post("/auth", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json() == {"status_code": 400, "error": "Bad Request",
                                   "description": description}


@pytest.mark.parametrize("body", [
    {"username": 1, "password": PASSWORD},
    {"username": USERNAME, "password": ["x"]},
    {"username": {"$ne": ""}, "password": PASSWORD},
    {"username": USERNAME, "password": True},
])
def test_non_string_credentials(client, user, body):
    response = client.post("/auth", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"status_code": 400, "error": "Bad Request",
                                   "description": "Username and password must be strings"}


def test_get_auth_is_405_json(client):
    response = client.get("/auth")
    assert response.status_code == 405
    assert response.get_json() == {
        "status_code": 405, "error": "Method Not Allowed",
        "description": "The method is not allowed for the requested URL."}
    assert "POST" in response.headers["Allow"]


def test_unknown_path_is_404_json(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    body = response.get_json()
    assert body["status_code"] == 404
    assert body["error"] == "Not Found"
    assert body["description"].startswith("The requested URL was not found")


def test_custom_credential_keys_and_rule(make_app):
    from jwtauthtest.users import add_user

    app = make_app(JWT_AUTH_URL_RULE="/login", JWT_AUTH_USERNAME_KEY="email",
                   JWT_AUTH_PASSWORD_KEY="secret")
    with app.app_context():
        add_user("a@example.com", "pw-long-1")
    client = app.test_client()
    credentials = {"email": "a@example.com", "secret": "pw-long-1"}
    assert client.post("/auth", json=credentials).status_code == 404
    response = client.post("/login", json=credentials)
    assert response.status_code == 200
    assert "access_token" in response.get_json()
