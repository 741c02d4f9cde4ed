"""E-mail over the real server and a real SMTP server (issue 36): the password reset and
sign-up, each from the HTTP request to the message that aiosmtpd took over STARTTLS with
AUTH, and back to a login. useradd.py --email gives the user their address; `flask users
email` changes it while the server runs."""

import json
import re

from conftest import SECRET
from mail_server import PUBLIC_URL
from processes import http, run_flask, run_useradd, start_flask, subprocess_env

PASSWORD = "first long passphrase"
NEW_PASSWORD = "second long passphrase"
ADDRESS = "carol@example.com"
RESET_ASKED = (202, {"status": "if the address is known, a link is on its way"})


def call(url, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"JWT {token}"
    status, _, data = http(method, url + path, json.dumps(body) if body else None, headers)
    return status, json.loads(data)


def link_token(message, purpose):
    text = message.get_body(("plain",)).get_content()
    [token] = re.findall(rf"{re.escape(PUBLIC_URL)}/account#{purpose}=([A-Za-z0-9_-]+)", text)
    return token


def server_env(tmp_path, database_uri, mail_server, **more):
    """A minute between the sender's looks at the outbox: what arrives sooner, the request
    that queued it woke the sender for."""
    return subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                          FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                          FLASK_DATABASE_AUTO_UPGRADE="true", FLASK_MAIL_POLL_SECONDS="60",
                          **mail_server.env(), **more)


def test_a_password_reset_from_request_to_inbox_to_login(tmp_path, database_uri, mail_server):
    env = server_env(tmp_path, database_uri, mail_server)
    added = run_useradd(env, ["--username", "carol", "--email", "Carol@EXAMPLE.com",
                              "--password-stdin"], PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    with start_flask(env) as server:
        url = server.url
        # An unknown address first: its request is taken before the known one's, and no
        # message comes of it.
        unknown = call(url, "POST", "/auth/password-reset", {"email": "nobody@example.com"})
        known = call(url, "POST", "/auth/password-reset", {"email": ADDRESS})
        assert unknown == known == (202, {"status": "if the address is known, a link is on "
                                                    "its way"})
        [message] = mail_server.wait_for(1)
        assert message["To"] == "Carol@example.com"  # the normal form: the domain lowered
        assert message["Subject"] == "Reset your password"
        assert message["Message-ID"].endswith("@login.example.com>")
        html = message.get_body(("html",)).get_content()
        token = link_token(message, "reset")
        assert f'href="{PUBLIC_URL}/account#reset={token}"' in html

        assert call(url, "POST", "/auth/password-reset/confirm",
                    {"token": token, "new_password": NEW_PASSWORD}) == (
            200, {"status": "password reset"})
        status, _ = call(url, "POST", "/auth", {"username": "carol", "password": PASSWORD})
        assert status == 401
        status, tokens = call(url, "POST", "/auth", {"username": "carol",
                                                     "password": NEW_PASSWORD})
        assert status == 200 and set(tokens) == {"access_token", "refresh_token"}
        again = call(url, "POST", "/auth/password-reset/confirm",
                     {"token": token, "new_password": "a third long passphrase"})
        assert again[0] == 400
        # the notice of the reset follows, and nothing came for the unknown address
        messages = mail_server.wait_for(2)
        assert [(m["To"], m["Subject"]) for m in messages] == [
            ("Carol@example.com", "Reset your password"),
            ("Carol@example.com", "Your password was reset")]


def test_a_sign_up_confirmed_from_its_message_logs_in(tmp_path, database_uri, mail_server):
    env = server_env(tmp_path, database_uri, mail_server, FLASK_REGISTRATION_ENABLED="true")
    with start_flask(env) as server:
        url = server.url
        login = {"username": "Explorer of Maps", "password": PASSWORD}
        body = {**login, "email": "dora@example.net"}
        assert call(url, "POST", "/auth/register", body) == (202, {"status": "confirmation sent"})
        status, refused = call(url, "POST", "/auth", login)
        assert (status, refused["error"]) == (401, "Address not confirmed")
        [message] = mail_server.wait_for(1)
        assert (message["To"], message["Subject"]) == ("dora@example.net",
                                                       "Confirm your address")
        # an address not confirmed yet is never sent the words a stranger chose
        assert "Explorer" not in message.get_body(("plain",)).get_content()
        assert "Explorer" not in message.get_body(("html",)).get_content()
        assert call(url, "POST", "/auth/email/confirm",
                    {"token": link_token(message, "confirm")}) == (
            200, {"status": "address confirmed", "email": "dora@example.net"})
        status, tokens = call(url, "POST", "/auth", login)
        assert status == 200
        status, me = call(url, "GET", "/me", token=tokens["access_token"])
        assert (me["email"], me["email_verified"]) == ("dora@example.net", True)


def add_carol(env):
    added = run_useradd(env, ["--username", "carol", "--email", ADDRESS, "--password-stdin"],
                        PASSWORD + "\n")
    assert added.returncode == 0, added.stderr


def reset(url, token, password=NEW_PASSWORD):
    return call(url, "POST", "/auth/password-reset/confirm",
                {"token": token, "new_password": password})


def test_every_reset_link_in_the_inbox_works_until_one_is_used(tmp_path, database_uri,
                                                               mail_server):
    """Three requests (RATELIMIT_MAIL_PER_ADDRESS) fill the inbox, whoever made them: a
    later one must not void the link the user is about to follow."""
    env = server_env(tmp_path, database_uri, mail_server)
    add_carol(env)
    with start_flask(env) as server:
        url = server.url
        for _ in range(3):
            assert call(url, "POST", "/auth/password-reset", {"email": ADDRESS}) == RESET_ASKED
        tokens = [link_token(message, "reset") for message in mail_server.wait_for(3)]
        assert call(url, "POST", "/auth/password-reset", {"email": ADDRESS})[0] == 429
        assert reset(url, tokens[0]) == (200, {"status": "password reset"})
        assert [reset(url, token, "a third long passphrase")[0] for token in tokens[1:]] == [
            400, 400]
        status, _ = call(url, "POST", "/auth", {"username": "carol", "password": NEW_PASSWORD})
        assert status == 200


def test_an_operator_changing_the_address_voids_the_reset_links_sent_to_the_old_one(
        tmp_path, database_uri, mail_server):
    env = server_env(tmp_path, database_uri, mail_server)
    add_carol(env)
    with start_flask(env) as server:
        url = server.url
        assert call(url, "POST", "/auth/password-reset", {"email": ADDRESS}) == RESET_ASKED
        [message] = mail_server.wait_for(1)
        changed = run_flask(env, "users", "email", "carol", "carol@example.net")
        assert changed.returncode == 0, changed.stderr
        status, refused = reset(url, link_token(message, "reset"))
        assert (status, refused["description"]) == (400, "This link is not valid: it was used "
                                                    "or has expired, or the account changed "
                                                    "since (a newer link, a new password or "
                                                    "address)")
        status, _ = call(url, "POST", "/auth", {"username": "carol", "password": PASSWORD})
        assert status == 200
