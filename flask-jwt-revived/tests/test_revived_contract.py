"""0.3.2's contract as apps and other services see it: names, settings, routes, the answers
on the wire. (0.3.2's own suite runs too, in CI; these check what it leaves out.)"""

import ast
import collections
import datetime
import functools
import inspect
import logging
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

import flask
import flask_jwt
import jwt as pyjwt
import pytest
import werkzeug.local
from flask import Flask

from jwt_apps import JOE, SECRET, bearer, login, make_app, token_of

PACKAGE = Path(flask_jwt.__file__).parent

HANDLERS = ["authentication_handler", "identity_handler", "jwt_error_handler",
            "auth_response_handler", "auth_request_handler", "request_handler",
            "jwt_encode_handler", "jwt_decode_handler", "jwt_payload_handler",
            "jwt_headers_handler"]


def refused(status: int, error: str, description: str) -> dict:
    return {"status_code": status, "error": error, "description": description}


def test_it_needs_nothing_but_flask_and_pyjwt():
    imported = set()
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert imported - sys.stdlib_module_names == {"flask", "jwt", "werkzeug"}


def test_the_public_names_and_signatures_are_0_3_2s():
    assert list(inspect.signature(flask_jwt.JWT).parameters) == \
        ["app", "authentication_handler", "identity_handler"]
    assert list(inspect.signature(flask_jwt.jwt_required).parameters) == ["realm"]
    assert list(inspect.signature(flask_jwt.JWTError).parameters) == \
        ["error", "description", "status_code", "headers"]
    for name in HANDLERS:
        assert list(inspect.signature(getattr(flask_jwt.JWT, name)).parameters) == \
            ["self", "callback"]
    assert flask_jwt._jwt_required is flask_jwt.verify_jwt


# The names at the top of 0.3.2's flask_jwt module, as read from its source: its own, then
# those it had from its imports (where they came from). It also had `_request_ctx_stack`,
# which Flask 3.0 removed, and `__version__`.
OWN_NAMES_OF_0_3_2 = {
    "CONFIG_DEFAULTS", "JWT", "JWTError", "_default_auth_request_handler",
    "_default_auth_response_handler", "_default_jwt_decode_handler",
    "_default_jwt_encode_handler", "_default_jwt_error_handler", "_default_jwt_headers_handler",
    "_default_jwt_payload_handler", "_default_request_handler", "_jwt", "_jwt_required",
    "current_identity", "encode_token", "jwt_required", "logger"}
IMPORTED_NAMES_OF_0_3_2 = {
    "logging": logging, "warnings": warnings, "OrderedDict": collections.OrderedDict,
    "datetime": datetime.datetime, "timedelta": datetime.timedelta, "wraps": functools.wraps,
    "jwt": pyjwt, "current_app": flask.current_app, "request": flask.request,
    "jsonify": flask.jsonify, "LocalProxy": werkzeug.local.LocalProxy}


@pytest.mark.parametrize("name", sorted(OWN_NAMES_OF_0_3_2 | set(IMPORTED_NAMES_OF_0_3_2)))
def test_every_name_of_0_3_2s_module_imports(name):
    namespace: dict = {}
    exec(f"from flask_jwt import {name}", namespace)  # noqa: S102 (a name of our own list)
    assert namespace[name] is getattr(flask_jwt, name)
    if name in IMPORTED_NAMES_OF_0_3_2:
        assert namespace[name] is IMPORTED_NAMES_OF_0_3_2[name]


def test_a_star_import_gives_what_0_3_2s_gave_and_the_private_names():
    # 0.3.2 had no __all__: a star import gave each of its names without an underscore.
    namespace: dict = {}
    exec("from flask_jwt import *", namespace)  # noqa: S102
    names = set(namespace) - {"__builtins__"}
    assert names == OWN_NAMES_OF_0_3_2 | set(IMPORTED_NAMES_OF_0_3_2) | \
        {"request_json", "verify_jwt"}
    assert flask_jwt.logger.name == "flask_jwt"
    assert not hasattr(flask_jwt, "_request_ctx_stack")


