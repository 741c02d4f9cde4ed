"""The mail settings (issue 36): each one that can't be used stops the start with one line
naming it; mail_problem() says what is missing; no sender where none should run."""

import pytest

from jwtauthtest import create_app
from jwtauthtest.mail import mail_problem, public_url
from jwtauthtest.mail.sender import THREAD_KEY
from jwtauthtest.mail.settings import mail_settings
from jwtauthtest.settings import ConfigurationError

from conftest import SECRET

MAIL = {"MAIL_SERVER": "smtp.example.com", "PUBLIC_URL": "https://login.example.com"}


@pytest.mark.parametrize("config, words", [
    ({"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, "MAIL_USE_TLS and MAIL_USE_SSL are both true"),
    ({"MAIL_BACKEND": "sendmail"}, "MAIL_BACKEND must be smtp or console"),
    ({"PUBLIC_URL": "login.example.com"}, "PUBLIC_URL must be the absolute http(s) URL"),
    ({"PUBLIC_URL": "ftp://login.example.com"}, "PUBLIC_URL must be"),
    ({"PUBLIC_URL": "https://login.example.com/?a=1"}, "PUBLIC_URL must be"),
    ({"PUBLIC_URL": "https://login.example.com/#top"}, "PUBLIC_URL must be"),
    ({"PUBLIC_URL": "https://user@login.example.com"}, "PUBLIC_URL must be"),
    ({"PUBLIC_URL": "https://login.example.com:99999"}, "PUBLIC_URL must be"),
    ({"MAIL_PORT": 0}, "MAIL_PORT must be a whole number from 1 to 65535"),
    ({"MAIL_PORT": 70000}, "MAIL_PORT must be"),
    ({"MAIL_PORT": "587"}, "MAIL_PORT must be"),
    ({"MAIL_CA_FILE": "/nonexistent/ca.pem"}, "MAIL_CA_FILE must be a CA bundle (PEM)"),
    ({"MAIL_USERNAME": "mailer", "MAIL_PASSWORD": "s3cret-pass"},
     "MAIL_PASSWORD is set but MAIL_USE_TLS and MAIL_USE_SSL are both false"),
    ({"MAIL_USERNAME": "mailer", "MAIL_USE_TLS": True}, "set MAIL_PASSWORD too"),
    ({"MAIL_PASSWORD": "s3cret-pass", "MAIL_USE_SSL": True}, "set MAIL_USERNAME too"),
    ({"MAIL_USE_TLS": "yes"}, "MAIL_USE_TLS must be true or false"),
    ({"MAIL_FROM": "no address"}, "MAIL_FROM must be an address"),
    ({"MAIL_FROM": "zoë@example.org"}, "MAIL_FROM's part before the @ must be ASCII"),
    ({"PUBLIC_URL": "https://bad..bücher.example"}, "PUBLIC_URL must be"),
    ({"MAIL_TIMEOUT": 0}, "MAIL_TIMEOUT must be a number of seconds above 0"),
    ({"MAIL_RETRY_SECONDS": -1}, "MAIL_RETRY_SECONDS must be a number of seconds"),
    ({"MAIL_POLL_SECONDS": 0}, "MAIL_POLL_SECONDS must be a number of seconds above 0"),
    ({"MAIL_SERVER": ""}, "MAIL_SERVER must be a host name"),
])
def test_a_setting_that_cannot_be_used_stops_the_start_with_one_line(make_app, config, words):
    with pytest.raises(ConfigurationError) as raised:
        make_app(**{**MAIL, **config})
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_password_that_cannot_be_used_is_never_repeated(make_app):
    with pytest.raises(ConfigurationError) as raised:
        make_app(**MAIL, MAIL_USE_TLS=True, MAIL_USERNAME="mailer", MAIL_PASSWORD="pass\nword")
    assert str(raised.value) == "MAIL_PASSWORD must be a password on one line"


@pytest.mark.parametrize("config, problem", [
    ({}, "E-mail is not set up: set MAIL_SERVER and PUBLIC_URL (docs/email.md)"),
    ({"MAIL_SERVER": "smtp.example.com"}, "E-mail is not set up: set PUBLIC_URL (docs/email.md)"),
    ({"PUBLIC_URL": "https://login.example.com"},
     "E-mail is not set up: set MAIL_SERVER (docs/email.md)"),
    ({"MAIL_BACKEND": "console"}, "E-mail is not set up: set PUBLIC_URL (docs/email.md)"),
    ({"MAIL_BACKEND": "console", "PUBLIC_URL": "http://localhost:5000"}, None),
    (MAIL, None),
])
def test_mail_problem_names_what_is_missing(make_app, config, problem):
    with make_app(**config).app_context():
        assert mail_problem() == problem


def test_public_url_and_the_default_from(make_app):
    with make_app(**{**MAIL, "PUBLIC_URL": "https://example.com/login/"}).app_context():
        assert public_url() == "https://example.com/login"
        assert mail_settings().sender == "noreply@example.com"
    with make_app(**MAIL, MAIL_FROM="Example <mail@example.org>").app_context():
        assert mail_settings().sender == "Example <mail@example.org>"


def test_a_test_app_starts_no_sender_of_its_own(make_app):
    assert THREAD_KEY not in make_app(**MAIL).extensions  # TESTING: tests run the rounds


def test_a_password_from_the_environment_stays_the_string_given(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("FLASK_MAIL_USERNAME", "1234")
    monkeypatch.setenv("FLASK_MAIL_PASSWORD", "123456")  # JSON would read numbers
    monkeypatch.setenv("FLASK_MAIL_USE_TLS", "true")
    app = create_app({"SECRET_KEY": SECRET, "TESTING": True})
    with app.app_context():
        assert (mail_settings().username, mail_settings().password) == ("1234", "123456")
        assert mail_settings().use_tls is True
