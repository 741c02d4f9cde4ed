"""Browser clients (issue 16): the refresh token in an HttpOnly cookie, CSRF checks on every
request it authenticates, CORS for the configured origins. (In a real browser:
test_account_page.py.)"""

import pytest
from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.models import TokenFamily
from jwtauthtest.settings import ConfigurationError
from jwtauthtest.users import add_user

from conftest import PASSWORD, USERNAME, counted

BASE = "https://api.example.com"
ORIGIN = {"Origin": BASE}
CREDENTIALS = {"username": USERNAME, "password": PASSWORD}


def browser_login(client, **headers):
    return client.post(f"{BASE}/auth?transport=cookie", json=CREDENTIALS,
                       headers={**ORIGIN, **headers})


def cookies(response):
    """name: the Set-Cookie line's attributes, as a set."""
    found = {}
    for line in response.headers.getlist("Set-Cookie"):
        name_value, *attributes = [part.strip() for part in line.split(";")]
        name, _, value = name_value.partition("=")
        found[name] = (value, {a.split("=")[0] for a in attributes} | {
            a for a in attributes if a.startswith(("Max-Age", "Path", "SameSite"))})
    return found


def refresh_jti(app):
    with app.app_context():
        return db.session.scalars(select(TokenFamily.refresh_jti)).all()


