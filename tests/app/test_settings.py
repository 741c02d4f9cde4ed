"""Configuration: environment, instance/config.py, Flask-JWT's keys, the secret."""

import logging
import os
import re
import stat
from datetime import timedelta

import jwt as pyjwt
import pytest

from jwtauthtest import create_app
from jwtauthtest.secret import load_or_create_secret
from jwtauthtest.settings import DEFAULTS, ConfigurationError
from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, TEST_DATABASE_URI, USERNAME
from processes import REPO_ROOT
from token_makers import flask_jwt_claims, sign


def login(app) -> dict:
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    response = app.test_client().post("/auth", json={"username": USERNAME, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()


def claims_of(token: str, secret: str = SECRET) -> dict:
    return pyjwt.decode(token, secret, algorithms=["HS256"], options={"verify_nbf": False})


def test_environment_configures_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "0123456789" * 4)  # JSON would read it as a number
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("FLASK_JWT_EXPIRATION_DELTA", "600")
    monkeypatch.setenv("FLASK_ARGON2_MEMORY_COST", "1024")
    monkeypatch.setenv("FLASK_ARGON2_TIME_COST", "1")
    app = create_app()
    assert app.config["SECRET_KEY"] == "0123456789" * 4
    assert app.config["JWT_SECRET_KEY"] == "0123456789" * 4
    assert app.config["JWT_EXPIRATION_DELTA"] == timedelta(seconds=600)
    claims = claims_of(login(app)["access_token"], "0123456789" * 4)
    assert claims["exp"] - claims["iat"] == 600
    assert (tmp_path / "env.sqlite").exists()


def test_instance_config_file_is_read(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        f"SECRET_KEY = {SECRET!r}\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{tmp_path / 'file.sqlite'}'\n"
        "JWT_EXPIRATION_DELTA = 60\n")
    app = create_app()
    assert app.config["SECRET_KEY"] == SECRET
    assert app.config["JWT_EXPIRATION_DELTA"] == timedelta(seconds=60)
    assert not (instance / "secret_key").exists()


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    app = create_app({"SECRET_KEY": SECRET})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{tmp_path / 'instance' / 'jwtauthtest.sqlite'}")
    assert (tmp_path / "instance" / "jwtauthtest.sqlite").exists()


def test_durations_as_timedelta_and_not_before(make_app):
    app = make_app(JWT_EXPIRATION_DELTA=timedelta(minutes=2),
                   JWT_NOT_BEFORE_DELTA=30, JWT_LEEWAY=0)
    token = login(app)["access_token"]
    claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 120
    assert claims["nbf"] - claims["iat"] == 30
    response = app.test_client().get("/hello", headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 401
    assert response.get_json()["description"] == "The token is not yet valid (nbf)"


@pytest.mark.parametrize("value", ["ten", -5, True, None])
def test_bad_duration_is_refused(make_app, value):
    with pytest.raises(ValueError, match="JWT_EXPIRATION_DELTA must be a number of seconds"):
        make_app(JWT_EXPIRATION_DELTA=value)


def test_leeway_is_configurable(make_app):
    app = make_app(JWT_LEEWAY=0)
    with app.app_context():
        user_id = add_user(USERNAME, PASSWORD).id
    token = sign(flask_jwt_claims(user_id, lifetime=300, now=int(__import__("time").time()) - 303),
                 SECRET)
    response = app.test_client().get("/hello", headers={"Authorization": f"JWT {token}"})
    assert response.get_json()["description"] == "Signature has expired"


def test_header_prefix_and_realm(make_app):
    app = make_app(JWT_AUTH_HEADER_PREFIX="Bearer", JWT_DEFAULT_REALM="API")
    token = login(app)["access_token"]
    client = app.test_client()
    assert client.get("/hello", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    response = client.get("/hello", headers={"Authorization": f"JWT {token}"})
    assert response.get_json()["description"] == "Unsupported authorization type"
    assert client.get("/hello").headers["WWW-Authenticate"] == 'JWT realm="API"'


def test_separate_jwt_secret_key_signs_tokens(make_app):
    jwt_secret = "jwt-only-secret-" + "z" * 32
    app = make_app(JWT_SECRET_KEY=jwt_secret)
    token = login(app)["access_token"]
    assert claims_of(token, jwt_secret)["identity"] == 1
    with pytest.raises(pyjwt.InvalidSignatureError):
        claims_of(token, SECRET)


@pytest.mark.parametrize("key", ["SECRET_KEY", "JWT_SECRET_KEY"])
def test_short_secret_is_refused(make_app, key):
    with pytest.raises(ConfigurationError, match=rf"^{key} is 31 bytes; .* at least 32"):
        make_app(**{key: "s" * 31})


def test_short_secret_from_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SECRET_KEY", "changeme")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is 8 bytes"):
        create_app()


def test_secret_is_generated_once_with_private_permissions(tmp_path):
    instance = tmp_path / "instance"
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'g.sqlite'}"})
    secret_file = instance / "secret_key"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    secret = first.config["JWT_SECRET_KEY"]
    assert secret == first.config["SECRET_KEY"] == secret_file.read_text().strip()
    assert len(bytes.fromhex(secret)) == 32
    second = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'g.sqlite'}"})
    assert second.config["JWT_SECRET_KEY"] == secret
    assert [name for name in os.listdir(instance) if "secret" in name] == ["secret_key"]


