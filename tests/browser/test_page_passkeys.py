"""Passkeys on /account in Chromium against the real server with passkeys on (issue 27): add
one on a virtual authenticator (Chrome DevTools' WebAuthn domain), sign in with it without a
username, rename and delete it; an authenticator with no passkey of the user's, a token that
is not fresh, a browser without WebAuthn's JSON helpers, and a server with passkeys off —
with no CSP violation, no request to another host and nothing in storage.

The page is opened at http://localhost:PORT: the RP id is localhost (an IP address can't be
one), and http is allowed there only.
"""

import json
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from conftest import SECRET
from live_factors import register_by_api
from processes import run_useradd, start_flask, subprocess_env
from virtual_authenticators import passkeys_on

pytest_plugins = ["chromium", "live_account", "virtual_authenticators"]


@pytest.fixture(scope="module")
def server_env_for_port():
    """Passkeys on, for this module's server alone."""
    return passkeys_on


SECTION_SCREENSHOT = Path(tempfile.gettempdir()) / "passkeys-section.png"  # for the docs
NOT_FRESH = ("To add, rename or delete a passkey, confirm it is you first: sign out, and sign "
             "in again with your password or a passkey.")
MARKUP_NAME = 'Laptop <img src=x onerror="window.pwned = 1">'


def stored_passkeys(live) -> list[str]:
    """The names of the user's passkeys, as stored."""
    with live.database.connect() as connection:
        return list(connection.scalars(text(
            "SELECT p.name FROM passkeys p JOIN users u ON u.id = p.user_id"
            " WHERE u.username = :name ORDER BY p.created_at"), {"name": live.username}))


