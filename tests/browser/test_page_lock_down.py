"""Locking an account down, on /account in Chromium against the real server with passkeys on
(issue 32): turning two-step sign-in on, and a password change, remove the passkeys added with
the password alone (the page names them, and lists them no more), not those added with the
second factor; a password change of a user with two-step sign-in whose sign-in is not fresh
asks for a code (a wrong one changes nothing); and the "Added from" column shows where each
passkey was added from, as text — with no CSP violation, no request to another host and
nothing in storage.

The codes are computed by the test (authenticator_app.py), from the secret the page (or the
API) shows, on the real clock the server uses; passkeys are made by Chrome DevTools' virtual
authenticators, or by a software one through the API alone.
"""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from authenticator_app import APP_CODE, CHECK_CODE, Authenticator
from live_factors import enrol_by_api, register_by_api
from virtual_authenticators import passkeys_on

pytest_plugins = ["chromium", "live_account", "virtual_authenticators"]


@pytest.fixture(scope="module")
def server_env_for_port():
    """Passkeys on, for this module's server alone."""
    return passkeys_on


NEW_PASSWORD = "second long passphrase"
CODE_ASKED = ("Two-step sign-in is on: enter a code from your authenticator app, or a recovery "
              "code, to change your password.")
CHANGED = "Password changed. Every other session has ended."


def stored_passkeys(live) -> list[tuple]:
    """The user's passkeys as stored, oldest first: name, whether added with the second
    factor, and the address and user agent they were added from."""
    with live.database.connect() as connection:
        return [(name, bool(second), address, agent) for name, second, address, agent in
                connection.execute(text(
                    "SELECT p.name, p.with_second_factor, p.added_address, p.added_user_agent"
                    " FROM passkeys p JOIN users u ON u.id = p.user_id"
                    " WHERE u.username = :name ORDER BY p.created_at"),
                    {"name": live.username})]


def password_is_right(live, password: str) -> bool:
    """What POST /auth says to the password of a user with two-step sign-in: 401 "Second
    factor required" when it is right, 401 "Invalid credentials" when it is not."""
    status, body = live.log_in(password)
    assert status == 401, body
    right = body["error"] == "Second factor required"
    assert right or body["description"] == "Invalid credentials", body
    return right


