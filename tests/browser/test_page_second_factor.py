"""Two-step sign-in on /account in Chromium against the real server (issue 26): turn it on
from the QR code's secret, keep the recovery codes, sign in with a code or a recovery code,
make new recovery codes, turn it off — with the keyboard's Enter, labelled fields, no CSP
violation, no request to another host and nothing in storage. The codes are computed by the
test (authenticator_app.py), from the secret the page shows, on the real clock the server uses.
"""

import json
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import text

from authenticator_app import APP_CODE, CHECK_CODE, Authenticator
from live_factors import enrol_by_api

pytest_plugins = ["chromium", "live_account"]

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
SECTION_SCREENSHOT = Path(tempfile.gettempdir()) / "second-factor-section.png"  # for the docs
RECOVERY_CODE = re.compile(r"[a-z2-9]{5}-[a-z2-9]{5}")
NOT_FRESH = ("To change two-step sign-in, confirm it is you first: sign out, and sign in again "
             "with your password.")


def sign_in_with_password(page: Page, live) -> None:
    """The password step, for a user with a second factor: the code step follows."""
    page.get_by_label("Username").fill(live.username)
    page.get_by_label("Password", exact=True).fill(live.password)
    page.get_by_label("Password", exact=True).press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Your password is right. Now enter the code from your authenticator app.")
    expect(page.locator("#code-step").get_by_label(APP_CODE)).to_be_focused()
    expect(page.locator("#sign-in-form")).to_be_hidden()


def enter(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")


def recovery_codes(page: Page) -> list[str]:
    codes = page.locator("#recovery-codes li").all_text_contents()
    assert len(codes) == 10 and all(RECOVERY_CODE.fullmatch(code) for code in codes), codes
    return codes


def test_turn_on_sign_in_with_a_code_or_a_recovery_code_and_turn_off(page, live, watch):
    origin = f"http://localhost:{live.server.port}"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    status = page.get_by_role("status")
    section = page.locator("#second-factor")
    state = page.locator("#second-factor-state")
    live.sign_in(page)
    expect(state).to_have_text("Two-step sign-in is off.")

    # Turn it on: the QR code (SVG elements of the page, rebuilt from the server's text), the
    # secret, and a first code from it; a wrong one first.
    page.get_by_role("button", name="Turn on two-step sign-in").press("Enter")
    expect(page.get_by_role("heading", name="Add your account to your authenticator app")
           ).to_be_focused()
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr.locator("svg")).to_be_visible()
    namespace, paths, width = qr.locator("svg").evaluate(
        "svg => [svg.namespaceURI, svg.querySelectorAll('path').length,"
        " svg.getBoundingClientRect().width]")
    assert (namespace, paths) == (SVG_NAMESPACE, 1) and width >= 100
    section.screenshot(path=SECTION_SCREENSHOT)
    secret = page.locator("#second-factor-secret").text_content()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    app = Authenticator(secret)
    first_code = page.locator("#enrolment").get_by_label(APP_CODE)
    assert first_code.get_attribute("autocomplete") == "one-time-code"
    enter(first_code, app.wrong_code())
    expect(status).to_have_text("That code is not right. Check that the app shows this "
                                "account, and enter the code it shows now.")
    expect(first_code).to_be_focused()
    enter(first_code, app.code())
    expect(status).to_have_text("Two-step sign-in is on. Keep your recovery codes.")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_focused()
    expect(state).to_have_text("Two-step sign-in is on; 10 recovery codes are left.")
    codes = recovery_codes(page)
    assert len(set(codes)) == 10

    page.get_by_role("button", name="Copy the codes").click()
    expect(status).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(codes)
    page.get_by_role("button", name="I have kept them").click()
    expect(page.locator("#recovery-codes li")).to_have_count(0)  # shown that once
    expect(page.locator("#second-factor-secret")).to_have_text("")
    expect(page.get_by_role("heading", name="Two-step sign-in", exact=True)).to_be_focused()
    sign_out(page)

    # A password alone is not enough now: the code step, a wrong code (the step stays), then
    # the right one.
    sign_in_with_password(page, live)
    code = page.locator("#code-step").get_by_label(APP_CODE)
    assert [code.get_attribute(name) for name in ("autocomplete", "inputmode")] \
        == ["one-time-code", "numeric"]
    enter(code, app.wrong_code())
    expect(status).to_have_text("The code is not right")
    expect(code).to_be_focused()
    enter(code, app.code())
    expect(status).to_have_text("Signed in.")
    expect(page.get_by_role("heading", name=f"Signed in as {live.username}")).to_be_focused()
    live.assert_signed_in(page, sessions=1)
    expect(state).to_have_text("Two-step sign-in is on; 10 recovery codes are left.")
    sign_out(page)

    # A recovery code instead: it works once, and the page tells how many are left.
    sign_in_with_password(page, live)
    page.get_by_role("button", name="Use a recovery code instead").press("Enter")
    recovery = page.locator("#code-step").get_by_label("Recovery code")
    expect(recovery).to_be_focused()
    enter(recovery, codes[0])
    expect(status).to_have_text("Signed in with a recovery code; 9 recovery codes are left.")
    live.assert_signed_in(page, sessions=1)
    expect(state).to_have_text("Two-step sign-in is on; 9 recovery codes are left.")

    # New recovery codes, for one of the old ones; the spent one is refused.
    page.get_by_role("button", name="Make new recovery codes").click()
    check = page.locator("#second-factor-check").get_by_label(CHECK_CODE)
    expect(check).to_be_focused()
    enter(check, codes[0])
    expect(status).to_have_text("The code is not right")
    enter(check, codes[1])
    expect(status).to_have_text("New recovery codes made: the old ones no longer work.")
    new_codes = recovery_codes(page)
    assert not set(new_codes) & set(codes)
    expect(state).to_have_text("Two-step sign-in is on; 10 recovery codes are left.")
    page.get_by_role("button", name="I have kept them").click()

    # Off, for a current code: every session ends, and the page shows the sign-in form.
    page.get_by_role("button", name="Turn off two-step sign-in").click()
    expect(page.get_by_role("heading", name="Turn off two-step sign-in")).to_be_visible()
    check.fill(app.code())
    page.get_by_role("button", name="Turn off", exact=True).click()
    expect(status).to_have_text("Two-step sign-in is off, and every session of yours has "
                                "ended. Sign in again with your password.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.locator("#account")).to_be_hidden()
    assert live.sessions() == []
    live.sign_in(page)  # the password alone again
    expect(state).to_have_text("Two-step sign-in is off.")
    watch.assert_clean(page)


def test_the_code_step_can_start_over_and_tells_of_a_spent_challenge(page, live, watch):
    app, _ = enrol_by_api(live)
    page.goto(live.page_url)
    status = page.get_by_role("status")
    sign_in_with_password(page, live)
    page.get_by_role("button", name="Start over").click()
    expect(status).to_have_text("Enter your password again.")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    expect(page.locator("#code-step")).to_be_hidden()

    sign_in_with_password(page, live)
    with live.database.begin() as connection:  # as if it had expired meanwhile
        connection.execute(text("DELETE FROM login_challenges"))
    enter(page.locator("#code-step").get_by_label(APP_CODE), app.code())
    expect(status).to_have_text("This sign-in has expired. Please enter your password again.")
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    sign_in_with_password(page, live)
    enter(page.locator("#code-step").get_by_label(APP_CODE), app.code())
    expect(status).to_have_text("Signed in.")
    live.assert_signed_in(page, sessions=2)  # and the API's login of enrol_by_api
    watch.assert_clean(page)


def test_after_a_reload_the_page_asks_for_a_password_sign_in_without_signing_out(
        page, live, watch):
    """After a reload the access token comes from the refresh cookie: not fresh, so the
    server refuses to start an enrolment; the page says what to do, and stays signed in."""
    live.sign_in(page)
    page.reload()
    live.assert_signed_in(page, sessions=1)
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("status")).to_have_text(NOT_FRESH)
    live.assert_signed_in(page, sessions=1)
    expect(page.locator("#enrolment")).to_be_hidden()
    watch.assert_clean(page)