def add_passkey(page: Page, name: str) -> None:
    page.get_by_label("Name of the new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()


def listed(page: Page):
    """The rows of the Passkeys section's table."""
    return page.locator("#passkeys-list tr")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")


def assert_signed_out(page: Page) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    assert page.context.cookies() == []


def test_add_a_passkey_sign_in_with_it_without_a_username_and_delete_it(
        page, live, watch, authenticators):
    status = page.get_by_role("status")
    first = authenticators.add()
    live.sign_in(page)
    section = page.locator("#passkeys")
    expect(section.locator("#passkeys-state")).to_have_text("You have no passkeys yet.")
    expect(listed(page)).to_have_count(0)

    # Add one: a name first, then the authenticator makes a discoverable credential.
    page.get_by_role("button", name="Add a passkey").click()
    expect(status).to_have_text("Name the new passkey first.")
    expect(page.get_by_label("Name of the new passkey")).to_be_focused()
    add_passkey(page, "Test key")
    expect(status).to_have_text("Passkey “Test key” added: sign in with it next time.")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_focused()
    expect(section.locator("#passkeys-state")).to_have_text("You have 1 passkey.")
    expect(listed(page)).to_have_count(1)
    expect(listed(page).locator("td").nth(0)).to_have_text("Test key")
    expect(listed(page).locator("td").nth(1).locator("time")).to_have_count(1)
    user_agent = page.evaluate("navigator.userAgent")
    expect(listed(page).locator("td").nth(2)).to_have_text(f"127.0.0.1, {user_agent}")
    expect(listed(page).locator("td").nth(3)).to_have_text("never")
    expect(page.get_by_label("Name of the new passkey")).to_have_value("")
    section.screenshot(path=SECTION_SCREENSHOT)
    assert stored_passkeys(live) == ["Test key"]
    [credential] = authenticators.credentials(first)
    assert (credential["rpId"], credential["isResidentCredential"]) == ("localhost", True)
    add_passkey(page, "Again")  # the options exclude the user's passkeys: none twice here
    expect(status).to_have_text("This device holds one of your passkeys already: no second "
                                "one is needed on it.")
    assert len(authenticators.credentials(first)) == 1
    page.get_by_label("Name of the new passkey").clear()

    # Signed out, then in with the passkey alone: no username typed.
    sign_out(page)
    page.get_by_label("Username").clear()  # the form keeps the username after a sign-out
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(status).to_have_text("Signed in.")
    expect(page.get_by_role("heading", name=f"Signed in as {live.username}")).to_be_focused()
    live.assert_signed_in(page, sessions=1)
    expect(listed(page).locator("td").nth(3).locator("time")).to_have_count(1)  # last used

    # Delete it (the passkey's sign-in is fresh): nothing more is asked, and the session it
    # signed in, this one, ends with it.
    page.get_by_role("button", name="Delete passkey Test key").click()
    expect(status).to_have_text("Passkey “Test key” removed. You had signed in with it, so this "
                                "session has ended, with every other it started.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert stored_passkeys(live) == []
    live.sign_in(page)
    expect(section.locator("#passkeys-state")).to_have_text("You have no passkeys yet.")
    expect(listed(page)).to_have_count(0)

    # The authenticator still holds it, but the server knows it no more.
    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(status).to_have_text("This passkey is not registered here")
    expect(status).to_have_class("error")
    assert_signed_out(page)

    # Another authenticator, with no passkey of this site at all: the browser says
    # NotAllowedError (at once: there is nothing to choose from).
    authenticators.remove(first)
    authenticators.add()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(status).to_have_text("No passkey of this site was used.")
    expect(status).to_have_class("error")
    assert_signed_out(page)
    live.sign_in(page)  # the password still works, and the page with it
    watch.assert_clean(page)


def test_a_passkey_renamed_with_markup_is_shown_as_text(page, live, watch):
    register_by_api(live, "Phone")
    status = page.get_by_role("status")
    live.sign_in(page)
    expect(listed(page).locator("td").nth(0)).to_have_text("Phone")

    page.get_by_role("button", name="Rename passkey Phone").click()
    field = page.get_by_label("New name")
    expect(field).to_be_focused()
    expect(field).to_have_value("Phone")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#passkey-rename")).to_be_hidden()
    expect(page.get_by_role("button", name="Rename passkey Phone")).to_be_focused()

    page.get_by_role("button", name="Rename passkey Phone").click()
    field.fill("   ")
    field.press("Enter")
    expect(status).to_have_text("Enter a new name first.")
    field.fill(MARKUP_NAME)
    field.press("Enter")
    expect(status).to_have_text(f"Passkey “Phone” is now “{MARKUP_NAME}”.")
    expect(page.locator("#passkey-rename")).to_be_hidden()
    expect(listed(page).locator("td").nth(0)).to_have_text(MARKUP_NAME)
    expect(page.locator("#passkeys img")).to_have_count(0)
    assert stored_passkeys(live) == [MARKUP_NAME]
    page.get_by_role("button", name=f"Delete passkey {MARKUP_NAME}").click()
    expect(status).to_have_text(f"Passkey “{MARKUP_NAME}” removed.")
    assert page.evaluate("window.pwned") is None
    watch.assert_clean(page)


def test_after_a_reload_changes_ask_for_a_fresh_sign_in_without_signing_out(
        page, live, watch, authenticators):
    """After a reload the access token comes from the refresh cookie, not fresh: adding,
    renaming and deleting are refused; the page says what to do, and stays signed in."""
    authenticators.add()
    register_by_api(live, "Phone")
    status = page.get_by_role("status")
    live.sign_in(page)
    page.reload()
    live.assert_signed_in(page, sessions=2)  # and register_by_api's login
    expect(listed(page)).to_have_count(1)

    add_passkey(page, "Test key")
    expect(status).to_have_text(NOT_FRESH)
    expect(page.get_by_label("Name of the new passkey")).to_be_focused()
    page.get_by_role("button", name="Rename passkey Phone").click()
    page.get_by_label("New name").fill("Old phone")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(status).to_have_text(NOT_FRESH)
    page.get_by_role("button", name="Delete passkey Phone").click()
    expect(status).to_have_text(NOT_FRESH)
    live.assert_signed_in(page, sessions=2)
    expect(listed(page)).to_have_count(1)
    assert stored_passkeys(live) == ["Phone"]
    watch.assert_clean(page)


def test_a_browser_without_the_json_helpers_is_offered_no_ceremony(page, live, watch):
    """Without PublicKeyCredential.parseRequestOptionsFromJSON (browsers before 2024–2025),
    no passkey sign-in and no adding; the user's passkeys are still listed, to delete."""
    register_by_api(live, "Phone")
    page.add_init_script("delete PublicKeyCredential.parseRequestOptionsFromJSON;")
    page.goto(live.page_url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    live.sign_in(page)
    expect(page.locator("#passkeys-unsupported")).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
    expect(listed(page)).to_have_count(1)
    page.get_by_role("button", name="Delete passkey Phone").click()
    expect(page.get_by_role("status")).to_have_text("Passkey “Phone” removed.")
    watch.assert_clean(page)


def test_a_server_that_says_passkeys_are_off_gets_none_shown(page, live, watch):
    """Should the API answer 404 "off" although the page has the markup, the page hides
    every part of passkeys, and says nothing of it."""
    def off(route):
        route.fulfill(status=404, content_type="application/json", body=json.dumps({
            "status_code": 404, "error": "Not Found",
            "description": "Passkeys are off here (WEBAUTHN_RP_ID is not set)"}))

    page.route("**/auth/passkeys", off)
    live.sign_in(page)
    expect(page.get_by_role("status")).to_have_text("Signed in.")
    expect(page.locator("#passkeys")).to_be_hidden()
    sign_out(page)
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_hidden()
    watch.assert_clean(page)


def test_with_passkeys_off_the_page_has_nothing_of_them(page, tmp_path):
    """The default: WEBAUTHN_RP_ID unset, and the page neither shows nor asks about them."""
    database_uri = f"sqlite:///{tmp_path / 'off.sqlite'}"
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    added = run_useradd(env, ["--username", "olive", "--password-stdin"],
                        "first long passphrase\n")
    assert added.returncode == 0, added.stderr
    errors: list[str] = []  # what the console shows, but the browser's own /favicon.ico
    paths: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and not message.location["url"].endswith("/favicon.ico")
            else None)
    page.on("request", lambda request: paths.append(request.url))
    with start_flask(env) as server:
        page.goto(f"http://localhost:{server.port}/account")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill("olive")
        page.get_by_label("Password", exact=True).fill("first long passphrase")
        page.get_by_label("Password", exact=True).press("Enter")
        expect(page.get_by_role("status")).to_have_text("Signed in.")
        assert "passkey" not in page.content().lower()
    assert errors == []
    assert not [url for url in paths if "/auth/passkey" in url]


def test_a_page_opened_at_another_address_says_where_passkeys_work(page, live):
    """flask run prints http://127.0.0.1:5000; passkeys for localhost don't work there (the
    browser's SecurityError said only that it "refused passkeys"): the page names the address
    to open, and asks the server and the browser for nothing."""
    paths: list[str] = []
    page.on("request", lambda request: paths.append(request.url))
    right = f"http://localhost:{live.server.port}"
    page.goto(f"http://127.0.0.1:{live.server.port}/account")
    page.get_by_role("button", name="Sign in with a passkey").click()
    status = page.get_by_role("status")
    expect(status).to_have_text(f"Passkeys work at {right} only: open {right}/account.")
    expect(status).to_have_class("error")
    assert not [url for url in paths if "/auth/passkey" in url]
