"""What Flask-JWT-Revived does beyond 0.3.2, each where 0.3.2 failed or could not run."""

import asyncio
import base64
import copy
import io
import json
import pickle

import flask_jwt
import pytest
from flask import Blueprint, g
from jwt.warnings import InsecureKeyLengthWarning
from werkzeug.exceptions import HTTPException

from jwt_apps import SECRET, bearer, login, make_app, token_of


def refused(status: int, error: str, description: str) -> dict:
    return {"status_code": status, "error": error, "description": description}


@pytest.mark.parametrize("body,content_type,status,description", [
    ("[1, 2]", "application/json", 400, "Request body must be a JSON object"),
    ("", "application/json", 400, "Request body must be a JSON object"),
    ("{nope", "application/json", 400, "Request body must be a JSON object"),
    ("[" * 100_000 + "]" * 100_000, "application/json", 400,
     "Request body must be a JSON object"),
    ("username=joe&password=pass", "application/x-www-form-urlencoded", 400,
     "Request body must be JSON, sent with Content-Type: application/json"),
    ('{"username": ["joe"], "password": "pass"}', "application/json", 400,
     "Username and password must be strings"),
    ('{"username": "joe", "password": 1}', "application/json", 400,
     "Username and password must be strings"),
    ('{"username": "joe"}', "application/json", 401, "Invalid credentials"),
])
def test_a_bad_login_body_is_an_error_of_the_contracts_shape(client, body, content_type, status,
                                                             description):
    response = client.post("/auth", data=body, content_type=content_type)
    assert (response.status_code, response.get_json()) == \
        (status, refused(status, "Bad Request", description))


@pytest.mark.parametrize("chunked", [False, True])
def test_a_login_body_over_the_limit_is_413(chunked):
    client = make_app(MAX_CONTENT_LENGTH=100).test_client()
    body = b'{"username": "joe", "password": "' + b"p" * 200 + b'"}'
    if chunked:  # no Content-Length: Werkzeug would cut the body at the limit
        response = client.post("/auth", input_stream=io.BytesIO(body),
                               content_type="application/json",
                               headers={"Transfer-Encoding": "chunked"},
                               environ_overrides={"wsgi.input_terminated": True})
    else:
        response = client.post("/auth", data=body, content_type="application/json")
    assert response.status_code == 413


def test_a_header_of_white_space_is_no_token(client):
    response = client.get("/protected", headers={"Authorization": "   "})
    assert response.get_json() == refused(401, "Authorization Required",
                                          "Request does not contain an access token")


def test_the_login_endpoint_is_named_by_the_setting():
    app = make_app(JWT_AUTH_ENDPOINT="login")
    assert [rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == "/auth"] == \
        ["login"]


def test_the_auth_response_handler_gets_bytes_from_pyjwt_2(app, client):
    received = []

    @app.extensions["jwt"].auth_response_handler
    def respond(access_token, identity):
        received.append(access_token)
        return {"mine": access_token.decode("utf-8")}

    token = login(client).get_json()["mine"]
    assert isinstance(received[0], bytes)
    assert client.get("/protected", headers=bearer(token)).data == b"joe"


def test_an_encode_handler_returning_pyjwts_text_is_answered_too(app, client):
    app.extensions["jwt"].jwt_encode_handler(lambda identity: "a.text.token")
    assert login(client).get_json() == {"access_token": "a.text.token"}


def test_the_identity_is_kept_on_g_under_the_extensions_prefix(app, client):
    @app.before_request
    def an_apps_own_names():
        g.identity = g.current_identity = "the app's"

    with client:
        client.get("/protected", headers=bearer(token_of(client)))
        assert {name for name in vars(g) if "identity" in name} == \
            {"identity", "current_identity", "_flask_jwt_identity"}
        assert g._flask_jwt_identity[1] is flask_jwt.current_identity._get_current_object()
        assert g.identity == g.current_identity == "the app's"
        assert flask_jwt.current_identity.username == "joe"


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_is_refused_at_the_first_token_not_at_init_app(secret):
    app = make_app(TESTING=True)
    app.config["JWT_SECRET_KEY"] = secret  # init_app took it
    client = app.test_client()
    with pytest.raises(RuntimeError, match="^Flask-JWT has no key to sign or verify tokens "
                                           "with: set JWT_SECRET_KEY"):
        login(client)
    with pytest.raises(RuntimeError, match="set JWT_SECRET_KEY"):
        client.get("/protected", headers=bearer("a.b.c"))


def test_a_short_secret_is_only_warned_about():
    app = make_app()
    app.config["JWT_SECRET_KEY"] = "super-secret"  # 12 bytes, as in 0.3.2's suite
    client = app.test_client()
    with pytest.warns(InsecureKeyLengthWarning):
        token = token_of(client)
    with pytest.warns(InsecureKeyLengthWarning):
        assert client.get("/protected", headers=bearer(token)).data == b"joe"


def test_an_async_view_runs_under_jwt_required(app, client):
    pytest.importorskip("asgiref", reason="Flask runs async views with asgiref (flask[async])")

    @app.route("/async")
    @flask_jwt.jwt_required()
    async def async_view():
        await asyncio.sleep(0)
        return f"async {flask_jwt.current_identity.username}"

    assert client.get("/async", headers=bearer(token_of(client))).data == b"async joe"
    assert client.get("/async").status_code == 401


