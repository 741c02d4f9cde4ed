"""Anything a client sends gets a 4xx in the JSON error shape, never a 5xx (issue 7)."""

import json
import time

import jwt as pyjwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtauthtest.passwords.usernames import username_key

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))


def assert_error_shape(response, status=None):
    assert response.status_code < 500, response.get_data(as_text=True)
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"status_code", "error", "description"}, body
    assert body["status_code"] == response.status_code
    assert isinstance(body["error"], str) and isinstance(body["description"], str)
    return body


@pytest.fixture
def open_client(make_app, user):
    """No throttling, so every generated request reaches the code under test."""
    return make_app(RATELIMIT_ENABLED=False).test_client()


@pytest.mark.parametrize("body", [
    '{"username": "\\ud800", "password": "x"}',
    '{"username": "admin", "password": "\\udfff"}',
    '{"username": "ad\\u0000min", "password": "x"}',
    '{"username": "admin", "password": "x\\u0000"}',
], ids=["surrogate-username", "surrogate-password", "nul-username", "nul-password"])
def test_unstorable_text_is_400(client, user, body):
    response = client.post("/auth", data=body, content_type="application/json")
    assert assert_error_shape(response, 400)["description"] == (
        "Username and password must be text without NUL characters or unpaired surrogates")


def test_json_nested_past_the_parser_limit_is_400(client, user):
    body = '{"username": ' + "[" * 5000 + "]" * 5000 + ', "password": "x"}'
    assert len(body) < 16 * 1024
    response = client.post("/auth", data=body, content_type="application/json")
    assert assert_error_shape(response, 400)["description"] == (
        "Request body must be a JSON object")


@pytest.fixture
def every_route_on(make_app, user):
    """Mail, sign-up and passkeys set up, so that no JSON route answers 404 or 503 first."""
    return make_app(RATELIMIT_ENABLED=False, PUBLIC_URL="https://login.example.com",
                    MAIL_BACKEND="console", REGISTRATION_ENABLED=True,
                    WEBAUTHN_RP_ID="localhost", WEBAUTHN_ORIGINS=["http://localhost"])


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_json_sent_as_another_type_is_told_to_name_its_type(every_route_on, content_type):
    """curl's -d sends a form's content type: every route that takes JSON says what to send,
    as POST /auth does, and an empty body is told it is no JSON object."""
    client = every_route_on.test_client()
    token = client.post("/auth", json={"username": USERNAME, "password": PASSWORD}
                        ).get_json()["access_token"]
    operations = [(method.upper(), path)
                  for path, methods in client.get("/openapi.json").get_json()["paths"].items()
                  for method, operation in methods.items()
                  if "application/json" in operation.get("requestBody", {}).get("content", {})]
    assert len(operations) == 14
    for method, path in operations:
        for body, description in [
                ('{"username": "admin"}',
                 "Request body must be JSON, sent with Content-Type: application/json"),
                ("", "Request body must be a JSON object")]:
            response = client.open(path, method=method, data=body, content_type=content_type,
                                   headers={"Authorization": f"JWT {token}"})
            assert assert_error_shape(response, 400)["description"] == description, (
                method, path, body)


def claims(user_id, **changes):
    return {**flask_jwt_claims(user_id), **changes}


@pytest.mark.parametrize("make_claims,path,description", [
    (lambda u: claims(u, identity=2**63), "/hello", "User does not exist"),
    (lambda u: claims(u, identity=10**30, fam="x", jti="y", type="access"), "/me",
     "User does not exist"),
    (lambda u: claims(u, identity=-1), "/hello", "User does not exist"),
    (lambda u: claims(u, iat=str(int(time.time()))), "/hello", "The iat claim must be a number"),
    (lambda u: claims(u, type="admin"), "/hello", "Unknown token type"),
    (lambda u: claims(u, fam=7), "/hello", "The fam claim must be a string"),
    (lambda u: claims(u, type="refresh", jti="j"), "/auth/refresh",
     "A refresh token needs fam and jti claims"),
    (lambda u: claims(u, type="refresh", fam="f"), "/auth/refresh",
     "A refresh token needs fam and jti claims"),
], ids=["identity-2**63", "identity-10**30", "identity-negative", "iat-string", "type-unknown",
        "fam-int", "refresh-without-fam", "refresh-without-jti"])
