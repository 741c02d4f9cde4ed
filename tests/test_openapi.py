"""The OpenAPI document, and schemathesis fuzzing every operation against it (issue 7)."""

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jwtauthtest.openapi import openapi_document

from conftest import PASSWORD, USERNAME

EXAMPLES_PER_OPERATION = 150
MIN_REQUESTS = 500


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
        "/.well-known/jwks.json", "/account", "/auth/logout", "/auth/password",
        "/auth/refresh", "/auth/sessions", "/auth/sessions/{session_id}", "/docs", "/healthz",
        "/hello", "/me", "/openapi.json"]


def test_fuzzed_requests_conform_and_never_fail(app, user):
    """schemathesis generates requests for every operation: no 5xx, and every response
    (status, content type, headers, body) is what the document says."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # A token for each, before any is fuzzed: an operation may end its session (logout,
    # password change), or spend the login throttle's budget for the user.
    tokens = [app.test_client().post("/auth", json={"username": USERNAME, "password": PASSWORD})
              .get_json()["access_token"] for _ in operations]
    requests_made = {}
    for operation, token in zip(operations, tokens, strict=True):
        requests_made[f"{operation.method.upper()} {operation.path}"] = fuzz(operation, token)
    # schemathesis leaves out GET /openapi.json, the document it loaded (tested above).
    assert len(requests_made) == 13, sorted(requests_made.items())
    assert sum(requests_made.values()) >= MIN_REQUESTS, requests_made


def fuzz(operation, token: str) -> int:
    """Run the generated cases of one operation; how many requests were made."""
    made = []

    @given(case=operation.as_strategy(), use_token=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case, use_token):
        if use_token and operation.security:  # reach past the token check, too
            case.headers = {**(case.headers or {}), "Authorization": f"JWT {token}"}
        # The password policy refuses common passwords and the username, which no JSON
        # Schema can state: a schema-valid new password may get 400.
        case.call_and_validate(excluded_checks=[positive_data_acceptance]
                               if operation.path == "/auth/password" else None)
        made.append(1)

    check()
    return len(made)
