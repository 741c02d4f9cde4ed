"""The OpenAPI document, and schemathesis fuzzing every operation against it (issue 7)."""

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jwtauthtest.apidocs.openapi import openapi_document
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME
from introspection import basic, new_client

EXAMPLES_PER_OPERATION = 150
MIN_REQUESTS = 500
BEYOND_THE_SCHEMA = {"/auth/password", "/auth/email", "/auth/email/confirm",
                     "/auth/password-reset", "/auth/password-reset/confirm", "/auth/register"}
ENDS_OTHER_SESSIONS = {("POST", "/auth/password"), ("DELETE", "/auth/sessions")}


def test_document_is_served(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document == openapi_document(client.application.config)
    assert document["components"]["securitySchemes"]["JWT"]["name"] == "Authorization"


def test_every_route_is_described(app):
    paths = openapi_document(app.config)["paths"]
    routes = {(re.sub(r"<(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[-1] != "static"
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, operations in paths.items() for method in operations}
    assert routes == described


def test_the_configured_login_is_described(make_app):
    app = make_app(JWT_AUTH_URL_RULE="/login", JWT_AUTH_USERNAME_KEY="email",
                   MAX_CONTENT_LENGTH=4096)
    paths = app.test_client().get("/openapi.json").get_json()["paths"]
    assert "/login" in paths and "/auth" not in paths
    login = paths["/login"]["post"]
    schema = login["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["email", "password"]
    assert login["responses"]["413"]["description"] == "The body is larger than 4096 bytes"


def test_without_a_login_route_the_document_has_none(make_app):
    app = make_app(JWT_AUTH_URL_RULE=None)
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert sorted(response.get_json()["paths"]) == [
        "/.well-known/jwks.json", "/account", "/auth/email", "/auth/email/confirm",
        "/auth/introspect", "/auth/logout", "/auth/passkey",
        "/auth/passkey/options", "/auth/passkeys", "/auth/passkeys/options",
        "/auth/passkeys/{passkey_id}", "/auth/password", "/auth/password-reset",
        "/auth/password-reset/confirm", "/auth/refresh", "/auth/register",
        "/auth/second-factor", "/auth/second-factor/enrolment",
        "/auth/second-factor/enrolment/confirm", "/auth/second-factor/recovery-codes",
        "/auth/sessions", "/auth/sessions/{session_id}", "/auth/verify", "/docs", "/healthz",
        "/hello", "/me", "/openapi.json"]


def test_fuzzed_requests_conform_and_never_fail(make_app):
    """schemathesis generates requests for every operation: no 5xx, and every response
    (status, content type, headers, body) is what the document says. E-mail is set up (to
    the console) and sign-up open, so that its routes are fuzzed past their 503."""
    app = make_app(MAIL_BACKEND="console", PUBLIC_URL="https://login.example.com",
                   REGISTRATION_ENABLED=True, RATELIMIT_LOGIN_ATTEMPTS="100 per minute",
                   # the introspections fuzzed without credentials count as failures
                   RATELIMIT_LOGIN_FAILURES="1000 per minute")
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    # Those that end the user's other sessions come last: a DELETE /auth/sessions with its
    # token would revoke the tokens of every operation fuzzed after it.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda o: (o.method.upper(), o.path) in ENDS_OTHER_SESSIONS)
    # A token for each, before any is fuzzed: an operation may end its session (logout,
    # password change), or spend the login throttle's budget for the user. /auth/refresh
    # takes the refresh token, the others the access token.
    pairs = [app.test_client().post("/auth", json={"username": USERNAME, "password": PASSWORD})
             .get_json() for _ in operations]
    tokens = [pair["refresh_token" if operation.path == "/auth/refresh" else "access_token"]
              for operation, pair in zip(operations, pairs, strict=True)]
    # POST /auth/introspect takes a client's credentials (HTTP Basic), not a token.
    client_credentials = basic(*new_client(app))
    requests_made = {}
    for operation, token in zip(operations, tokens, strict=True):
        credentials = client_credentials if operation.path == "/auth/introspect" else \
            {"Authorization": f"JWT {token}"}
        requests_made[f"{operation.method.upper()} {operation.path}"] = fuzz(operation,
                                                                              credentials)
    # schemathesis leaves out GET /openapi.json, the document it loaded (tested above).
    assert len(requests_made) == 33, sorted(requests_made.items())
    assert sum(requests_made.values()) >= MIN_REQUESTS, requests_made


def fuzz(operation, credentials: dict[str, str]) -> int:
    """Run the generated cases of one operation; how many requests were made."""
    made = []

    @given(case=operation.as_strategy(), use_token=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case, use_token):
        # The real token reaches past the token check, too. Given to the call (not set in
        # case.headers), schemathesis knows it for the credential it is: a 2xx with it is
        # no "generated auth accepted", and the same request without it, or with a made-up
        # one instead, must then be refused.
        real_token = credentials if use_token and operation.security else None
        # What no JSON Schema can state may make a schema-valid body 400: the password policy
        # (common passwords, the username), email-validator's refusal of reserved domains
        # (.test, .invalid), and a link's token that was never mailed.
        case.call_and_validate(headers=real_token,
                               excluded_checks=[positive_data_acceptance]
                               if operation.path in BEYOND_THE_SCHEMA else None)
        made.append(1)

    check()
    return len(made)