def test_verify_jwt_serves_a_view_open_to_anonymous_callers_too(app, client):
    @app.route("/greeting")
    def greeting():
        try:
            flask_jwt.verify_jwt()
        except flask_jwt.JWTError:
            return "Hello, stranger"
        return f"Hello, {flask_jwt.current_identity.username}"

    assert client.get("/greeting").data == b"Hello, stranger"
    assert client.get("/greeting", headers=bearer(token_of(client))).data == b"Hello, joe"
    assert client.get("/greeting", headers=bearer("garbage")).data == b"Hello, stranger"


def test_request_json_reads_the_body_as_the_login_resource_does(app):
    with app.test_request_context("/auth", method="POST", json={"username": "joe"}):
        assert flask_jwt.request_json() == {"username": "joe"}
    with app.test_request_context("/auth", method="POST", data="{nope",
                                  content_type="application/json"):
        assert flask_jwt.request_json() is None


def test_the_error_is_an_http_exception_answered_by_the_error_handler(app):
    error = flask_jwt.JWTError("Invalid JWT", "User does not exist", 401,
                               {"WWW-Authenticate": 'JWT realm="x"'})
    assert error.code == 401
    with app.test_request_context("/"):
        response = error.get_response()
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="x"'
    assert response.get_json() == refused(401, "Invalid JWT", "User does not exist")


def test_a_secret_from_init_app_is_the_apps_secret_key_then():
    app = make_app()
    assert app.config["JWT_SECRET_KEY"] == SECRET


@pytest.mark.parametrize("credentials", [{"username": "jo\x00e", "password": "pass"},
                                         {"username": "joe", "password": "pa\ud800ss"}],
                         ids=["nul", "unpaired-surrogate"])
def test_credentials_no_database_or_encoder_could_take_are_400(client, credentials):
    body = json.dumps(credentials)  # (ASCII, with \u escapes: any JSON client can send it)
    response = client.post("/auth", data=body, content_type="application/json")
    assert (response.status_code, response.get_json()) == (400, refused(
        400, "Bad Request",
        "Username and password must be text without NUL characters or unpaired surrogates"))


def test_the_identity_belongs_to_its_request_even_in_a_shared_app_context(app, client):
    @app.route("/maybe")
    def maybe():
        try:
            flask_jwt.verify_jwt()
        except flask_jwt.JWTError:
            pass
        return repr(flask_jwt.current_identity and flask_jwt.current_identity.username)

    with app.app_context():  # as many test fixtures do: every request below shares its g
        assert client.get("/maybe", headers=bearer(token_of(client))).data == b"'joe'"
        assert client.get("/maybe").data == b"None"
        assert flask_jwt.current_identity._get_current_object() is None  # no request here


def test_the_error_pickles_and_copies_with_what_it_says():
    error = flask_jwt.JWTError("Bad Request", "Invalid credentials", 400, {"X-A": "b"})
    for twin in (pickle.loads(pickle.dumps(error)), copy.copy(error)):  # noqa: S301 (our own)
        assert (type(twin), twin.error, twin.description, twin.status_code, twin.headers) == \
            (flask_jwt.JWTError, "Bad Request", "Invalid credentials", 400, {"X-A": "b"})


def test_an_error_raised_again_by_a_later_request_gets_an_answer_of_its_own(app):
    shared = flask_jwt.JWTError("Invalid JWT", "User does not exist")
    with app.test_request_context("/"):
        first = shared.get_response()
        assert shared.get_response() is first  # asked twice in one request: built once
    app.extensions["jwt"].jwt_error_handler(lambda error: ("later", 401))
    with app.test_request_context("/"):
        second = shared.get_response()
    assert second is not first
    assert (first.get_json()["description"], second.data) == ("User does not exist", b"later")


def test_a_refusal_is_logged_on_one_line_whatever_the_client_put_in_its_token(client, caplog):
    header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "HS256", "crit": ["x\nFORGED log line"], "x\nFORGED log line": 1}).encode())
    token = header.decode().rstrip("=") + ".e30.c2ln"
    response = client.get("/protected", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["description"] == \
        "Unsupported critical extension: x\nFORGED log line"
    assert [r.getMessage() for r in caplog.records if r.name == "flask_jwt"] == \
        ["Invalid token. Unsupported critical extension: x\\nFORGED log line"]


def test_a_blueprints_own_http_error_handler_answers_a_jwt_error_in_its_views(app):
    # Documented: JWTError is an HTTPException, and Flask asks a blueprint's handlers first.
    shop = Blueprint("shop", __name__)
    shop.register_error_handler(HTTPException, lambda error: ({"shop": error.code}, error.code))

    @shop.route("/basket")
    @flask_jwt.jwt_required()
    def basket():
        return "yours"

    app.register_blueprint(shop)
    client = app.test_client()
    assert client.get("/basket").get_json() == {"shop": 401}
    assert client.get("/protected").get_json()["error"] == "Authorization Required"


@pytest.mark.parametrize("header", ["JWT {token} extra", "JWT a b", "JWT {token} {token}",
                                    "jwt {token}\textra"])
def test_an_authorization_header_with_words_after_the_token_is_refused(client, caplog,
                                                                       header):
    # As 0.3.2 did: not the first word after the prefix, the rest ignored.
    header = header.format(token=token_of(client))
    response = client.get("/protected", headers={"Authorization": header})
    assert (response.status_code, response.get_json()) == \
        (401, refused(401, "Invalid JWT header", "Token contains spaces"))
    assert [r.getMessage() for r in caplog.records if r.name == "flask_jwt"] == \
        ["Invalid JWT header. Token contains spaces"]
