"""E-mail on /account in Chromium against the real server (issue 36): a forgotten password
reset from the mailed link, sign-up and its confirmation, an address changed while signed in,
and a page with e-mail off that offers none of it — with no CSP violation, no request to
another host and nothing in storage.

The server sends with MAIL_BACKEND=console: its own sender writes each message to its
output, where the links are read from. A link's token leaves the address bar as the page
loads, and confirming an address takes a press of the button.
"""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from conftest import SECRET
from processes import run_flask, start_flask, subprocess_env

pytest_plugins = ["chromium", "live_account"]

NEW_PASSWORD = "second long passphrase"
MESSAGE = re.compile(r"-{20} MAIL_BACKEND=console: not sent -{20}\n(.*?)\n"
                     r"-{20} end of message -{20}", re.S)
LINK = re.compile(r"http://localhost:\d+/account#(?:reset|confirm)=[\w-]+")
MAIL_WAIT = 10.0  # seconds for the server's sender to write a message
ASKED = "If the address is known, a link is on its way."
RESET = "Your password was reset: sign in with it."
LINK_NOT_VALID = ("This link is not valid: it was used or has expired, or the account changed "
                  "since (a newer link, a new password or address)")
NOT_CONFIRMED = "Follow the link sent to your e-mail address to confirm it, then log in"
NOT_FRESH = ("To change your e-mail address, confirm it is you first: sign out, and sign in "
             "again.")


@pytest.fixture(scope="module")
def server_env_for_port():
    """E-mail on, to the server's output, with links to this server's page; sign-up on."""
    return lambda port: {
        "FLASK_MAIL_BACKEND": "console", "FLASK_PUBLIC_URL": f"http://localhost:{port}",
        "FLASK_REGISTRATION_ENABLED": "true", "FLASK_MAIL_POLL_SECONDS": "0.2",
        # Every request of the module comes from 127.0.0.1: its limit is not what is tested.
        "FLASK_RATELIMIT_MAIL_PER_CLIENT": "200 per hour"}


@pytest.fixture
def address(live, account_server) -> str:
    """The live user's address, confirmed, as an operator sets it."""
    _, env, _ = account_server
    address = f"{live.username}@example.org"
    done = run_flask(env, "users", "email", live.username, address)
    assert done.returncode == 0, done.stderr
    return address


def mailed_link(server, to: str, subject: str) -> str:
    """The link in the message of that subject to that address."""
    return LINK.search(mail(server, to, subject)).group(0)


def mail(server, to: str, subject: str) -> str:
    """The text of the one message of that subject to that address, once the server has
    written it."""
    deadline = time.monotonic() + MAIL_WAIT
    while True:
        bodies = [body for headers, body in messages(server)
                  if f"To: {to}\n" in headers and f"Subject: {subject}\n" in headers]
        if bodies:
            assert len(bodies) == 1, bodies
            return bodies[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no message {subject!r} to {to} within {MAIL_WAIT} s\n"
                                 f"{server.output()}")
        time.sleep(0.1)


def messages(server) -> list[tuple[str, str]]:
    """Each message the server wrote: its headers (one a line) and its text."""
    found = []
    for block in MESSAGE.findall(server.stdout()):
        headers, _, body = block.partition("\n\n")
        found.append((headers + "\n", body))
    return found


def open_link(page: Page, link: str) -> None:
    """Open a mailed link as from a mail program: a new load of the page."""
    page.goto("about:blank")
    page.goto(link)


def sign_in(page: Page, username: str, password: str) -> None:
    form = page.locator("#sign-in-form")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(password)
    form.get_by_label("Password").press("Enter")


