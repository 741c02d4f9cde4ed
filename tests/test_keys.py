"""Signing keys with ids, the JWKS endpoint, rotation and retirement, issuer and audience
(issue 14)."""

import base64
import re
import time

import jwt as pyjwt
import pytest
from sqlalchemy import delete, func, select

from jwtauthtest.database import db
from jwtauthtest.key_material import ALGORITHMS, HMAC_ALGORITHMS
from jwtauthtest.keys import KeySet
from jwtauthtest.models import SigningKey
from jwtauthtest.secret import ConfigurationError
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME
from tokens import flask_jwt_claims, sign

LONG_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2  # 64 bytes, for HS512


def login(client, password=PASSWORD):
    response = client.post("/auth", json={"username": USERNAME, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def hello(client, token):
    return client.get("/hello", headers={"Authorization": f"JWT {token}"})


def refused(description):
    return {"status_code": 401, "error": "Invalid token", "description": description}


@pytest.fixture
def app_with(make_app):
    def make(**config):
        app = make_app(**config)
        with app.app_context():
            add_user(USERNAME, PASSWORD)
        return app
    return make


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_signs_verifies_and_publishes(app_with, algorithm):
    client = app_with(JWT_ALGORITHM=algorithm, SECRET_KEY=LONG_SECRET).test_client()
    tokens = login(client)
    header = pyjwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == algorithm and header["kid"]
    assert hello(client, tokens["access_token"]).status_code == 200
    assert client.post("/auth/refresh", headers={
        "Authorization": f"JWT {tokens['refresh_token']}"}).status_code == 200
    response = client.get("/.well-known/jwks.json")
    assert response.headers["Cache-Control"] in ("public, max-age=60", "max-age=60, public")
    keys = response.get_json()["keys"]
    if algorithm in HMAC_ALGORITHMS:
        assert keys == []  # a shared secret is published to no one
        return
    [jwk] = keys
    assert (jwk["kid"], jwk["alg"], jwk["use"]) == (header["kid"], algorithm, "sig")
    assert "d" not in jwk  # no private part
    public = pyjwt.PyJWK(jwk)  # someone else verifying with only what is published
    claims = pyjwt.decode(tokens["access_token"], public, algorithms=[algorithm])
    assert claims["identity"] == 1


def test_the_first_hmac_key_is_the_configured_secret(app_with):
    """Tokens still verify with JWT_SECRET_KEY, as Flask-JWT's did, until a rotation."""
    tokens = login(app_with().test_client())
    claims = pyjwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"])
    assert claims["type"] == "access"


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_flask_jwt_tokens_without_kid_still_pass(app_with, algorithm):
    client = app_with(JWT_ALGORITHM=algorithm).test_client()
    assert hello(client, sign(flask_jwt_claims(1), SECRET)).status_code == 200


@pytest.mark.parametrize(("kid", "description"), [
    ("made-up", "Unknown key id"),
    (["a", "list"], "Key ID header parameter must be a string"),
    ({"an": "object"}, "Key ID header parameter must be a string"),
])
def test_a_token_naming_an_unknown_key_is_refused(app_with, kid, description):
    client = app_with().test_client()
    forged = sign(flask_jwt_claims(1), SECRET, header={"typ": "JWT", "alg": "HS256",
                                                        "kid": kid})
    response = hello(client, forged)
    assert (response.status_code, response.get_json()) == (401, refused(description))


def test_an_alg_other_than_its_keys_is_refused(app_with):
    """The classic confusion: the published public key used as an HMAC secret."""
    client = app_with(JWT_ALGORITHM="EdDSA").test_client()
    [jwk] = client.get("/.well-known/jwks.json").get_json()["keys"]
    public = base64.urlsafe_b64decode(jwk["x"] + "==")
    forged = pyjwt.encode(flask_jwt_claims(1), public, algorithm="HS256",
                          headers={"kid": jwk["kid"]})
    response = hello(client, forged)
    assert (response.status_code, response.get_json()) == (
        401, refused("The specified alg value is not allowed"))


def test_private_parts_are_stored_encrypted(app_with):
    app = app_with(JWT_ALGORITHM="ES256")
    login(app.test_client())
    with app.app_context():
        stored = db.session.scalars(select(SigningKey.private_key)).all()
    assert len(stored) == 1
    assert "PRIVATE KEY" not in stored[0] and not stored[0].startswith("-----")


def test_issuer_and_audience(app_with):
    client = app_with(JWT_ISSUER="https://auth.example", JWT_AUDIENCE=["api", "admin"]
                      ).test_client()
    tokens = login(client)
    claims = pyjwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"],
                          audience="api", issuer="https://auth.example")
    assert (claims["iss"], claims["aud"]) == ("https://auth.example", ["api", "admin"])
    assert hello(client, tokens["access_token"]).status_code == 200
    # Flask-JWT's tokens have neither; a token for another audience or issuer is refused.
    assert hello(client, sign(flask_jwt_claims(1), SECRET)).get_json() == refused(
        'Token is missing the "iss" claim')
    stranger = sign({**flask_jwt_claims(1), "iss": "https://auth.example", "aud": "other"},
                    SECRET)
    assert hello(client, stranger).get_json() == refused("Audience doesn't match")
    impostor = sign({**flask_jwt_claims(1), "iss": "https://evil.example", "aud": "api"},
                    SECRET)
    assert hello(client, impostor).get_json() == refused("Invalid issuer")


def test_rotate_then_retire_from_the_command_line(app_with):
    app = app_with(JWT_ALGORITHM="EdDSA", JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    old = login(client)
    old_kid = pyjwt.get_unverified_header(old["access_token"])["kid"]

    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.output.split()[2]
    assert rotated.output.startswith(f"Made key {new_kid} (EdDSA): it signs new tokens")
    assert re.fullmatch(r"eddsa-[0-9a-f]{16}", new_kid)  # never "-...", read as an option
    new = login(client)
    assert pyjwt.get_unverified_header(new["access_token"])["kid"] == new_kid
    assert hello(client, old["access_token"]).status_code == 200  # the old key still verifies
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]} == {
        old_kid, new_kid}
    listed = runner.invoke(args=["keys", "list"]).output.splitlines()
    assert [line.split()[0] for line in listed] == ["KID", old_kid, new_kid]
    assert [line.split()[-1] for line in listed[1:]] == ["verifying", "signing"]

    early = runner.invoke(args=["keys", "retire", old_kid])
    assert early.exit_code == 1
    assert early.output.startswith(f"Error: tokens key {old_kid} signed can be valid until ")
    assert early.output.endswith(": retire it then, or now with --force (those tokens are "
                                 "then refused)\n")
    assert runner.invoke(args=["keys", "retire", new_kid]).output == (
        f"Error: key {new_kid} signs new tokens: rotate first\n")

    retired = runner.invoke(args=["keys", "retire", old_kid, "--force"])
    assert retired.exit_code == 0, retired.output
    assert hello(client, old["access_token"]).get_json() == refused("Unknown key id")
    assert hello(client, new["access_token"]).status_code == 200
    assert [k["kid"] for k in client.get("/.well-known/jwks.json").get_json()["keys"]] == [
        new_kid]
    assert runner.invoke(args=["keys", "list"]).output.splitlines()[1].endswith("retired")