def test_a_cookie_login_sets_the_refresh_token_in_an_httponly_cookie(app, client, user):
    response = browser_login(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert sorted(body) == ["access_token", "csrf_token"]
    set_cookies = cookies(response)
    refresh_value, refresh_attributes = set_cookies["__Host-refresh_token"]
    csrf_value, csrf_attributes = set_cookies["__Host-csrf_token"]
    assert refresh_value.count(".") == 2 and refresh_value not in response.get_data(as_text=True)
    assert refresh_attributes >= {"Secure", "HttpOnly", "Path=/", "SameSite=Strict",
                                  "Max-Age=1209600"}
    assert "Domain" not in refresh_attributes
    assert csrf_value == body["csrf_token"] and len(csrf_value) >= 40
    assert "HttpOnly" not in csrf_attributes
    assert csrf_attributes >= {"Secure", "Path=/", "SameSite=Strict", "Max-Age=1209600"}
    me = client.get(f"{BASE}/me", headers={"Authorization": f"JWT {body['access_token']}"})
    assert me.status_code == 200


def test_plain_api_clients_are_unchanged(client, user):
    response = client.post(f"{BASE}/auth", json=CREDENTIALS)
    assert sorted(response.get_json()) == ["access_token", "refresh_token"]
    assert response.headers.getlist("Set-Cookie") == []


def test_the_cookie_refreshes_and_rotates_with_the_csrf_header(app, client, user):
    csrf = browser_login(client).get_json()["csrf_token"]
    [first_jti] = refresh_jti(app)
    response = client.post(f"{BASE}/auth/refresh", headers={**ORIGIN, "X-CSRF-Token": csrf})
    assert response.status_code == 200
    body = response.get_json()
    assert sorted(body) == ["access_token", "csrf_token"] and body["csrf_token"] == csrf
    assert "__Host-refresh_token" in cookies(response)
    assert refresh_jti(app) != [first_jti]
    assert client.get(f"{BASE}/hello", headers={
        "Authorization": f"JWT {body['access_token']}"}).status_code == 200


NO_CSRF = "The X-CSRF-Token header must repeat the __Host-csrf_token cookie"


@pytest.mark.parametrize(("headers", "description"), [
    ({}, NO_CSRF),
    ({"X-CSRF-Token": "forged"}, NO_CSRF),
    ({"X-CSRF-Token": "é"}, NO_CSRF),
    ({"Origin": "https://evil.example"}, "Origin not allowed"),
    ({"Origin": "null"}, "Origin not allowed"),
    ({"Origin": None}, "A request authenticated by a cookie needs an Origin header"),
])
@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
def test_a_cookie_request_failing_the_csrf_checks_is_403_and_changes_nothing(
        app, client, user, path, headers, description):
    csrf = browser_login(client).get_json()["csrf_token"]
    before = refresh_jti(app)
    sent = {**ORIGIN, "X-CSRF-Token": csrf}
    if "X-CSRF-Token" not in headers and "Origin" not in headers:
        del sent["X-CSRF-Token"]
    sent.update(headers)
    response = client.post(f"{BASE}{path}",
                           headers={k: v for k, v in sent.items() if v is not None})
    assert (response.status_code, response.get_json()) == (
        403, {"status_code": 403, "error": "Forbidden", "description": description})
    assert refresh_jti(app) == before
    assert response.headers.getlist("Set-Cookie") == []


def test_logout_with_the_cookie_ends_the_session_and_clears_the_cookies(app, client, user):
    login = browser_login(client).get_json()
    response = client.post(f"{BASE}/auth/logout",
                           headers={**ORIGIN, "X-CSRF-Token": login["csrf_token"]})
    assert (response.status_code, response.get_json()) == (200, {"status": "logged out"})
    cleared = cookies(response)
    assert {name: value for name, (value, _) in cleared.items()} == {
        "__Host-refresh_token": "", "__Host-csrf_token": ""}
    assert all("Max-Age=0" in attributes for _, attributes in cleared.values())
    assert refresh_jti(app) == []
    assert client.get(f"{BASE}/hello", headers={
        "Authorization": f"JWT {login['access_token']}"}).status_code == 401


def test_a_reused_refresh_cookie_revokes_the_session_and_clears_the_cookies(make_app):
    app = make_app(JWT_REFRESH_REUSE_GRACE=0)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    csrf = browser_login(client).get_json()["csrf_token"]
    stolen = client.get_cookie("__Host-refresh_token", domain="api.example.com").value
    assert client.post(f"{BASE}/auth/refresh", headers={**ORIGIN, "X-CSRF-Token": csrf}
                       ).status_code == 200
    client.set_cookie("__Host-refresh_token", stolen, domain="api.example.com", secure=True)
    response = client.post(f"{BASE}/auth/refresh", headers={**ORIGIN, "X-CSRF-Token": csrf})
    assert response.status_code == 401
    assert response.get_json()["description"] == (
        "Refresh token was already used; its session has been revoked")
    assert cookies(response)["__Host-refresh_token"][0] == ""
    assert refresh_jti(app) == []


def test_the_cookie_is_read_only_by_refresh_and_logout(client, user):
    browser_login(client)
    response = client.get(f"{BASE}/hello", headers=ORIGIN)
    assert response.status_code == 401
    assert response.get_json()["description"] == "Request does not contain an access token"


@pytest.mark.parametrize(("query", "config", "description"), [
    ("transport=carrier-pigeon", {}, "The only transport is cookie"),
    ("transport=cookie", {"JWT_COOKIE_TRANSPORT": False},
     "Cookie transport is disabled (JWT_COOKIE_TRANSPORT)"),
])
def test_an_unknown_or_disabled_transport_is_400_before_any_login(make_app, query, config,
                                                                  description):
    app = make_app(**config)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    response = app.test_client().post(f"{BASE}/auth?{query}", json=CREDENTIALS, headers=ORIGIN)
    assert (response.status_code, response.get_json()) == (
        400, {"status_code": 400, "error": "Bad Request", "description": description})
    assert refresh_jti(app) == []


def test_a_cookie_login_from_a_foreign_origin_is_403(app, client, user):
    response = browser_login(client, Origin="https://evil.example")
    assert (response.status_code, response.get_json()["description"]) == (
        403, "Origin not allowed")
    assert refresh_jti(app) == []


def test_a_password_change_can_answer_with_the_cookie(client, user):
    login = browser_login(client).get_json()
    response = client.post(f"{BASE}/auth/password?transport=cookie", headers={
        **ORIGIN, "Authorization": f"JWT {login['access_token']}"}, json={
        "current_password": PASSWORD, "new_password": "a brand new long passphrase"})
    assert response.status_code == 200
    assert sorted(response.get_json()) == ["access_token", "csrf_token"]
    assert response.get_json()["csrf_token"] != login["csrf_token"]
    assert "__Host-refresh_token" in cookies(response)


def test_cors_answers_only_the_configured_origins_with_credentials(make_app):
    app = make_app(CORS_ORIGINS="https://app.example.com https://admin.example.com")
    client = app.test_client()
    preflight = client.options(f"{BASE}/auth/refresh", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "X-CSRF-Token"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrf-token" in preflight.headers["Access-Control-Allow-Headers"].lower()
    foreign = client.options(f"{BASE}/auth/refresh", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_without_cors_origins_no_cors_headers_are_sent(client):
    response = client.get(f"{BASE}/healthz", headers={"Origin": "https://app.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("value", ["https://app.example.com/", "app.example.com",
                                   "https://*.example.com",
                                   "https://app.example.com/path", ["ftp://x.example"], 42])
def test_a_cors_origin_that_isnt_one_refuses_to_start(make_app, value):
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        make_app(CORS_ORIGINS=value)


def test_behind_trusted_proxies_the_origin_is_the_one_the_browser_sees(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com",
               "X-Forwarded-For": "203.0.113.5"}
    # The app itself is reached over plain HTTP at an internal address.
    login = client.post("http://10.0.0.2:8000/auth?transport=cookie", json=CREDENTIALS,
                        headers={**proxied, **ORIGIN})
    assert login.status_code == 200
    csrf = login.get_json()["csrf_token"]
    client.set_cookie("__Host-refresh_token", client.get_cookie(
        "__Host-refresh_token", domain="10.0.0.2").value, domain="10.0.0.2")
    client.set_cookie("__Host-csrf_token", csrf, domain="10.0.0.2")
    refreshed = client.post("http://10.0.0.2:8000/auth/refresh",
                            headers={**proxied, **ORIGIN, "X-CSRF-Token": csrf})
    assert refreshed.status_code == 200
    direct = client.post("http://10.0.0.2:8000/auth/refresh",
                         headers={**ORIGIN, "X-CSRF-Token": csrf})
    assert (direct.status_code, direct.get_json()["description"]) == (403, "Origin not allowed")


def test_turning_the_cookie_transport_off_ignores_cookies_set_before(make_app, database_uri):
    on = make_app()
    with on.app_context():
        add_user(USERNAME, PASSWORD)
    client = on.test_client()
    csrf = browser_login(client).get_json()["csrf_token"]
    off = make_app(JWT_COOKIE_TRANSPORT=False)
    client.application = off
    response = client.post(f"{BASE}/auth/refresh", headers={**ORIGIN, "X-CSRF-Token": csrf})
    assert (response.status_code, response.get_json()["description"]) == (
        401, "Request does not contain an access token")
    assert response.headers.getlist("Set-Cookie") == []


def test_cors_origins_are_compared_exactly(make_app):
    client = make_app(CORS_ORIGINS=["https://app.example.com", "http://[::1]:8080"]).test_client()

    def allowed(origin):
        preflight = client.options(f"{BASE}/auth/refresh", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST"})
        return preflight.headers.get("Access-Control-Allow-Origin") == origin

    assert allowed("https://app.example.com") and allowed("http://[::1]:8080")
    for lookalike in ("https://app.example.com.evil.net", "https://appxexample.com",
                      "http://1:8080", "http://[::1]:80800"):
        assert not allowed(lookalike), lookalike


def cookie_refresh(client, csrf, origin=BASE, base=BASE):
    return client.post(f"{base}/auth/refresh", headers={"Origin": origin, "X-CSRF-Token": csrf})


def cookie_logout(client, csrf):
    return client.post(f"{BASE}/auth/logout", headers={**ORIGIN, "X-CSRF-Token": csrf})


def refresh_cookie(client):
    return client.get_cookie("__Host-refresh_token", domain="api.example.com").value


@pytest.mark.parametrize("origin", [
    "https://api.example.com.evil.example",  # starts with the API's own origin
    "https://api.example.com:8443",  # the same host on another port
    "http://api.example.com",  # and on another scheme
    "https://api.example.co",  # a prefix of it
])
def test_an_origin_that_only_resembles_the_apis_own_is_403(app, client, user, origin):
    csrf = browser_login(client).get_json()["csrf_token"]
    before = refresh_jti(app)
    for response in (cookie_refresh(client, csrf, origin), client.post(
            f"{BASE}/auth/logout", headers={"Origin": origin, "X-CSRF-Token": csrf})):
        assert (response.status_code, response.get_json()["description"]) == (
            403, "Origin not allowed")
        assert response.headers.getlist("Set-Cookie") == []
    assert refresh_jti(app) == before
    login = browser_login(client, Origin=origin)
    assert (login.status_code, login.get_json()["description"]) == (403, "Origin not allowed")


def test_a_cors_origin_logs_in_and_refreshes_with_the_cookie_and_its_lookalike_cant(make_app):
    app = make_app(CORS_ORIGINS=["https://app.example.com"])
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    login = browser_login(client, Origin="https://app.example.com")
    assert login.status_code == 200
    assert login.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    csrf = login.get_json()["csrf_token"]
    refreshed = cookie_refresh(client, csrf, "https://app.example.com")
    assert refreshed.status_code == 200
    assert refreshed.headers["Access-Control-Allow-Credentials"] == "true"
    before = refresh_jti(app)
    # flask-cors only leaves out its headers; the app itself must refuse the look-alike.
    for lookalike in ("https://app.example.com.evil.net", "https://app.example.com:444"):
        response = cookie_refresh(client, csrf, lookalike)
        assert (response.status_code, response.get_json()["description"]) == (
            403, "Origin not allowed")
        assert "Access-Control-Allow-Origin" not in response.headers
        login = browser_login(client, Origin=lookalike)
        assert (login.status_code, login.get_json()["description"]) == (
            403, "Origin not allowed")
    assert refresh_jti(app) == before
    assert cookie_refresh(client, csrf, "https://app.example.com").status_code == 200


def test_logout_with_a_spent_refresh_cookie_is_reuse(make_app, caplog):
    """Outside the grace, a spent refresh token in the cookie is what it is at a refresh:
    the session ends, and it is a warning, not a plain logout."""
    app = make_app(JWT_REFRESH_REUSE_GRACE=0, METRICS_ENABLED=True)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    csrf = browser_login(client).get_json()["csrf_token"]
    stolen = refresh_cookie(client)
    assert cookie_refresh(client, csrf).status_code == 200
    client.set_cookie("__Host-refresh_token", stolen, domain="api.example.com", secure=True)
    reused_before = counted(app, "token_refreshes", outcome="reused")
    caplog.clear()
    response = cookie_logout(client, csrf)
    assert (response.status_code, response.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token",
        "description": "Refresh token was already used; its session has been revoked"})
    assert cookies(response)["__Host-refresh_token"][0] == ""
    assert refresh_jti(app) == []
    assert [(r.levelname, r.getMessage().split()[0]) for r in caplog.records] == [
        ("WARNING", "refresh_reuse")]
    assert counted(app, "token_refreshes", outcome="reused") == reused_before + 1


def test_logout_with_the_token_a_refresh_just_spent_is_a_logout(app, client, user, caplog):
    """Within the grace, the client whose refresh answer got lost may still log out."""
    csrf = browser_login(client).get_json()["csrf_token"]
    spent = refresh_cookie(client)
    assert cookie_refresh(client, csrf).status_code == 200
    client.set_cookie("__Host-refresh_token", spent, domain="api.example.com", secure=True)
    caplog.clear()
    response = cookie_logout(client, csrf)
    assert (response.status_code, response.get_json()) == (200, {"status": "logged out"})
    assert refresh_jti(app) == []
    assert [r.getMessage().split()[0] for r in caplog.records] == ["logout"]


def test_a_refresh_whose_session_ends_after_the_token_check_is_revoked(make_app, monkeypatch,
                                                                       caplog):
    """A logout or password change elsewhere, between the token check and the rotation: 401
    revoked, and none of a theft's consequences (no event, no count, no cookie cleared —
    the cookie may already be a newer session's)."""
    import jwtauthtest.views
    from jwtauthtest.tokens.sessions import end_session

    app = make_app(METRICS_ENABLED=True)
    with app.app_context():
        add_user(USERNAME, PASSWORD)
    client = app.test_client()
    csrf = browser_login(client).get_json()["csrf_token"]
    reused_before = counted(app, "token_refreshes", outcome="reused")
    real_rotate = jwtauthtest.views.rotate_session

    def ended_meanwhile(user_id, family_id, *args):
        end_session(family_id)
        return real_rotate(user_id, family_id, *args)

    monkeypatch.setattr(jwtauthtest.views, "rotate_session", ended_meanwhile)
    caplog.set_level("INFO", logger="jwtauthtest.audit")
    response = cookie_refresh(client, csrf)
    assert (response.status_code, response.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token", "description": "Token has been revoked"})
    assert response.headers.getlist("Set-Cookie") == []
    assert "refresh_reuse" not in caplog.text
    assert counted(app, "token_refreshes", outcome="reused") == reused_before


@pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": ""}])
@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
def test_the_refresh_cookie_alone_without_the_csrf_cookie_is_403_and_changes_nothing(
        app, client, user, path, headers):
    """No CSRF cookie and no (or an empty) header: two empty strings are equal, but nothing
    was repeated, so the double-submit check refuses it."""
    csrf = browser_login(client).get_json()["csrf_token"]
    before = refresh_jti(app)
    client.delete_cookie("__Host-csrf_token", domain="api.example.com")
    assert client.get_cookie("__Host-csrf_token", domain="api.example.com") is None
    response = client.post(f"{BASE}{path}", headers={**ORIGIN, **headers})
    assert (response.status_code, response.get_json()) == (
        403, {"status_code": 403, "error": "Forbidden", "description": NO_CSRF})
    assert response.headers.getlist("Set-Cookie") == []
    assert refresh_jti(app) == before
    client.set_cookie("__Host-csrf_token", csrf, domain="api.example.com", secure=True)
    refreshed = cookie_refresh(client, csrf)
    assert refreshed.status_code == 200 and refreshed.get_json()["csrf_token"] == csrf