def test_the_import_line_of_public_apps_works():
    from flask_jwt import JWT, jwt_required, timedelta  # as at least ten public apps wrote it

    assert (JWT, jwt_required, timedelta) == \
        (flask_jwt.JWT, flask_jwt.jwt_required, datetime.timedelta)


def test_encode_token_makes_a_new_token_for_the_current_identity(app, client):
    @app.route("/renew")
    @flask_jwt.jwt_required()
    def renew():
        return {"access_token": flask_jwt.encode_token().decode()}

    renewed = client.get("/renew", headers=bearer(token_of(client))).get_json()["access_token"]
    assert pyjwt.decode(renewed, SECRET, algorithms=["HS256"])["identity"] == JOE.id
    assert client.get("/protected", headers=bearer(renewed)).data == b"joe"


def test_encode_token_without_a_checked_identity_says_where_to_call_it(app):
    message = "^encode_token\\(\\) makes a token for current_identity: call it in a request " \
        "that jwt_required\\(\\) or verify_jwt\\(\\) let through$"
    with pytest.raises(RuntimeError, match=message):
        flask_jwt.encode_token()
    with app.test_request_context("/"), pytest.raises(RuntimeError, match=message):
        flask_jwt.encode_token()


def test_the_settings_and_their_defaults_are_0_3_2s():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    flask_jwt.JWT(app, lambda username, password: None, lambda payload: None)
    assert {key: app.config[key] for key in flask_jwt.CONFIG_DEFAULTS} == {
        "JWT_DEFAULT_REALM": "Login Required", "JWT_AUTH_URL_RULE": "/auth",
        "JWT_AUTH_ENDPOINT": "jwt", "JWT_AUTH_USERNAME_KEY": "username",
        "JWT_AUTH_PASSWORD_KEY": "password", "JWT_ALGORITHM": "HS256",
        "JWT_LEEWAY": timedelta(seconds=10), "JWT_AUTH_HEADER_PREFIX": "JWT",
        "JWT_EXPIRATION_DELTA": timedelta(seconds=300),
        "JWT_NOT_BEFORE_DELTA": timedelta(seconds=0),
        "JWT_VERIFY_CLAIMS": ["signature", "exp", "nbf", "iat"],
        "JWT_REQUIRED_CLAIMS": ["exp", "iat", "nbf"]}
    assert app.config["JWT_SECRET_KEY"] == SECRET
    assert app.extensions["jwt"] is not None
    assert [(rule.rule, rule.endpoint, sorted(rule.methods)) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"] == [("/auth", "jwt", ["OPTIONS", "POST"])]


def test_a_login_token_is_0_3_2s_on_the_wire(client):
    before = int(time.time())
    token = token_of(client)
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])
    assert set(claims) == {"exp", "iat", "nbf", "identity"}
    assert claims["identity"] == JOE.id
    assert before <= claims["iat"] == claims["nbf"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 300


def test_a_token_made_elsewhere_with_the_secret_is_accepted(client):
    now = int(time.time())
    token = pyjwt.encode({"identity": 1, "iat": now, "nbf": now, "exp": now + 60}, SECRET,
                         algorithm="HS256")
    assert client.get("/protected", headers=bearer(token)).data == b"joe"


@pytest.mark.parametrize("claims,description", [
    ({"identity": 1, "iat": 0, "nbf": 0, "exp": 1}, "Signature has expired"),
    ({"identity": 1, "iat": 1, "exp": 2**40}, 'Token is missing the "nbf" claim'),
    ({"identity": 1, "nbf": 1, "exp": 2**40}, 'Token is missing the "iat" claim'),
    ({"identity": 1, "iat": 1, "nbf": 2**39, "exp": 2**40}, "The token is not yet valid (nbf)"),
])
def test_refused_claims_are_invalid_tokens(client, claims, description):
    token = pyjwt.encode(claims, SECRET, algorithm="HS256")
    response = client.get("/protected", headers=bearer(token))
    assert (response.status_code, response.get_json()) == \
        (401, refused(401, "Invalid token", description))


def test_another_algorithm_is_refused_even_with_the_secret(client):
    now = int(time.time())
    token = pyjwt.encode({"identity": 1, "iat": now, "nbf": now, "exp": now + 60}, SECRET,
                         algorithm="HS512")
    assert client.get("/protected", headers=bearer(token)).get_json() == \
        refused(401, "Invalid token", "The specified alg value is not allowed")


def test_a_request_without_a_token_is_told_the_realm():
    app = make_app(JWT_DEFAULT_REALM="Staff")
    response = app.test_client().get("/protected")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Staff"'
    assert response.get_json() == refused(401, "Authorization Required",
                                          "Request does not contain an access token")


def test_a_login_with_anything_more_than_the_credentials_is_refused(client):
    response = client.post("/auth", json={"username": "joe", "password": "pass", "otp": "1"})
    assert (response.status_code, response.get_json()) == \
        (401, refused(401, "Bad Request", "Invalid credentials"))


def test_every_refusal_is_logged_at_error_level_without_the_token(client, caplog):
    client.get("/protected", headers=bearer("garbage"))
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == \
        [("flask_jwt", "ERROR", "Invalid token. Not enough segments")]


def test_the_error_reads_as_in_0_3_2():
    error = flask_jwt.JWTError("Invalid JWT", "User does not exist")
    assert str(error) == "Invalid JWT. User does not exist"
    assert repr(error) == "JWTError: Invalid JWT"
    assert (error.status_code, error.headers) == (401, None)


def test_the_handlers_are_replaced_by_their_decorators(client, app):
    jwt = app.extensions["jwt"]
    for name in HANDLERS:
        if name != "auth_request_handler":
            def replacement(*args):
                return None
            assert getattr(jwt, name)(replacement) is replacement
            attribute = name.replace("_handler", "_callback")
            assert getattr(jwt, attribute) is replacement, attribute


def test_auth_request_handler_is_deprecated_as_in_0_3_2():
    jwt = flask_jwt.JWT()
    with pytest.warns(DeprecationWarning, match="JWT_AUTH_URL_RULE = None"):
        jwt.auth_request_handler(lambda: "mine")
    app = Flask(__name__)
    jwt.init_app(app)
    assert app.test_client().post("/auth").data == b"mine"


def test_the_login_route_needs_an_authentication_handler():
    with pytest.raises(RuntimeError, match="needs an authentication_handler"):
        flask_jwt.JWT(Flask(__name__))
    app = Flask(__name__)
    app.config["JWT_AUTH_URL_RULE"] = None
    flask_jwt.JWT(app, identity_handler=lambda payload: None)  # no route, no need
    assert [rule.endpoint for rule in app.url_map.iter_rules()] == ["static"]


def test_a_later_error_handler_still_answers(client, app):
    app.extensions["jwt"].jwt_error_handler(lambda error: ("nope", 418))
    assert (client.get("/protected").status_code, client.get("/protected").data) == (418, b"nope")


def test_an_identity_may_be_a_mapping():
    app = make_app()
    jwt = app.extensions["jwt"]
    jwt.authentication_handler(lambda username, password: {"id": 7, "name": username})
    jwt.identity_handler(lambda payload: {"id": payload["identity"]})
    client = app.test_client()
    claims = pyjwt.decode(token_of(client), SECRET, algorithms=["HS256"])
    assert claims["identity"] == 7  # (0.3.2 looked for an attribute first, and failed)


def test_the_prefix_is_read_in_any_case_and_configurable():
    client = make_app(JWT_AUTH_HEADER_PREFIX="Bearer").test_client()
    token = token_of(client)
    assert client.get("/protected", headers=bearer(token, "bearer")).data == b"joe"
    assert client.get("/protected", headers=bearer(token, "JWT")).get_json() == \
        refused(401, "Invalid JWT header", "Unsupported authorization type")


def test_login_with_wrong_password(client):
    response = login(client, password="wrong")
    assert (response.status_code, response.get_json()) == \
        (401, refused(401, "Bad Request", "Invalid credentials"))