def private_file(path, text):
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_tampered_short_secret_file_is_refused(tmp_path):
    private_file(tmp_path / "secret_key", "short\n")
    with pytest.raises(ConfigurationError, match="secret_key is 5 bytes"):
        load_or_create_secret(str(tmp_path))


@pytest.mark.parametrize("text", ["", "\n", "   \n"])
def test_an_empty_secret_file_is_refused(tmp_path, text):
    """An empty key would sign tokens that anyone can forge (PyJWT 2.10 accepts it)."""
    path = private_file(tmp_path / "secret_key", text)
    with pytest.raises(ConfigurationError, match=rf"^{path} is empty: delete it to have a new "
                       "secret made at the next start, or write one in it$"):
        load_or_create_secret(str(tmp_path))


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620])
def test_a_secret_file_others_can_read_or_write_is_refused(tmp_path, mode):
    path = tmp_path / "secret_key"
    path.write_text("ab12" * 16 + "\n")
    path.chmod(mode)
    with pytest.raises(ConfigurationError, match=rf"^{path} is readable or writable by others "
                       rf"\(mode {mode:o}\): run chmod 600 {path}$"):
        load_or_create_secret(str(tmp_path))


@pytest.mark.parametrize("secret", ["a" * 40, " " * 40, "ab" * 20, "\t" * 64])
def test_an_obviously_made_up_secret_is_refused(make_app, secret):
    with pytest.raises(ConfigurationError, match=r"^SECRET_KEY is too predictable \(about "
                       r"\d+ bits by its characters' frequencies\); use random bytes"):
        make_app(SECRET_KEY=secret)


@pytest.mark.skipif(TEST_DATABASE_URI is not None, reason="SQLite only; TEST_DATABASE_URI is set")
def test_the_database_and_its_journal_files_are_private(make_app, tmp_path):
    """The database holds the password hashes: owner only, as the secret."""
    app = make_app(SQLALCHEMY_DATABASE_URI="sqlite:///private.sqlite")  # in the instance folder
    login(app)
    instance = tmp_path / "instance"
    modes = {name: stat.S_IMODE(os.stat(instance / name).st_mode)
             for name in os.listdir(instance) if name.startswith("private.sqlite")}
    assert modes == {"private.sqlite": 0o600, "private.sqlite-wal": 0o600,
                     "private.sqlite-shm": 0o600}
    assert stat.S_IMODE(os.stat(instance).st_mode) == 0o700


def test_hint_is_logged_only_while_there_are_no_users(make_app, caplog):
    hint = "No users yet: add one with `./pipenv run python useradd.py`"
    with caplog.at_level(logging.WARNING, logger="jwtauthtest"):
        app = make_app()
    assert [r.getMessage() for r in caplog.records] == [hint]
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwtauthtest"):
        make_app()
    assert hint not in caplog.text


def test_every_setting_has_its_default_in_one_mapping_and_a_row_in_the_docs():
    """settings.DEFAULTS and docs/configuration.md's table name the same settings."""
    page = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = page[page.index("| setting | default | meaning |"):]
    table = table[:table.index("\n\n")]
    documented = {name for row in table.splitlines()[2:]
                  for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}
    assert documented == set(DEFAULTS)


def test_the_defaults_come_first_then_the_environment_then_the_config(make_app, monkeypatch):
    monkeypatch.setenv("FLASK_PASSWORD_MIN_LENGTH", "12")
    monkeypatch.setenv("FLASK_MAX_SESSIONS_PER_USER", "7")
    app = make_app(MAX_SESSIONS_PER_USER=3)
    assert (app.config["PASSWORD_MIN_LENGTH"], app.config["MAX_SESSIONS_PER_USER"]) == (12, 3)
    assert app.config["SECOND_FACTOR_MAX_FAILURES"] == DEFAULTS["SECOND_FACTOR_MAX_FAILURES"]
    assert app.config["CORS_ORIGINS"] is not DEFAULTS["CORS_ORIGINS"]  # each app its own
