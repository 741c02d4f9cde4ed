"""E-mail in process (issue 36): addresses, the password reset, sign-up, notices. Messages are
read from the outbox after the sender's job has looked the requests up; sending them through
a real SMTP server is tests/mail/'s and tests/e2e/test_email_flows.py's."""

import json
import re
import time

import pyotp
import pytest
from sqlalchemy import select, update

from jwtauthtest.addresses.requests import MAX_LIVE_RESETS, take_requests
from jwtauthtest.database import db
from jwtauthtest.mail.outbox import message_of
from jwtauthtest.models import EmailLink, MailMessage, MailRequest, User
from jwtauthtest.second_factor import store as second_factor
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME, counted

PUBLIC_URL = "https://login.example.com"
ADDRESS = "admin@example.com"
NEW_PASSWORD = "a brand new password 42"
MAIL = {"MAIL_BACKEND": "console", "PUBLIC_URL": PUBLIC_URL, "REGISTRATION_ENABLED": True}
LINK_NOT_VALID = ("This link is not valid: it was used or has expired, or the account changed "
                  "since (a newer link, a new password or address)")
TOO_SHORT = "Password must be at least 8 characters (PASSWORD_MIN_LENGTH)"
RESET_ASKED = {"status": "if the address is known, a link is on its way"}


@pytest.fixture
def mail_app(make_app):
    """An app that mails (to its output), with the user admin at a confirmed address."""
    app = make_app(**MAIL)
    with app.app_context():
        app.user_id = add_user(USERNAME, PASSWORD, ADDRESS).id
    return app


@pytest.fixture
def client(mail_app):
    return mail_app.test_client()


def sent(app) -> list:
    """The messages queued since the last call, after the sender's job took the requests."""
    with app.app_context():
        take_requests()
        rows = db.session.scalars(select(MailMessage).order_by(MailMessage.id)).all()
        messages = [message_of(row) for row in rows]
        for row in rows:
            db.session.delete(row)
        db.session.commit()
    return messages


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_token(message, purpose: str) -> str:
    [token] = re.findall(rf"{re.escape(PUBLIC_URL)}/account#{purpose}=([A-Za-z0-9_-]+)",
                         text_of(message))
    return token


