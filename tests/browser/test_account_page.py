"""GET /account in Chromium against the real server (issue 16): sign in, stay signed in across
reloads, see and end sessions with the keyboard, change the password, sign out — with the
refresh token out of the page's reach, nothing in storage, no CSP violation, no request to
another host. (A page on another origin: test_account_page_attack.py.)

The page is opened at http://localhost:PORT; Chromium keeps Secure, __Host- cookies on
http://127.0.0.1 too.
"""

from playwright.sync_api import Page, expect

pytest_plugins = ["chromium", "live_account"]

NEW_PASSWORD = "second long passphrase"
REFRESH_COOKIE = "__Host-refresh_token"
CSRF_COOKIE = "__Host-csrf_token"


def tab_to(page: Page, name: str, presses: int = 20) -> None:
    """Press Tab until the element of that accessible name has the focus; its outline shows."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('aria-label') "
                         "|| document.activeElement.textContent") == name:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid", f"{name} has the focus but no visible outline"
            return
    raise AssertionError(f"{name!r} never had the focus in {presses} presses of Tab")


def test_sign_in_and_stay_signed_in_across_reloads(page, live, watch):
    page.goto(live.page_url)
    page.get_by_label("Username").fill(live.username)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_label("Password", exact=True).press("Enter")
    expect(page.get_by_role("status")).to_have_text("Invalid credentials")
    live.sign_in(page)
    expect(page.get_by_role("status")).to_have_text("Signed in.")
    live.assert_signed_in(page, sessions=1)

    page.reload()
    live.assert_signed_in(page, sessions=1)
    cookies = page.evaluate("document.cookie")
    assert REFRESH_COOKIE not in cookies and f"{CSRF_COOKIE}=" in cookies
    assert {c["name"]: c["httpOnly"] for c in page.context.cookies()} == {
        REFRESH_COOKIE: True, CSRF_COOKIE: False}
    watch.assert_clean(page)

    # The watch sees violations: an inline style is one.
    page.evaluate("document.head.append(Object.assign(document.createElement('style'),"
                  " {textContent: 'body { color: red }'}))")
    for _ in range(50):  # console messages arrive while Playwright waits
        if watch.violations:
            break
        page.wait_for_timeout(100)
    assert any("inline style" in text for text in watch.violations), watch.violations


def test_end_another_session_with_the_keyboard(page, live, watch):
    live.sign_in(page)
    status, phone = live.log_in()
    assert status == 200
    status, listing = live.call("GET", "/auth/sessions", phone["access_token"])
    phone_id = next(s["id"] for s in listing["sessions"] if s["current"])

    page.get_by_role("button", name="Refresh the list").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("The list of sessions is up to date.")
    live.assert_signed_in(page, sessions=2)
    expect(page.locator("#sessions td", has_text=live.agent)).to_have_text(live.agent)

    tab_to(page, f"End session {phone_id}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(f"Session {phone_id} ended.")
    live.assert_signed_in(page, sessions=1)
    expect(page.get_by_role("button", name="Refresh the list")).to_be_focused()
    status, body = live.call("GET", "/hello", phone["access_token"])
    assert (status, body["description"]) == (401, "Token has been revoked")
    watch.assert_clean(page)


def test_the_access_token_is_replaced_near_its_expiry_and_when_refused(page, live, watch):
    page.clock.install()
    live.sign_in(page)
    refreshes = len(live.refresh_statuses())
    list_sessions = page.get_by_role("button", name="Refresh the list")
    page.clock.fast_forward("04:31")  # the 300 s token is within 30 s of its expiry
    with page.expect_response(lambda response: response.url.endswith("/auth/sessions")):
        list_sessions.click()
    assert live.refresh_statuses()[refreshes:] == ["200"]

    sent = []  # a token refused, as if it had expired: the page refreshes, and tries again

    def refuse_the_first(route):
        sent.append(route.request.headers["authorization"])
        if len(sent) > 1:
            return route.continue_()
        return route.fulfill(status=401, json={
            "status_code": 401, "error": "Invalid token", "description": "Signature has expired"})

    page.route("**/auth/sessions", refuse_the_first)
    with page.expect_response(lambda response: response.url.endswith("/auth/sessions")
                              and response.status == 200):
        list_sessions.click()
    assert len(sent) == 2 and sent[0] != sent[1]
    assert live.refresh_statuses()[refreshes:] == ["200", "200"]
    live.assert_signed_in(page, sessions=1)
    watch.assert_clean(page)


def test_two_tabs_reloading_at_once_both_stay_signed_in(page, live, watch):
    """Each tab refreshes on load; with one refresh cookie, the second refresh must wait for
    the first one's new cookie (a refresh token spent twice would end the session)."""
    live.sign_in(page)
    other = page.context.new_page()
    other.goto(live.page_url)
    live.assert_signed_in(other, sessions=1)
    refreshes = len(live.refresh_statuses())
    at = page.evaluate("Date.now() + 500")  # both tabs reload at this moment
    for tab in (page, other):
        tab.evaluate("at => { document.body.dataset.before = 'reload';"
                     " setTimeout(() => location.reload(), at - Date.now()); }", at)
    for tab in (page, other):
        expect(tab.locator("body[data-before]")).to_have_count(0)
        live.assert_signed_in(tab, sessions=1)
    assert live.refresh_statuses()[refreshes:] == ["200", "200"]
    watch.assert_clean(page)


def test_change_the_password(page, live, watch):
    live.sign_in(page)
    status, phone = live.log_in()
    assert status == 200
    current = page.get_by_label("Current password")
    new = page.get_by_label("New password")
    for current_password, new_password, problem in [
            ("a wrong guess", NEW_PASSWORD, "The current password is not right"),
            (live.password, "password123",
             "Password is one of the 30,000 most common passwords")]:
        current.fill(current_password)
        new.fill(new_password)
        new.press("Enter")
        expect(page.get_by_role("status")).to_have_text(problem)
    current.fill(live.password)
    new.fill(NEW_PASSWORD)
    new.press("Enter")
    expect(page.get_by_role("status")).to_have_text(
        "Password changed. Every other session has ended.")
    live.assert_signed_in(page, sessions=1)
    expect(current).to_have_value("")

    assert live.log_in(live.password)[0] == 401
    assert live.log_in(NEW_PASSWORD)[0] == 200
    assert live.call("GET", "/hello", phone["access_token"])[0] == 401
    page.reload()
    live.assert_signed_in(page, sessions=2)  # and the login just made
    watch.assert_clean(page)


def test_sign_out(page, live, watch):
    live.sign_in(page)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    page.get_by_role("button", name="Sign out").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    expect(page.get_by_label("Username")).to_be_focused()
    assert page.context.cookies() == []

    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#account")).to_be_hidden()
    # The old cookies, replayed as the page would send them, name a session that is gone.
    origin = live.server.url
    status, body = live.call("POST", "/auth/refresh", headers={
        "Origin": origin, "X-CSRF-Token": cookies[CSRF_COOKIE],
        "Cookie": f"{REFRESH_COOKIE}={cookies[REFRESH_COOKIE]}; "
                  f"{CSRF_COOKIE}={cookies[CSRF_COOKIE]}"})
    assert (status, body["description"]) == (401, "Token has been revoked")
    assert live.sessions() == []
    watch.assert_clean(page)
