"""Protected views: every answer Flask-JWT 0.3.2 gave, on PyJWT 2."""

import base64
import hashlib
import hmac
import time

import pytest

from jwtauthtest.database import db
from jwtauthtest.models import User

from conftest import SECRET
from token_makers import flask_jwt_claims, sign, unsigned


def error(error: str, description: str) -> dict:
    return {"status_code": 401, "error": error, "description": description}


def get_hello(client, authorization=None):
    headers = {} if authorization is None else {"Authorization": authorization}
    return client.get("/hello", headers=headers)


def test_valid_token_reaches_the_view(client, token):
    response = get_hello(client, f"JWT {token}")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello world!"


def test_prefix_is_case_insensitive(client, token):
    assert get_hello(client, f"jwt {token}").status_code == 200


@pytest.mark.parametrize("authorization", [None, "", "   "])
def test_no_token(client, user, authorization):
    response = get_hello(client, authorization)
    assert response.status_code == 401
    assert response.get_json() == error("Authorization Required",
                                        "Request does not contain an access token")
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


@pytest.mark.parametrize("authorization,description", [
    ("Bearer abc", "Unsupported authorization type"),
    ("Basic YWRtaW46cGFzcw==", "Unsupported authorization type"),
    ("JWT", "Token missing"),
    ("JWT a b", "Token contains spaces"),
])
def test_bad_header(client, user, authorization, description):
    """0.3.2's answers; another scheme's names the one to use, as no token's does."""
    response = get_hello(client, authorization)
    assert response.status_code == 401
    assert response.get_json() == error("Invalid JWT header", description)
    names_the_scheme = description == "Unsupported authorization type"
    assert response.headers.get("WWW-Authenticate") == \
        ('JWT realm="Login Required"' if names_the_scheme else None)


def now() -> int:
    return int(time.time())


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_payload(payload: bytes) -> str:
    """A token signed with the app's secret whose payload is these bytes, JSON or not."""
    signed = b64(b'{"alg": "HS256", "typ": "JWT"}') + "." + b64(payload)
    signature = hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{b64(signature)}"


@pytest.mark.parametrize("make_token,description", [
    (lambda uid: sign(flask_jwt_claims(uid), "another-secret-" + "y" * 40),
     "Signature verification failed"),
    (lambda uid: sign(flask_jwt_claims(uid, now=now() - 400), SECRET),
     "Signature has expired"),
    (lambda uid: sign({**flask_jwt_claims(uid), "nbf": now() + 60}, SECRET),
     "The token is not yet valid (nbf)"),
    (lambda uid: sign({k: v for k, v in flask_jwt_claims(uid).items() if k != "exp"}, SECRET),
     'Token is missing the "exp" claim'),
    (lambda uid: sign({k: v for k, v in flask_jwt_claims(uid).items() if k != "iat"}, SECRET),
     'Token is missing the "iat" claim'),
    (lambda uid: sign({k: v for k, v in flask_jwt_claims(uid).items() if k != "nbf"}, SECRET),
     'Token is missing the "nbf" claim'),
    (lambda uid: unsigned(flask_jwt_claims(uid)), "The specified alg value is not allowed"),
    (lambda uid: sign(flask_jwt_claims(uid), SECRET, alg="HS512"),
     "The specified alg value is not allowed"),
    (lambda uid: "not-a-token", "Not enough segments"),
    (lambda uid: "a.b.c", "The token's header is not base64url"),
    (lambda uid: b64(b"\xff{}") + ".e30.c2ln", "The token's header is not a JSON object in UTF-8"),
    (lambda uid: b64(b'{"alg": "HS256", ') + ".e30.c2ln",
     "The token's header is not a JSON object in UTF-8"),
    (lambda uid: b64(b"[1]") + ".e30.c2ln", "Invalid header string: must be a json object"),
    (lambda uid: with_payload(b"\xff{"), "The token's payload is not a JSON object in UTF-8"),
    (lambda uid: with_payload(b"[1]"), "Invalid payload string: must be a json object"),
    (lambda uid: b64(b'{"alg": "HS256"}') + ".a.c2ln", "The token's payload is not base64url"),
    (lambda uid: b64(b'{"alg": "HS256"}') + ".e30.a", "The token's signature is not base64url"),
], ids=["bad-signature", "expired", "nbf-in-future", "no-exp", "no-iat", "no-nbf", "alg-none",
        "other-alg", "not-enough-segments", "garbage", "header-not-utf8", "header-not-json",
        "header-not-an-object", "payload-not-utf8", "payload-not-an-object", "payload-padding",
        "signature-padding"])
def test_token_pyjwt_refuses(client, user, make_token, description):
    response = get_hello(client, f"JWT {make_token(user)}")
    assert response.status_code == 401
    assert response.get_json() == error("Invalid token", description)


def test_leeway_accepts_a_token_expired_a_few_seconds_ago(client, user):
    token = sign(flask_jwt_claims(user, lifetime=300, now=now() - 305), SECRET)
    assert get_hello(client, f"JWT {token}").status_code == 200


def test_flask_jwt_token_from_an_old_deployment_is_accepted(client, user):
    """Exactly what Flask-JWT 0.3.2 minted: header typ/alg, claims exp, iat, nbf, identity."""
    token = sign(flask_jwt_claims(user), SECRET)
    response = get_hello(client, f"JWT {token}")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello world!"


def test_deleted_user(app, client, user, token):
    with app.app_context():
        db.session.delete(db.session.get(User, user))
        db.session.commit()
    response = get_hello(client, f"JWT {token}")
    assert response.status_code == 401
    assert response.get_json() == error("Invalid JWT", "User does not exist")


@pytest.mark.parametrize("identity", [None, "1", 1.5, True, [1], {"id": 1}, 999])
def test_identity_that_is_no_user(client, user, identity):
    claims = {**flask_jwt_claims(user), "identity": identity}
    response = get_hello(client, f"JWT {sign(claims, SECRET)}")
    assert response.status_code == 401
    assert response.get_json() == error("Invalid JWT", "User does not exist")


def test_current_identity_is_the_user(app, user):
    from jwtauthtest.jwt import current_identity, jwt_required

    @app.route("/whoami")
    @jwt_required()
    def whoami():
        return {"id": current_identity.id, "username": current_identity.username}

    token = sign(flask_jwt_claims(user), SECRET)
    response = app.test_client().get("/whoami", headers={"Authorization": f"JWT {token}"})
    assert response.get_json() == {"id": user, "username": "admin"}


def test_handlers_can_be_replaced_as_in_flask_jwt(client, user, monkeypatch):
    """The app's JWT instance takes new handlers, as Flask-JWT's did (monkeypatch restores
    them: the instance is the module's, shared by every app in this process)."""
    from jwtauthtest.jwt import jwt

    monkeypatch.setattr(jwt, "identity_callback", jwt.identity_callback)
    monkeypatch.setattr(jwt, "authentication_callback", jwt.authentication_callback)

    @jwt.identity_handler
    def nobody(payload):
        return None

    @jwt.authentication_handler
    def refuse_everyone(username, password):
        return None

    token = sign(flask_jwt_claims(user), SECRET)
    assert get_hello(client, f"JWT {token}").get_json() == error("Invalid JWT",
                                                               "User does not exist")
    response = client.post("/auth", json={"username": "admin",
                                          "password": "mysupersecretpassword"})
    assert response.get_json() == error("Bad Request", "Invalid credentials")