def login(client, password=PASSWORD, username=USERNAME):
    return client.post("/auth", json={"username": username, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"JWT {token}"}


def turn_on_second_factor(app) -> list[str]:
    """The user's second factor, on; its recovery codes."""
    with app.app_context():
        secret = second_factor.start_enrolment(app.user_id)
        codes, _ = second_factor.confirm_enrolment(app.user_id, pyotp.TOTP(secret).now())
    return codes


def reset_link(client, app, address=ADDRESS) -> str:
    assert client.post("/auth/password-reset", json={"email": address}).status_code == 202
    [message] = sent(app)
    return link_token(message, "reset")


def confirm_reset(client, token, password=NEW_PASSWORD):
    return client.post("/auth/password-reset/confirm",
                       json={"token": token, "new_password": password})


# --- set up or not ------------------------------------------------------------------------

@pytest.mark.parametrize("config, missing", [
    ({}, "MAIL_SERVER and PUBLIC_URL"),
    ({"MAIL_SERVER": "localhost"}, "PUBLIC_URL"),
    ({"PUBLIC_URL": PUBLIC_URL}, "MAIL_SERVER"),
])
@pytest.mark.parametrize("method, path, body", [
    ("PUT", "/auth/email", {"email": ADDRESS}),
    ("POST", "/auth/email/confirm", {"token": "x"}),
    ("POST", "/auth/password-reset", {"email": ADDRESS}),
    ("POST", "/auth/password-reset/confirm", {"token": "x", "new_password": NEW_PASSWORD}),
    ("POST", "/auth/register", {"username": "bob", "password": PASSWORD, "email": ADDRESS}),
])
def test_without_a_mail_server_or_public_url_the_email_routes_answer_503(
        make_app, config, missing, method, path, body):
    app = make_app(REGISTRATION_ENABLED=True, **config)
    response = app.test_client().open(path, method=method, json=body)
    assert response.status_code == 503
    problem = response.get_json()
    assert problem["status_code"] == 503 and problem["error"] == "Service Unavailable"
    assert problem["description"].startswith("E-mail is not set up")
    assert missing in problem["description"]
    assert "\n" not in problem["description"]


# --- password reset -----------------------------------------------------------------------

def test_a_reset_link_sets_a_new_password_and_hands_out_no_tokens(client, mail_app):
    before = login(client).get_json()
    assert client.post("/auth/password-reset", json={"email": ADDRESS}).get_json() == RESET_ASKED
    [message] = sent(mail_app)
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Reset your password"
    assert "within 15 minutes" in text_of(message)
    token = link_token(message, "reset")
    reset = confirm_reset(client, token)
    assert (reset.status_code, reset.get_json()) == (200, {"status": "password reset"})
    assert reset.headers["Cache-Control"] == "no-store"
    assert login(client).status_code == 401
    assert login(client, NEW_PASSWORD).status_code == 200
    # every session ended: the refresh token from before is refused
    refused = client.post("/auth/refresh", headers=bearer(before["refresh_token"]))
    assert refused.status_code == 401
    # and the address is told
    [notice] = sent(mail_app)
    assert (notice["To"], notice["Subject"]) == (ADDRESS, "Your password was reset")


def test_a_reset_link_works_once(client, mail_app):
    token = reset_link(client, mail_app)
    assert confirm_reset(client, token).status_code == 200
    again = confirm_reset(client, token, "yet another password 7")
    assert (again.status_code, again.get_json()["description"]) == (400, LINK_NOT_VALID)
    assert login(client, NEW_PASSWORD).status_code == 200


def test_an_expired_reset_link_is_refused(client, mail_app):
    token = reset_link(client, mail_app)
    with mail_app.app_context():
        db.session.execute(update(EmailLink).values(expires_at=time.time() - 1))
        db.session.commit()
    refused = confirm_reset(client, token)
    assert (refused.status_code, refused.get_json()["description"]) == (400, LINK_NOT_VALID)
    assert login(client).status_code == 200


def test_resets_a_stranger_asks_for_leave_the_users_link_live(client, mail_app):
    """As many links stay live as may be mailed to the address (RATELIMIT_MAIL_PER_ADDRESS,
    3 an hour): whoever asks, every link in the inbox works, and any one used voids the rest."""
    users = reset_link(client, mail_app)
    stranger = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(2):
        assert client.post("/auth/password-reset", json={"email": ADDRESS.upper()},
                           environ_base=stranger).status_code == 202
    assert client.post("/auth/password-reset", json={"email": ADDRESS},
                       environ_base=stranger).status_code == 429
    strangers = [link_token(message, "reset") for message in sent(mail_app)]
    assert len(strangers) == 2
    assert confirm_reset(client, users).status_code == 200
    for token in strangers:
        refused = confirm_reset(client, token, "yet another password 7")
        assert (refused.status_code, refused.get_json()["description"]) == (400, LINK_NOT_VALID)
    assert login(client, NEW_PASSWORD).status_code == 200


def test_past_its_bound_a_users_oldest_reset_links_are_voided(make_app):
    """The per-address throttle keeps a user far below MAX_LIVE_RESETS; with it off, the
    bound still holds, and the newest links are the ones that work."""
    app = make_app(**MAIL, RATELIMIT_ENABLED=False)
    with app.app_context():
        add_user(USERNAME, PASSWORD, ADDRESS)
    client = app.test_client()
    tokens = [reset_link(client, app) for _ in range(MAX_LIVE_RESETS + 2)]
    with app.app_context():
        assert len(db.session.scalars(select(EmailLink)).all()) == MAX_LIVE_RESETS
    for token in tokens[:2]:
        assert confirm_reset(client, token).status_code == 400
    assert confirm_reset(client, tokens[2]).status_code == 200


def test_a_password_change_voids_every_reset_link(client, mail_app):
    tokens = [reset_link(client, mail_app) for _ in range(2)]
    access = login(client).get_json()["access_token"]
    changed = client.post("/auth/password", headers=bearer(access), json={
        "current_password": PASSWORD, "new_password": "changed by the owner 9"})
    assert changed.status_code == 200
    assert [confirm_reset(client, token).status_code for token in tokens] == [400, 400]
    assert login(client, "changed by the owner 9").status_code == 200


def test_a_disable_voids_every_reset_link_for_good(client, mail_app):
    tokens = [reset_link(client, mail_app) for _ in range(2)]
    runner = mail_app.test_cli_runner()
    assert runner.invoke(args=["users", "disable", USERNAME]).exit_code == 0
    assert confirm_reset(client, tokens[0]).status_code == 400
    assert runner.invoke(args=["users", "enable", USERNAME]).exit_code == 0
    assert [confirm_reset(client, token).status_code for token in tokens] == [400, 400]
    assert login(client).status_code == 200


def test_a_reset_keeps_the_second_factor(client, mail_app):
    turn_on_second_factor(mail_app)
    assert confirm_reset(client, reset_link(client, mail_app)).status_code == 200
    response = login(client, NEW_PASSWORD)
    assert response.status_code == 401
    assert response.get_json()["error"] == "Second factor required"


def test_the_reset_answer_is_the_same_for_every_address_and_only_a_confirmed_one_gets_mail(
        client, mail_app):
    with mail_app.app_context():
        bob = add_user("bob", PASSWORD)
        bob.email, bob.email_verified = "bob@example.com", False  # not confirmed
        db.session.commit()
    answers = {address: client.post("/auth/password-reset", json={"email": address})
               for address in (ADDRESS, "nobody@example.com", "bob@example.com")}
    assert {(r.status_code, r.data, r.headers.get("Content-Length"))
            for r in answers.values()} == {(202, answers[ADDRESS].data,
                                            str(len(answers[ADDRESS].data)))}
    with mail_app.app_context():  # each stored one request, the address as typed
        assert sorted(db.session.scalars(select(MailRequest.address))) == sorted(answers)
    assert [m["To"] for m in sent(mail_app)] == [ADDRESS]


def test_a_disabled_users_address_gets_no_link(client, mail_app):
    with mail_app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    assert client.post("/auth/password-reset", json={"email": ADDRESS}).status_code == 202
    assert sent(mail_app) == []


def test_an_address_is_found_in_any_case(client, mail_app):
    assert client.post("/auth/password-reset",
                       json={"email": "ADMIN@Example.COM"}).status_code == 202
    assert [m["To"] for m in sent(mail_app)] == [ADDRESS]


def test_a_burst_of_resets_sends_at_most_three_messages_an_hour_to_one_inbox(client, mail_app):
    spellings = [ADDRESS, "Admin@example.com", "ADMIN@EXAMPLE.COM"]
    for address in spellings:
        assert client.post("/auth/password-reset", json={"email": address}).status_code == 202
    refused = client.post("/auth/password-reset", json={"email": "admin@EXAMPLE.com"})
    assert refused.status_code == 429
    assert refused.get_json()["description"] == "Too many messages to this address"
    assert int(refused.headers["Retry-After"]) > 0
    assert len(sent(mail_app)) == 3
    other = client.post("/auth/password-reset", json={"email": "someone@example.com"})
    assert other.status_code == 202


def test_the_reset_new_password_meets_the_policy_and_the_link_stays_usable(client, mail_app):
    token = reset_link(client, mail_app)
    short = confirm_reset(client, token, "short")
    assert short.status_code == 400
    assert short.get_json()["description"] == TOO_SHORT
    assert confirm_reset(client, token).status_code == 200


@pytest.mark.parametrize("body, description", [
    ({"email": "not an address"}, "Not an e-mail address: "),
    ({"email": 42}, "The e-mail address must be text"),
    ({"email": "a@" + "b" * 320 + ".com"}, "An e-mail address has at most 320 characters"),
    ({"address": ADDRESS}, "Request body must have exactly the key email"),
])
def test_a_reset_request_that_is_not_right_is_400(client, body, description):
    response = client.post("/auth/password-reset", json=body)
    assert response.status_code == 400
    assert response.get_json()["description"].startswith(description)


def test_an_unknown_reset_token_is_400(client):
    response = confirm_reset(client, "x" * 43)
    assert (response.status_code, response.get_json()) == (400, {
        "status_code": 400, "error": "Bad Request", "description": LINK_NOT_VALID})


# --- addresses ------------------------------------------------------------------------------

def test_me_shows_the_address_and_whether_it_is_confirmed(client, mail_app):
    access = login(client).get_json()["access_token"]
    assert client.get("/me", headers=bearer(access)).get_json() == {
        "id": mail_app.user_id, "username": USERNAME, "email": ADDRESS, "email_verified": True}


def test_a_new_address_is_confirmed_by_its_link_and_the_old_one_is_told(client, mail_app):
    access = login(client).get_json()["access_token"]
    asked = client.put("/auth/email", headers=bearer(access), json={"email": "new@example.org"})
    assert (asked.status_code, asked.get_json()) == (202, {"status": "confirmation sent"})
    [message] = sent(mail_app)
    assert (message["To"], message["Subject"]) == ("new@example.org", "Confirm your new address")
    # until it is confirmed, the old address stays
    assert client.get("/me", headers=bearer(access)).get_json()["email"] == ADDRESS
    confirmed = client.post("/auth/email/confirm",
                            json={"token": link_token(message, "confirm")})
    assert (confirmed.status_code, confirmed.get_json()) == (
        200, {"status": "address confirmed", "email": "new@example.org"})
    me = client.get("/me", headers=bearer(access)).get_json()
    assert (me["email"], me["email_verified"]) == ("new@example.org", True)
    [notice] = sent(mail_app)
    assert (notice["To"], notice["Subject"]) == (ADDRESS, "Your e-mail address was changed")
    assert "n***@example.org" in text_of(notice)
    assert "new@example.org" not in text_of(notice)


def test_an_address_another_account_holds_gets_the_same_answer_and_a_word_to_it(
        client, mail_app):
    with mail_app.app_context():
        add_user("bob", PASSWORD, "bob@example.com")
    access = login(client).get_json()["access_token"]
    asked = client.put("/auth/email", headers=bearer(access), json={"email": "bob@example.com"})
    assert (asked.status_code, asked.get_json()) == (202, {"status": "confirmation sent"})
    [message] = sent(mail_app)
    assert (message["To"], message["Subject"]) == ("bob@example.com",
                                                   "Someone tried to use your address")
    assert "#confirm=" not in text_of(message)
    with mail_app.app_context():
        assert db.session.scalars(select(EmailLink)).all() == []
        assert db.session.get(User, mail_app.user_id).email == ADDRESS


@pytest.mark.parametrize("one_round", [False, True], ids=["two rounds", "one round"])
@pytest.mark.parametrize("second", ["bob@example.com", ADDRESS, "free@example.org"],
                         ids=["another's", "own", "free"])
def test_a_new_address_request_voids_the_pending_link_whatever_the_address(
        client, mail_app, second, one_round):
    """Were the older link voided only when a newer one is made, following it would tell
    whether the second address is another account's. (Taken by the sender in one round or
    in two: either way.)"""
    with mail_app.app_context():
        add_user("bob", PASSWORD, "bob@example.com")
    headers = bearer(login(client).get_json()["access_token"])
    first = client.put("/auth/email", headers=headers, json={"email": "new@example.org"})
    messages = [] if one_round else sent(mail_app)
    again = client.put("/auth/email", headers=headers, json={"email": second})
    assert (first.status_code, first.get_json()) == (again.status_code, again.get_json()) == (
        202, {"status": "confirmation sent"})
    [pending] = [m for m in messages + sent(mail_app) if m["To"] == "new@example.org"]
    refused = client.post("/auth/email/confirm", json={"token": link_token(pending, "confirm")})
    assert (refused.status_code, refused.get_json()["description"]) == (400, LINK_NOT_VALID)
    with mail_app.app_context():
        assert db.session.get(User, mail_app.user_id).email == ADDRESS
        assert db.session.scalars(select(EmailLink.address)).all() == (
            [second] if second == "free@example.org" else [])


def test_confirming_a_new_address_voids_the_reset_links_sent_to_the_old_one(client, mail_app):
    token = reset_link(client, mail_app)
    access = login(client).get_json()["access_token"]
    client.put("/auth/email", headers=bearer(access), json={"email": "new@example.org"})
    [message] = sent(mail_app)
    confirmed = client.post("/auth/email/confirm", json={"token": link_token(message, "confirm")})
    assert confirmed.status_code == 200
    refused = confirm_reset(client, token)
    assert (refused.status_code, refused.get_json()["description"]) == (400, LINK_NOT_VALID)
    assert login(client).status_code == 200


def test_the_users_email_command_voids_the_reset_links_only_when_it_sets_the_address(
        client, mail_app):
    with mail_app.app_context():
        add_user("bob", PASSWORD, "bob@example.com")
    token = reset_link(client, mail_app)
    runner = mail_app.test_cli_runner()
    refused = runner.invoke(args=["users", "email", USERNAME, "bob@example.com"])
    assert (refused.exit_code, refused.output) == (1, "Error: bob has this address already\n")
    with mail_app.app_context():
        assert len(db.session.scalars(select(EmailLink)).all()) == 1
    assert runner.invoke(args=["users", "email", USERNAME, "new@example.org"]).exit_code == 0
    refused = confirm_reset(client, token)
    assert (refused.status_code, refused.get_json()["description"]) == (400, LINK_NOT_VALID)
    assert login(client).status_code == 200


def test_a_new_address_is_not_told_the_username(make_app):
    """Its owner has not confirmed it: anyone's account could name it, and a username is
    whatever its holder chose (here, words meant to fool the reader)."""
    app = make_app(**MAIL)
    name = "Your account is locked - call +1 555 0100"
    with app.app_context():
        add_user(name, PASSWORD, ADDRESS)
    client = app.test_client()
    access = login(client, username=name).get_json()["access_token"]
    client.put("/auth/email", headers=bearer(access), json={"email": "someone@example.org"})
    [message] = sent(app)
    assert (message["To"], message["Subject"]) == ("someone@example.org",
                                                   "Confirm your new address")
    assert_not_named(message, name)
    assert link_token(message, "confirm")


def assert_not_named(message, name: str) -> None:
    html = message.get_body(("html",)).get_content()
    for text in (text_of(message), html, message["Subject"]):
        assert name not in text and "555 0100" not in text
    assert text_of(message).startswith("Hello,\n") and "<p>Hello,</p>" in html


def test_changing_the_address_needs_a_fresh_token(client, mail_app):
    refresh = login(client).get_json()["refresh_token"]
    access = client.post("/auth/refresh", headers=bearer(refresh)).get_json()["access_token"]
    response = client.put("/auth/email", headers=bearer(access), json={"email": "x@example.org"})
    assert response.status_code == 401
    assert response.get_json()["description"] == "Fresh token required"


def test_the_users_commands_set_and_show_addresses(mail_app):
    runner = mail_app.test_cli_runner()
    added = runner.invoke(args=["users", "add", "carol", "--email", "Carol@Example.COM",
                                "--password-stdin"], input="a long passphrase 1\n")
    assert added.exit_code == 0, added.output
    taken = runner.invoke(args=["users", "email", "carol", "admin@EXAMPLE.com"])
    assert taken.exit_code == 1
    assert taken.output == "Error: admin has this address already\n"
    changed = runner.invoke(args=["users", "email", "carol", "carol@example.net"])
    assert changed.exit_code == 0
    assert changed.output.startswith("Set the address of 'carol' to carol@example.net "
                                     "(confirmed) in ")
    listed = runner.invoke(args=["users", "list", "--json"])
    rows = {row["username"]: (row["email"], row["email_verified"])
            for row in json.loads(listed.output)}
    assert rows == {"admin": (ADDRESS, True), "carol": ("carol@example.net", True)}
    bad = runner.invoke(args=["users", "email", "carol", "not-an-address"])
    assert bad.exit_code == 1 and bad.output.startswith("Error: Not an e-mail address: ")


# --- sign-up --------------------------------------------------------------------------------

def register(client, username="dora", address="dora@example.net", password=PASSWORD):
    return client.post("/auth/register",
                       json={"username": username, "password": password, "email": address})


@pytest.mark.parametrize("mail", [{"MAIL_BACKEND": "console", "PUBLIC_URL": PUBLIC_URL}, {}],
                         ids=["mail set up", "no mail"])
def test_sign_up_is_off_by_default(make_app, mail):
    """Said before mail's own 503: setting mail up would not open sign-up."""
    response = register(make_app(**mail).test_client())
    assert (response.status_code, response.get_json()["description"]) == (
        404, "Sign-up is off on this server")


def test_a_sign_up_logs_in_once_its_address_is_confirmed(client, mail_app):
    signed_up = register(client)
    assert (signed_up.status_code, signed_up.get_json()) == (202, {"status": "confirmation sent"})
    too_soon = login(client, username="dora")
    assert too_soon.status_code == 401
    assert too_soon.get_json()["error"] == "Address not confirmed"
    wrong = login(client, "not the password", username="dora")
    assert wrong.get_json()["description"] == "Invalid credentials"  # (Flask-JWT's 401)
    [message] = sent(mail_app)
    assert (message["To"], message["Subject"]) == ("dora@example.net", "Confirm your address")
    assert "within 24 hours" in text_of(message)
    confirmed = client.post("/auth/email/confirm",
                            json={"token": link_token(message, "confirm")})
    assert confirmed.get_json() == {"status": "address confirmed", "email": "dora@example.net"}
    assert login(client, username="dora").status_code == 200


def test_the_sign_up_message_carries_no_word_the_stranger_chose(client, mail_app):
    """Anyone may sign up with any address: our mail to it says nothing they wrote."""
    name = "Your account is locked - call +1 555 0100 <b>now</b>"
    assert register(client, username=name, address="someone@example.org").status_code == 202
    [message] = sent(mail_app)
    assert (message["To"], message["Subject"]) == ("someone@example.org", "Confirm your address")
    assert_not_named(message, name)
    confirmed = client.post("/auth/email/confirm", json={"token": link_token(message, "confirm")})
    assert confirmed.status_code == 200


def test_a_reset_message_to_the_users_own_address_names_the_account(client, mail_app):
    assert client.post("/auth/password-reset", json={"email": ADDRESS}).status_code == 202
    [message] = sent(mail_app)
    assert text_of(message).startswith(f"Hello {USERNAME},\n")


def test_a_sign_up_with_an_address_that_has_an_account_gets_the_same_answer(client, mail_app):
    signed_up = register(client, address="ADMIN@example.com")
    assert (signed_up.status_code, signed_up.get_json()) == (202, {"status": "confirmation sent"})
    [message] = sent(mail_app)
    assert (message["To"], message["Subject"]) == ("ADMIN@example.com",
                                                   "You already have an account")
    assert "#confirm=" not in text_of(message)
    assert f"{PUBLIC_URL}/account#forgot" in text_of(message)
    # (it tells what became of the sign-up, which was stored)
    assert "That sign-up can't have it: it will never log in, and it is deleted soon." in " ".join(
        text_of(message).split())
    # the new account waits for its deadline like any other, its name taken until then
    assert register(client, address="other@example.net").status_code == 409


def test_a_taken_username_is_409(client):
    response = register(client, username="ADMIN")
    assert response.status_code == 409
    assert response.get_json()["description"] == "User already exists: admin"


def test_an_unconfirmed_sign_up_expires_and_frees_its_username(client, mail_app):
    assert register(client).status_code == 202
    sent(mail_app)
    with mail_app.app_context():
        db.session.execute(update(User).where(User.username == "dora")
                           .values(confirm_by=time.time() - 1))
        db.session.commit()
        take_requests()
        assert db.session.scalars(select(User.username)).all() == [USERNAME]
    assert register(client, address="dora@example.org").status_code == 202


def test_a_sign_up_password_meets_the_policy(client):
    response = register(client, password="dora")
    assert response.status_code == 400
    assert response.get_json()["description"] == TOO_SHORT


# --- notices --------------------------------------------------------------------------------

def test_a_password_change_is_told_to_the_confirmed_address(client, mail_app):
    access = login(client).get_json()["access_token"]
    client.post("/auth/password", headers=bearer(access), json={
        "current_password": PASSWORD, "new_password": "changed by the owner 9"})
    [notice] = sent(mail_app)
    assert (notice["To"], notice["Subject"]) == (ADDRESS, "Your password was changed")
    assert "changed by the owner" not in notice.as_string()
    # worded as every other notice: a greeting, and the moment in UTC
    assert re.match(rf"Hello {USERNAME},\n\nThe password of your account {USERNAME} was "
                    r"changed at \d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC\.\n", text_of(notice))


def test_turning_the_second_factor_off_is_told(client, mail_app):
    codes = turn_on_second_factor(mail_app)
    challenge = login(client).headers["Second-Factor-Challenge"]
    step = client.post("/auth/second-factor",
                       json={"challenge": challenge, "recovery_code": codes[0]})
    access = step.get_json()["access_token"]
    off = client.delete("/auth/second-factor", headers=bearer(access),
                        json={"recovery_code": codes[1]})
    assert off.status_code == 200, off.get_json()
    [notice] = sent(mail_app)
    assert (notice["To"], notice["Subject"]) == (ADDRESS, "Your second factor was turned off")


def test_no_notice_without_a_confirmed_address(make_app):
    app = make_app(**MAIL)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    access = login(client).get_json()["access_token"]
    client.post("/auth/password", headers=bearer(access), json={
        "current_password": PASSWORD, "new_password": "changed by the owner 9"})
    assert sent(app) == []


def test_an_operators_password_change_and_second_factor_reset_are_told(mail_app):
    turn_on_second_factor(mail_app)
    sent(mail_app)
    runner = mail_app.test_cli_runner()
    assert runner.invoke(args=["users", "passwd", USERNAME, "--password-stdin"],
                         input="set by the operator 1\n").exit_code == 0
    assert runner.invoke(args=["users", "second-factor", "reset", USERNAME,
                               "--yes"]).exit_code == 0
    assert [(m["To"], m["Subject"]) for m in sent(mail_app)] == [
        (ADDRESS, "Your password was changed"), (ADDRESS, "Your second factor was turned off")]


def test_an_address_confirmed_by_another_account_meanwhile_is_409(client, mail_app):
    assert register(client).status_code == 202
    [message] = sent(mail_app)
    assert mail_app.test_cli_runner().invoke(
        args=["users", "email", USERNAME, "dora@example.net"]).exit_code == 0
    refused = client.post("/auth/email/confirm", json={"token": link_token(message, "confirm")})
    assert (refused.status_code, refused.get_json()["description"]) == (
        409, "This address belongs to another account now")
    assert login(client, username="dora").get_json()["error"] == "Address not confirmed"


def test_resets_are_counted(make_app):
    app = make_app(**MAIL, METRICS_ENABLED=True)
    with app.app_context():
        add_user(USERNAME, PASSWORD, ADDRESS)
    client = app.test_client()
    asked, reset = counted(app, "email", event="reset_asked"), counted(
        app, "email", event="password_reset")
    assert confirm_reset(client, reset_link(client, app)).status_code == 200
    assert counted(app, "email", event="reset_asked") == asked + 1
    assert counted(app, "email", event="password_reset") == reset + 1


@pytest.mark.parametrize("seconds, words", [(3600, "within 1 hour"), (5400, "within 90 minutes"),
                                            (60, "within 1 minute")])
def test_the_message_says_how_long_the_link_works(make_app, seconds, words):
    app = make_app(**MAIL, PASSWORD_RESET_SECONDS=seconds)
    with app.app_context():
        add_user(USERNAME, PASSWORD, ADDRESS)
    client = app.test_client()
    assert client.post("/auth/password-reset", json={"email": ADDRESS}).status_code == 202
    [message] = sent(app)
    assert words in text_of(message)


def test_a_sign_up_username_that_no_one_may_have_is_400(client):
    response = register(client, username="")
    assert response.status_code == 400
    assert response.get_json()["description"] == "Username must not be empty"
