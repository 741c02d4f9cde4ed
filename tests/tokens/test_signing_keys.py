"""Signing keys with ids, the JWKS endpoint, rotation and retirement, issuer and audience
(issue 14)."""

import base64
import re
import time

import alembic.command
import jwt as pyjwt
import pytest
from sqlalchemy import column, delete, insert, select, table

from jwtauthtest.database import db
from jwtauthtest.keys.keyset import KeySet
from jwtauthtest.keys.material import (
    ALGORITHMS,
    HMAC_ALGORITHMS,
    new_key_material,
    storage_cipher,
)
from jwtauthtest.models import SigningKey
from jwtauthtest.schema import migrate
from jwtauthtest.settings import ConfigurationError
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME
from token_makers import flask_jwt_claims, sign

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
    """The ES256 key pair, and the HMAC key of JWT_SECRET_KEY (for Flask-JWT's tokens)."""
    app = app_with(JWT_ALGORITHM="ES256")
    login(app.test_client())
    with app.app_context():
        stored = db.session.execute(select(SigningKey.algorithm, SigningKey.private_key)
                                    .order_by(SigningKey.algorithm)).all()
    assert [algorithm for algorithm, _ in stored] == ["ES256", "HS256"]
    for _, private in stored:
        assert "PRIVATE KEY" not in private and not private.startswith("-----")
        assert SECRET not in private and SECRET.encode().hex() not in private


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
    kidless = [line.split()[0] for line in listed if line.split()[1] == "HS256"]
    assert [line.split()[0] for line in listed] == ["KID", old_kid, *kidless, new_kid]
    assert [re.split(r"  +", line)[-1] for line in listed] == [
        "STATE (JWT_ALGORITHM=EdDSA)", "verifying", "verifying (and tokens without kid)",
        "signing"]

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
    assert runner.invoke(args=["keys", "list"]).output.splitlines()[1].endswith("  retired")


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
    """Two processes both read an empty key set before either made the first key (and
    under EdDSA the HMAC key that verifies Flask-JWT's tokens)."""
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
        stored = db.session.execute(select(SigningKey.algorithm, SigningKey.first_of)).all()
        assert sorted(stored) == sorted({(algorithm, algorithm), ("HS256", "HS256")})
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