def test_signed_tokens_with_odd_claims_are_401(client, user, make_claims, path, description):
    token = sign(make_claims(user), SECRET)
    method = client.post if path.startswith("/auth") else client.get
    response = method(path, headers={"Authorization": f"JWT {token}"})
    assert assert_error_shape(response, 401)["description"] == description


def test_a_refresh_token_without_jti_does_not_end_the_real_session(client, user):
    tokens = client.post("/auth", json={"username": USERNAME, "password": PASSWORD}).get_json()
    family = pyjwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"])["fam"]
    forged = sign(claims(user, type="refresh", fam=family), SECRET)
    assert client.post("/auth/refresh", headers={"Authorization": f"JWT {forged}"}) \
        .status_code == 401
    assert client.get("/hello", headers={"Authorization": f"JWT {tokens['access_token']}"}) \
        .status_code == 200


# --- properties ---------------------------------------------------------------------------

header_values = st.one_of(
    st.text(st.characters(codec="latin-1"), max_size=300),
    st.builds(lambda s: "JWT " + s, st.text(st.characters(codec="latin-1"), max_size=300)),
    st.builds(lambda a, b, c: f"JWT {a}.{b}.{c}", *[st.text("abcXYZ019-_=+/", max_size=80)] * 3),
)


@PROPERTY_SETTINGS
@given(authorization=header_values, path=st.sampled_from(
    ["/hello", "/me", "/auth/refresh", "/auth/logout"]))
def test_any_authorization_header(open_client, authorization, path):
    method = open_client.post if path.startswith("/auth") else open_client.get
    # Straight into the WSGI environ: the test client would refuse some values outright.
    response = method(path, environ_base={"HTTP_AUTHORIZATION": authorization})
    # None of these headers holds a token the app issued: each one is refused.
    assert_error_shape(response, 401)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30)
credential_values = st.one_of(json_values, st.text(), st.text(min_size=1000, max_size=3000),
                              st.just(PASSWORD), st.just(USERNAME))
# The user's credentials, or nearly: another spelling of the name, a password one change
# away, one key more.
near_credentials = st.fixed_dictionaries(
    {"username": st.just(USERNAME) | st.sampled_from([USERNAME.upper(), USERNAME + " ", "adm1n"]),
     "password": st.just(PASSWORD) | st.sampled_from([PASSWORD.upper(), PASSWORD[:-1],
                                                      PASSWORD + " ", ""])},
    optional={"extra": json_values})
bodies = st.one_of(
    st.binary(max_size=2000),
    near_credentials.map(json.dumps),
    json_values.map(json.dumps),
    st.fixed_dictionaries({"username": credential_values, "password": credential_values})
    .map(json.dumps),
    st.dictionaries(st.sampled_from(["username", "password", "extra"]), credential_values)
    .map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.text(min_size=20_000, max_size=30_000),
)


@PROPERTY_SETTINGS
@given(body=bodies, content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_any_login_body(open_client, body, content_type):
    response = open_client.post("/auth", data=body, content_type=content_type)
    sent = body if isinstance(body, bytes) else body.encode()
    if len(sent) > open_client.application.config["MAX_CONTENT_LENGTH"]:
        assert_error_shape(response, 413)
    elif content_type != "application/json":  # never read as JSON, whatever it holds
        assert assert_error_shape(response, 400)["description"] == (
            "Request body must be JSON, sent with Content-Type: application/json" if sent
            else "Request body must be a JSON object")
    elif is_the_users_credentials(sent):
        assert response.status_code == 200, response.get_data(as_text=True)
        assert sorted(response.get_json()) == ["access_token", "refresh_token"]
    else:
        assert response.status_code in (400, 401), (body, response.get_data(as_text=True))
        assert_error_shape(response)


def is_the_users_credentials(body: bytes) -> bool:
    """Exactly the fixture user's credentials: a JSON object of the two keys, with the
    user's password and name (the name in any spelling of it, as the app matches names)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return (isinstance(data, dict) and sorted(data) == ["password", "username"]
            and data["password"] == PASSWORD and isinstance(data["username"], str)
            and username_key(data["username"]) == username_key(USERNAME))


@PROPERTY_SETTINGS
@given(body=bodies, path=st.sampled_from(["/auth/refresh", "/auth/logout", "/hello", "/me"]))
def test_any_body_elsewhere(open_client, body, path):
    method = open_client.post if path.startswith("/auth") else open_client.get
    response = method(path, data=body, content_type="application/json")
    # No token: whatever the body says, the request goes no further than that.
    assert assert_error_shape(response, 401)["description"] == (
        "Request does not contain an access token")