def enter(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def add_passkey(page: Page, name: str) -> None:
    page.get_by_label("Name of the new passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Passkey “{name}” added: sign in with it next time.")


def listed(page: Page):
    """The rows of the Passkeys section's table."""
    return page.locator("#passkeys-list tr")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")


def sign_in_with_code(page: Page, live, app: Authenticator) -> None:
    """Password, then a code from the app."""
    page.get_by_label("Username").fill(live.username)
    page.get_by_label("Password", exact=True).fill(live.password)
    page.get_by_label("Password", exact=True).press("Enter")
    code = page.locator("#code-step").get_by_label(APP_CODE)
    expect(code).to_be_focused()
    enter(code, app.code())
    expect(page.get_by_role("status")).to_have_text("Signed in.")
    expect(page.get_by_role("heading", name=f"Signed in as {live.username}")).to_be_focused()


def change_password(page: Page, current: str, new: str) -> None:
    page.get_by_label("Current password").fill(current)
    page.get_by_label("New password").fill(new)
    page.get_by_role("button", name="Change password").click()


def password_code(page: Page):
    """The password form's code field (the two-step section has one of that label too)."""
    return page.locator("#password-code-step").get_by_label(CHECK_CODE)


def test_turning_two_step_sign_in_on_removes_the_passkeys_added_with_the_password_alone(
        page, live, watch, authenticators):
    status = page.get_by_role("status")
    state = page.locator("#passkeys-state")
    first = authenticators.add()
    register_by_api(live, "Phone")  # and a session of the API's, which the lock-down ends
    live.sign_in(page)
    add_passkey(page, "Old key")
    expect(state).to_have_text("You have 2 passkeys.")

    # Two-step sign-in on: both go, named in name order, and the table is relisted; this session
    # stays, the API's ends.
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    secret = page.locator("#second-factor-secret")
    expect(secret).to_have_text(re.compile(r"[A-Z2-7]{32}"))
    app = Authenticator(secret.text_content())
    enter(page.locator("#enrolment").get_by_label(APP_CODE), app.code())
    expect(status).to_have_text("Two-step sign-in is on. Keep your recovery codes. Passkeys "
                                "added with your password alone were removed: “Old key”, "
                                "“Phone”; add yours again.")
    expect(status).not_to_have_class("error")
    expect(state).to_have_text("You have no passkeys yet.")
    expect(listed(page)).to_have_count(0)
    assert stored_passkeys(live) == []
    assert len(live.sessions()) == 1
    live.assert_signed_in(page, sessions=1)  # the list is redrawn: the API's session ended
    codes = page.locator("#recovery-codes li").all_text_contents()
    assert len(codes) == 10, codes
    page.get_by_role("button", name="I have kept them").click()

    # The authenticator still holds its passkey, but the server knows it no more.
    sign_out(page)
    page.get_by_label("Username").clear()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(status).to_have_text("This passkey is not registered here")
    expect(status).to_have_class("error")
    expect(page.locator("#account")).to_be_hidden()

    # Signed in with the password and a code (fresh): a passkey added now is of both factors.
    authenticators.remove(first)
    authenticators.add()
    sign_in_with_code(page, live, app)
    add_passkey(page, "New key")
    assert [(name, second) for name, second, *_ in stored_passkeys(live)] == [("New key", True)]

    # After a reload the sign-in is not fresh: the password change asks for a code (a
    # recovery code here), and the passkey stays.
    page.reload()
    live.assert_signed_in(page, sessions=1)
    change_password(page, live.password, NEW_PASSWORD)
    expect(status).to_have_text(CODE_ASKED)
    expect(password_code(page)).to_be_focused()
    enter(password_code(page), codes[0])
    expect(status).to_have_text(CHANGED)
    expect(state).to_have_text("You have 1 passkey.")
    expect(listed(page)).to_have_count(1)
    expect(listed(page).locator("td").nth(0)).to_have_text("New key")
    assert [(name, second) for name, second, *_ in stored_passkeys(live)] == [("New key", True)]
    live.assert_signed_in(page, sessions=1)

    # And it still signs in, with no password and no code.
    sign_out(page)
    page.get_by_label("Username").clear()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(status).to_have_text("Signed in.")
    live.assert_signed_in(page, sessions=1)
    watch.assert_clean(page)


def test_a_password_change_asks_for_a_code_when_the_sign_in_is_not_fresh(page, live, watch):
    app, _ = enrol_by_api(live)
    status = page.get_by_role("status")
    step = page.locator("#password-code-step")
    page.goto(live.page_url)
    sign_in_with_code(page, live, app)
    expect(step).to_be_hidden()
    page.reload()  # the token is now a refresh's: never fresh
    live.assert_signed_in(page, sessions=2)  # and the API's login of enrol_by_api

    # The password alone is refused: the code field is shown, focused, and said why.
    change_password(page, live.password, NEW_PASSWORD)
    expect(status).to_have_text(CODE_ASKED)
    expect(status).to_have_class("error")
    expect(step).to_be_visible()
    expect(password_code(page)).to_be_focused()
    expect(page.get_by_label("Current password")).to_have_value(live.password)
    assert password_is_right(live, live.password)

    # A wrong code: nothing changes.
    enter(password_code(page), app.wrong_code())
    expect(status).to_have_text("The code is not right")
    expect(status).to_have_class("error")
    expect(step).to_be_visible()
    assert password_is_right(live, live.password)
    assert not password_is_right(live, NEW_PASSWORD)
    live.assert_signed_in(page, sessions=2)

    # The right one: changed, every other session ended, the field hidden and empty again.
    enter(password_code(page), app.code())
    expect(status).to_have_text(CHANGED)
    expect(status).not_to_have_class("error")
    expect(step).to_be_hidden()
    expect(page.locator("#password-code")).to_have_value("")
    expect(page.get_by_label("Current password")).to_have_value("")
    expect(page.get_by_label("New password")).to_have_value("")
    live.assert_signed_in(page, sessions=1)
    assert password_is_right(live, NEW_PASSWORD)
    assert not password_is_right(live, live.password)
    watch.assert_clean(page)


def test_added_from_shows_the_address_and_the_user_agent_as_text(
        page, live, watch, authenticators):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    register_by_api(live, "Phone")  # from live.agent, a user agent with markup
    authenticators.add()
    live.sign_in(page)
    add_passkey(page, "Laptop")
    user_agent = page.evaluate("navigator.userAgent")
    expect(page.locator("#passkeys-table thead th")).to_have_text(
        ["Name", "Added", "Added from", "Last used", "Actions"])
    expect(listed(page).locator("td:nth-child(1)")).to_have_text(["Phone", "Laptop"])
    expect(listed(page).locator("td:nth-child(3)")).to_have_text(
        [f"127.0.0.1, {live.agent}", f"127.0.0.1, {user_agent}"])
    expect(page.locator("#passkeys img")).to_have_count(0)
    assert stored_passkeys(live) == [("Phone", False, "127.0.0.1", live.agent),
                                     ("Laptop", False, "127.0.0.1", user_agent)]

    # A passkey of before the server recorded it (migration 0012): not known.
    with live.database.begin() as connection:
        connection.execute(text("UPDATE passkeys SET added_address = NULL,"
                                " added_user_agent = NULL WHERE name = 'Phone'"))
    page.reload()
    expect(listed(page).locator("td:nth-child(3)")).to_have_text(
        ["not known", f"127.0.0.1, {user_agent}"])
    assert dialogs == []
    watch.assert_clean(page)


def test_a_password_change_removes_the_passkeys_added_with_the_password_alone(
        page, live, watch):
    register_by_api(live, "Phone")
    status = page.get_by_role("status")
    live.sign_in(page)
    expect(listed(page)).to_have_count(1)
    change_password(page, live.password, NEW_PASSWORD)
    expect(status).to_have_text("Password changed. Every other session has ended, and passkeys "
                                "added with your password alone were removed: “Phone”.")
    expect(status).not_to_have_class("error")
    expect(page.locator("#password-code-step")).to_be_hidden()  # no second factor: no code
    expect(page.locator("#passkeys-state")).to_have_text("You have no passkeys yet.")
    expect(listed(page)).to_have_count(0)
    assert stored_passkeys(live) == []
    live.assert_signed_in(page, sessions=1)  # register_by_api's session ended
    assert live.log_in(NEW_PASSWORD)[0] == 200
    watch.assert_clean(page)