def test_a_forgotten_password_is_reset_from_the_mailed_link(page, live, address, watch):
    server = live.server
    page.goto(live.page_url)
    status = page.get_by_role("status")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(page.locator("#sign-in")).to_be_hidden()
    field = page.locator("#forgot-form").get_by_label("E-mail address")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("autocomplete", "email")

    # An address of no account gets the same answer (and no message).
    unknown = f"nobody-{live.username}@example.org"
    field.fill(unknown)
    with page.expect_response("**/auth/password-reset"):
        field.press("Enter")
    expect(status).to_have_text(ASKED)
    field.fill(address)
    with page.expect_response("**/auth/password-reset"):
        page.get_by_role("button", name="Send me a link").click()
    expect(status).to_have_text(ASKED)
    link = mailed_link(server, address, "Reset your password")
    assert not [headers for headers, _ in messages(server) if f"To: {unknown}\n" in headers]

    # The link opens the form; its token is gone from the address bar at once.
    open_link(page, link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert page.url == live.page_url
    reset = page.locator("#reset-form")
    first, again = reset.get_by_label("New password", exact=True), reset.get_by_label(
        "New password, again")
    expect(first).to_be_focused()
    expect(first).to_have_attribute("autocomplete", "new-password")
    first.fill(NEW_PASSWORD)
    again.fill(NEW_PASSWORD + "!")
    again.press("Enter")
    expect(status).to_have_text("The two new passwords differ: type the same one twice.")
    expect(again).to_be_focused()
    first.fill("short")
    again.fill("short")
    again.press("Enter")
    expect(status).to_have_text("Password must be at least 8 characters (PASSWORD_MIN_LENGTH)")
    first.fill(NEW_PASSWORD)
    again.fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(status).to_have_text(RESET)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#sign-in-form").get_by_label("Username")).to_be_focused()

    sign_in(page, live.username, live.password)
    expect(status).to_have_text("Invalid credentials")
    sign_in(page, live.username, NEW_PASSWORD)
    expect(status).to_have_text("Signed in.")
    expect(page.locator("#email-state")).to_have_text(f"Your address is {address}, confirmed.")

    # The link works once.
    open_link(page, link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert page.url == live.page_url
    first.fill("third long passphrase")
    again.fill("third long passphrase")
    again.press("Enter")
    expect(status).to_have_text(LINK_NOT_VALID)
    page.get_by_role("button", name="Ask for a new link").click()
    expect(page.locator("#forgot-form").get_by_label("E-mail address")).to_be_focused()
    watch.assert_clean(page)


def test_the_forgot_link_of_a_message_opens_its_form(page, live):
    page.goto(live.page_url + "#forgot")
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(page.locator("#forgot-form").get_by_label("E-mail address")).to_be_focused()
    assert page.url == live.page_url
    page.get_by_role("button", name="Back to sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#forgot")).to_be_hidden()


def test_sign_up_confirm_the_address_and_sign_in(page, live, watch):
    server, status = live.server, page.get_by_role("status")
    username = f"new{live.username}"
    address = f"{username}@example.net"
    page.goto(live.page_url)
    page.get_by_role("link", name="Create an account").click()
    form = page.locator("#sign-up-form")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    expect(form.get_by_label("Username")).to_be_focused()
    for label, autocomplete in (("Username", "username"), ("Password", "new-password"),
                                ("E-mail address", "email")):
        expect(form.get_by_label(label)).to_have_attribute("autocomplete", autocomplete)
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(live.password)
    form.get_by_label("E-mail address").fill(address)
    form.get_by_role("button", name="Create the account").click()
    expect(status).to_have_text("Check your inbox for a link to confirm your address.")
    expect(page.locator("#sign-in-form").get_by_label("Username")).to_have_value(username)

    # Not yet: the password is right, the address not confirmed.
    sign_in(page, username, live.password)
    expect(status).to_have_text(NOT_CONFIRMED)

    # The name is taken now.
    page.get_by_role("link", name="Create an account").click()
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill(live.password)
    form.get_by_label("E-mail address").fill(f"other-{address}")
    form.get_by_label("E-mail address").press("Enter")
    expect(status).to_have_text(f"User already exists: {username}")
    expect(form.get_by_label("Username")).to_be_focused()

    # Opening the link confirms nothing: the button does.
    link = mailed_link(server, address, "Confirm your address")
    open_link(page, link)
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_focused()
    assert page.url == live.page_url
    assert live.call("POST", "/auth", body={"username": username,
                                            "password": live.password})[1]["error"] \
        == "Address not confirmed"
    page.get_by_role("button", name="Confirm my address").click()
    expect(status).to_have_text(f"Address confirmed: {address}. You can sign in now.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, username, live.password)
    expect(status).to_have_text("Signed in.")
    expect(page.get_by_role("heading", name=f"Signed in as {username}")).to_be_focused()
    expect(page.locator("#email-state")).to_have_text(f"Your address is {address}, confirmed.")

    # Spent.
    open_link(page, link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(status).to_have_text(LINK_NOT_VALID)
    page.get_by_role("button", name="Not now").click()
    expect(page.get_by_role("heading", name=f"Signed in as {username}")).to_be_focused()
    watch.assert_clean(page)


def test_change_the_address_while_signed_in(page, live, address, watch):
    server, status = live.server, page.get_by_role("status")
    new_address = f"{live.username}@example.net"
    field = page.get_by_label("New e-mail address")

    # After a reload the access token is a refreshed one, not fresh: sign in again first.
    live.sign_in(page)
    page.reload()
    expect(page.locator("#email-state")).to_have_text(f"Your address is {address}, confirmed.")
    field.fill(new_address)
    page.get_by_role("button", name="Change e-mail address").click()
    expect(status).to_have_text(NOT_FRESH)
    expect(field).to_be_focused()

    page.get_by_role("button", name="Sign out").click()
    expect(status).to_have_text("Signed out.")
    live.sign_in(page)
    expect(field).to_have_attribute("autocomplete", "email")
    field.fill(new_address)
    field.press("Enter")
    expect(status).to_have_text(f"A link to confirm it was sent to {new_address}.")
    expect(field).to_have_value("")
    expect(page.locator("#email-state")).to_have_text(f"Your address is {address}, confirmed.")

    # The link, opened in this tab while it shows the account: no new load of the page.
    link = mailed_link(server, new_address, "Confirm your new address")
    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your e-mail address")).to_be_visible()
    assert page.url == live.page_url
    expect(page.locator("#account")).to_be_hidden()
    page.get_by_role("button", name="Confirm my address").click()
    expect(status).to_have_text(f"Address confirmed: {new_address}.")
    expect(page.locator("#email-heading")).to_be_focused()
    expect(page.locator("#email-state")).to_have_text(
        f"Your address is {new_address}, confirmed.")
    live.assert_signed_in(page, sessions=1)
    # The old address is told.
    assert f"{new_address[0]}***@example.net" in mail(server, address,
                                                        "Your e-mail address was changed")
    watch.assert_clean(page)


def test_every_form_posts_to_the_page_itself(page, live):
    """Should the script not run, no form sends a password or an address in a URL."""
    page.goto(live.page_url)
    forms = page.eval_on_selector_all("form", "forms => forms.map((form) => "
                                      "[form.id, form.getAttribute('method'), form.action])")
    assert forms == [[name, "post", live.page_url] for name in (
        "sign-in-form", "forgot-form", "reset-form", "sign-up-form", "password-form",
        "email-form")]


@pytest.fixture(scope="module")
def mail_off_server(tmp_path_factory):
    """A server with no mail set up (sign-up is on, and needs mail)."""
    folder = tmp_path_factory.mktemp("mail_off")
    env = subprocess_env(folder, FLASK_SECRET_KEY=SECRET, FLASK_DATABASE_AUTO_UPGRADE="true",
                         FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'off.sqlite'}",
                         FLASK_REGISTRATION_ENABLED="true")
    with start_flask(env) as server:
        yield server


def test_with_mail_off_the_page_offers_none_of_it(page, mail_off_server):
    page_url = f"http://localhost:{mail_off_server.port}/account"
    page.goto(page_url + "#reset=a-token-from-an-old-message")
    expect(page.get_by_role("status")).to_have_text(
        "This link can't be used here: e-mail is off on this server.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.url == page_url
    expect(page.locator("main")).to_have_attribute("data-mail", "off")
    expect(page.locator("main")).to_have_attribute("data-registration", "off")
    expect(page.get_by_role("link", name="Forgot your password?")).to_have_count(0)
    expect(page.get_by_role("link", name="Create an account")).to_have_count(0)
    for section in ("forgot", "reset", "confirm", "sign-up", "email"):
        expect(page.locator(f"#{section}")).to_have_count(0)