def test_a_token_is_accepted_only_by_the_key_its_kid_names(app_with):
    # Tokens naming the signing key are checked by it first, parsed once (keys/signing.py):
    # one signed by that key but naming another must still fail, and the other way round.
    app = app_with(JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    old_kid = pyjwt.get_unverified_header(login(client)["access_token"])["kid"]
    runner.invoke(args=["keys", "rotate"])
    with app.app_context():
        from jwtauthtest.keys.keyset import key_set

        current = key_set().current_key()
    assert current.kid != old_kid
    claims = flask_jwt_claims(1)
    assert hello(client, pyjwt.encode(claims, current.signing, algorithm="HS256",
                                      headers={"kid": current.kid})).status_code == 200
    for token in (pyjwt.encode(claims, current.signing, algorithm="HS256",
                               headers={"kid": old_kid}),
                  sign(claims, SECRET, header={"typ": "JWT", "alg": "HS256",
                                               "kid": current.kid})):
        response = hello(client, token)
        assert (response.status_code, response.get_json()) == \
            (401, refused("Signature verification failed"))


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
    from jwtauthtest.keys import keyset as keys

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


def me(client, token):
    return client.get("/me", headers={"Authorization": f"JWT {token}"})


def forged_with_the_leaked_secret():
    """What a forger holding JWT_SECRET_KEY mints: no kid, dated now, fresh, no session."""
    return sign({**flask_jwt_claims(1), "fresh": True}, SECRET)


NO_KIDLESS = refused("Tokens without a key id are no longer accepted")


def kids(runner, algorithm=None):
    rows = [line.split() for line in runner.invoke(args=["keys", "list"]).output.splitlines()]
    return [row[0] for row in rows[1:] if algorithm in (None, row[1])]


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_the_leak_procedure_shuts_out_the_leaked_secret(app_with, algorithm):
    """After a leak of JWT_SECRET_KEY: `keys rotate`, then `keys retire --force` of every
    older key. The HMAC key made of the secret goes with them, and a token forged with it
    afterwards (no kid, an iat after every cut-off) is refused; tokens of the new key work."""
    app = app_with(JWT_ALGORITHM=algorithm, JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    genuine = sign(flask_jwt_claims(1), SECRET)  # a Flask-JWT deployment's, before the switch
    assert me(client, genuine).status_code == 200
    assert me(client, forged_with_the_leaked_secret()).status_code == 200  # the threat
    old_kids = kids(runner)
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    for kid in old_kids:
        assert runner.invoke(args=["keys", "retire", kid, "--force"]).exit_code == 0
    assert runner.invoke(args=["tokens", "revoke-all", "--yes"]).exit_code == 0
    time.sleep(1.1)  # an iat surely after revoke-all's cut-off
    for token in (forged_with_the_leaked_secret(), genuine):
        response = me(client, token)
        assert (response.status_code, response.get_json()) == (401, NO_KIDLESS)
    assert me(client, login(client)["access_token"]).status_code == 200


def test_under_eddsa_retiring_the_hmac_key_alone_ends_tokens_without_kid(app_with, make_app):
    app = app_with(JWT_ALGORITHM="EdDSA", JWT_KEY_REFRESH_SECONDS=0)
    client, runner = app.test_client(), app.test_cli_runner()
    session = login(client)
    [hmac_kid] = kids(runner, "HS256")
    assert runner.invoke(args=["keys", "retire", hmac_kid, "--force"]).exit_code == 0
    assert me(client, forged_with_the_leaked_secret()).get_json() == NO_KIDLESS
    assert me(client, session["access_token"]).status_code == 200  # EdDSA's tokens live on
    # A restart does not make the retired key again.
    restarted = make_app(JWT_ALGORITHM="EdDSA")
    assert me(restarted.test_client(), forged_with_the_leaked_secret()).get_json() == NO_KIDLESS
    assert kids(restarted.test_cli_runner(), "HS256") == [hmac_kid]


@pytest.mark.parametrize("changed", [{"JWT_SECRET_KEY": "replaced-" + SECRET[::-1]},
                                     {"SECRET_KEY": "replaced-" + SECRET[::-1]}],
                         ids=["JWT_SECRET_KEY", "SECRET_KEY"])
def test_replacing_the_secret_ends_tokens_without_kid(make_app, changed):
    """Signed with the old secret or the new one: no key of the set is made of the new one."""
    first = make_app()
    with first.app_context():
        add_user(USERNAME, PASSWORD)
    assert me(first.test_client(), sign(flask_jwt_claims(1), SECRET)).status_code == 200
    client = make_app(**changed).test_client()
    new_secret = next(iter(changed.values()))
    for secret in (SECRET, new_secret):
        assert me(client, sign(flask_jwt_claims(1), secret)).get_json() == NO_KIDLESS
    assert me(client, login(client)["access_token"]).status_code == 200


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_a_first_keys_kid_reveals_nothing_of_the_secret(app_with, make_app, algorithm):
    """It used to be a truncated SHA-256 of the secret: a way to test guesses of a weak one
    offline. Now a new database's first key gets a new random kid, whatever the secret."""
    import hashlib

    app = app_with(JWT_ALGORITHM=algorithm)
    client = app.test_client()
    first = pyjwt.get_unverified_header(login(client)["access_token"])["kid"]
    prefix = "hs" if algorithm == "HS256" else algorithm.lower()
    assert re.fullmatch(prefix + r"-[0-9a-f]{16}", first)
    derived = [hashlib.sha256(b"jwtauthtest kid" + SECRET.encode()).hexdigest()[:16],
               hashlib.sha256(b"jwtauthtest first key " + algorithm.encode()
                              + SECRET.encode()).hexdigest()[:16]]
    assert first.split("-")[1] not in derived
    with app.app_context():  # as a new database with the same secret
        db.session.execute(delete(SigningKey))
        db.session.commit()
    again = make_app(JWT_ALGORITHM=algorithm)
    second = pyjwt.get_unverified_header(login(again.test_client())["access_token"])["kid"]
    assert second != first and re.fullmatch(prefix + r"-[0-9a-f]{16}", second)


def test_existing_keys_keep_their_kids_and_no_first_key_is_made_again(make_app):
    """Migration 0008 marks the oldest key of each algorithm as its first: the kids live
    tokens name stay, and a start doesn't make a first key again (a retired one stays so)."""
    app = make_app(DATABASE_AUTO_UPGRADE=False)
    cipher = storage_cipher(SECRET.encode())
    old = [("hs-1a16c54db7110be8", "HS256", SECRET.encode(), 1.0),  # derived from the secret
           ("hs-aaaaaaaaaaaaaaaa", "HS256", b"r" * 32, 2.0),  # made by `keys rotate`
           ("eddsa-bbbbbbbbbbbbbbbb", "EdDSA", new_key_material("EdDSA")[1], 3.0)]
    with app.app_context():
        alembic.command.upgrade(migrate.get_config(), "0007")
        keys_at_0007 = table("signing_keys", *(column(name) for name in (
            "kid", "algorithm", "created_at", "retired_at", "private_key")))
        db.session.execute(insert(keys_at_0007), [
            {"kid": kid, "algorithm": algorithm, "created_at": created,
             "retired_at": time.time() if created == 1.0 else None,
             "private_key": cipher.encrypt(material).decode()}
            for kid, algorithm, material, created in old])
        db.session.commit()
        alembic.command.upgrade(migrate.get_config(), "head")
        db.engine.dispose()
    client = make_app().test_client()  # HS256: the rotated key signs
    with client.application.app_context():
        add_user(USERNAME, PASSWORD)
        stored = db.session.execute(select(SigningKey.kid, SigningKey.first_of)
                                    .order_by(SigningKey.created_at)).all()
    assert stored == [(old[0][0], "HS256"), (old[1][0], None), (old[2][0], "EdDSA")]
    assert pyjwt.get_unverified_header(login(client)["access_token"])["kid"] == old[1][0]
    assert hello(client, sign(flask_jwt_claims(1), SECRET)).get_json() == NO_KIDLESS


def test_the_hmac_key_beside_an_asymmetric_one_never_signs(app_with, make_app):
    """Made under EdDSA for Flask-JWT's tokens, it stays a verifier after a switch to HS256."""
    eddsa = app_with(JWT_ALGORITHM="EdDSA")
    with eddsa.app_context():
        [verifier] = db.session.scalars(select(SigningKey.kid).filter_by(verify_only=True))
    client = make_app(JWT_ALGORITHM="HS256").test_client()
    token = login(client)["access_token"]
    assert pyjwt.get_unverified_header(token)["kid"] not in (verifier, None)
    assert hello(client, token).status_code == 200
    assert hello(client, sign(flask_jwt_claims(1), SECRET)).status_code == 200