def test_a_key_can_be_retired_once_its_tokens_have_expired(app_with):
    app = app_with(JWT_EXPIRATION_DELTA=1, JWT_REFRESH_EXPIRATION_DELTA=1, JWT_LEEWAY=0,
                   JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    old_kid = pyjwt.get_unverified_header(login(client)["access_token"])["kid"]
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    time.sleep(1.1)  # the old key's last tokens have expired
    assert runner.invoke(args=["keys", "retire", old_kid]).output == (
        f"Retired key {old_kid}: the tokens it signed are refused, on every instance within "
        "0 s\n")
    for kid, message in ((old_kid, f"key {old_kid} is retired already"),
                         ("made-up", "no such key: made-up")):
        result = runner.invoke(args=["keys", "retire", kid])
        assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_retiring_the_signing_key_by_force_makes_a_new_one(app_with, algorithm):
    """After a leak: its tokens are refused, and the next login is signed by a new key."""
    app = app_with(JWT_ALGORITHM=algorithm, JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    old = login(client)["access_token"]
    old_kid = pyjwt.get_unverified_header(old)["kid"]
    assert runner.invoke(args=["keys", "retire", old_kid, "--force"]).exit_code == 0
    assert hello(client, old).get_json() == refused("Unknown key id")
    new = login(client)["access_token"]
    assert pyjwt.get_unverified_header(new)["kid"] not in (old_kid, None)
    assert hello(client, new).status_code == 200


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_workers_starting_at_once_make_one_first_key(app_with, algorithm):
    """Two processes both read an empty key set before either made the first key."""
    app = app_with(JWT_ALGORITHM=algorithm)
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()
        first, second = (KeySet(algorithm, SECRET.encode(), SECRET.encode(), 60)
                         for _ in range(2))
        read_too_early = second.refresh
        second.refresh = lambda: setattr(second, "refresh", read_too_early)  # sees nothing
        first.ensure_signing_key()
        second.ensure_signing_key()
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 1
        assert first.signing_kid == second.signing_kid is not None


def test_keys_list_says_when_there_are_none(app_with):
    app = app_with()
    with app.app_context():  # as before a server's first start
        db.session.execute(delete(SigningKey))
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["keys", "list"]).output == (
        "No keys yet: a starting server makes the first, or run `keys rotate`\n")


def test_rotating_the_hmac_secret_keeps_its_tokens_and_flask_jwts_valid(app_with):
    app = app_with(JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    old = login(client)["access_token"]
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.output.startswith("Made key hs-")
    new = login(client)["access_token"]
    assert pyjwt.get_unverified_header(new)["kid"] == rotated.output.split()[2]
    with pytest.raises(pyjwt.InvalidSignatureError):  # signed by a new random secret
        pyjwt.decode(new, SECRET, algorithms=["HS256"])
    for token in (old, new, sign(flask_jwt_claims(1), SECRET)):
        assert hello(client, token).status_code == 200
    assert client.get("/.well-known/jwks.json").get_json() == {"keys": []}


def test_a_key_stored_under_another_secret_is_skipped_with_a_warning(make_app, caplog):
    first = make_app(JWT_ALGORITHM="ES256")
    with first.app_context():
        add_user(USERNAME, PASSWORD)
    login(first.test_client())
    other = make_app(JWT_ALGORITHM="ES256", SECRET_KEY="another-" + SECRET[::-1])
    client = other.test_client()
    tokens = login(client)  # a new key of its own signs
    assert hello(client, tokens["access_token"]).status_code == 200
    assert "was stored with another SECRET_KEY: it neither signs nor verifies here" \
        in caplog.text


@pytest.mark.parametrize(("algorithm", "needed"), [("HS384", 48), ("HS512", 64)])
def test_an_hmac_secret_shorter_than_its_hash_is_refused(make_app, algorithm, needed):
    with pytest.raises(ConfigurationError, match=f"^JWT_ALGORITHM {algorithm} needs a "
                       f"JWT_SECRET_KEY of at least {needed} bytes, not {len(SECRET)}: "):
        make_app(JWT_ALGORITHM=algorithm)


@pytest.mark.parametrize(("setting", "value", "message"), [
    ("JWT_ISSUER", 1, "JWT_ISSUER must be a string, not 1"),
    ("JWT_AUDIENCE", [], "JWT_AUDIENCE must be a string or a JSON list of strings, not []"),
    ("JWT_AUDIENCE", ["api", 2], "JWT_AUDIENCE must be a string or a JSON list of strings, "
                                 "not ['api', 2]"),
    ("JWT_AUDIENCE", {"a": 1}, "JWT_AUDIENCE must be a string or a JSON list of strings, "
                               "not {'a': 1}"),
    ("JWT_KEY_REFRESH_SECONDS", "soon", "JWT_KEY_REFRESH_SECONDS must be a number of seconds, "
                                        "not 'soon'"),
    ("JWT_KEY_REFRESH_SECONDS", -1, "JWT_KEY_REFRESH_SECONDS must be a number of seconds, "
                                    "not -1"),
])
def test_key_settings_of_the_wrong_type_are_refused(make_app, setting, value,
                                                            message):
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        make_app(**{setting: value})


def test_an_unknown_algorithm_is_refused(make_app):
    with pytest.raises(ValueError, match="^JWT_ALGORITHM must be one of HS256, HS384, HS512, "
                       "RS256, ES256, EdDSA, not 'none'$"):
        make_app(JWT_ALGORITHM="none")


def test_made_up_kids_cost_at_most_a_query_a_second(app_with, monkeypatch):
    from jwtauthtest import keys

    app = app_with(JWT_ALGORITHM="EdDSA")
    client = app.test_client()
    reads = []
    real_refresh = keys.KeySet.refresh
    monkeypatch.setattr(keys.KeySet, "refresh", lambda self: (reads.append(time.monotonic()),
                                                              real_refresh(self)))
    for i in range(20):
        forged = sign(flask_jwt_claims(1), SECRET, header={"alg": "HS256", "kid": f"x{i}"})
        assert hello(client, forged).status_code == 401
    assert len(reads) <= 2