def test_a_qr_code_with_anything_but_drawing_in_it_is_refused(page, live, watch):
    """Should the enrolment's SVG ever hold script, a link or a foreign object, the page
    shows none of it (and runs and loads nothing of it): the secret as text is enough."""
    hostile = iter([
        '<svg width="10" height="10" onload="window.pwned = 1"><path d="M0 0h1"/></svg>',
        '<svg><script>window.pwned = 1</script></svg>',
        '<svg><foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x"'
        ' onerror="window.pwned = 1"/></foreignObject></svg>',
        f'<svg><image href="http://127.0.0.2:{live.server.port}/x.png"/></svg>',
        '<div onclick="window.pwned = 1">not an svg</div>',
        '<svg><path d="M0 0h1"></svg>',  # not well-formed
    ])

    def swap_the_drawing(route):
        answer = route.fetch()
        body = answer.json()
        body["qr_svg"] = next(hostile)
        route.fulfill(response=answer, body=json.dumps(body))

    page.route("**/auth/second-factor/enrolment", swap_the_drawing)
    live.sign_in(page)
    for _ in range(6):
        page.get_by_role("button", name="Turn on two-step sign-in").click()
        expect(page.locator("#second-factor-qr")).to_have_text(
            "The QR code could not be shown: type the secret into the app.")
        expect(page.locator("#second-factor-qr svg")).to_have_count(0)
        expect(page.locator("#second-factor-secret")).to_have_text(re.compile(r"[A-Z2-7]{32}"))
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("status")).to_have_text("Two-step sign-in stays off.")
        expect(page.get_by_role("button", name="Turn on two-step sign-in")).to_be_focused()
    assert page.evaluate("window.pwned") is None
    # Parsing alone makes Chromium try the <img>'s onerror (in the parsed document, which
    # runs no script anyway), and style the <parsererror> it makes of the broken text: the
    # policy blocks those too, and says so. Nothing else.
    assert sorted(text.split(" violates ")[0] for text in watch.violations
                  if text.endswith("The action has been blocked.")) == [
        "Applying inline style", "Applying inline style", "Executing inline event handler"], \
        watch.violations
    watch.violations.clear()
    watch.assert_clean(page)
