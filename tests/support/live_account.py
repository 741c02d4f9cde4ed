"""The account page's browser tests' fixtures (test_account_page*.py): the real server, one
per module, with a user of each test's own; what the page must not do, watched.

A test module takes them with ``pytest_plugins = ["chromium", "live_account"]`` (and imports
nothing from here, which would keep pytest from rewriting its asserts).
"""

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine, text

from conftest import SECRET
from processes import ServerProcess, http, run_useradd, start_flask, subprocess_env

PASSWORD = "first long passphrase"
AGENT = 'Phone/1 <img src=x onerror="alert(1)">'  # markup: the page must show it as text
USER_NUMBERS = itertools.count(1)
# Before the page's own scripts: note every write to storage or to document.cookie.
RECORD_WRITES = """
(() => {
  const writes = [];
  Object.defineProperty(window, "__writes", { value: writes });
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    writes.push(`storage ${key}`);
    return setItem.call(this, key, value);
  };
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    configurable: true, get: cookie.get,
    set(value) { writes.push(`cookie ${value}`); cookie.set.call(this, value); } });
})();
"""


@dataclass
class LiveApp:
    """The running server, and this test's own user on it."""

    server: ServerProcess
    database: Engine
    username: str
    password: str = PASSWORD
    agent: str = AGENT  # the plain HTTP client's user agent

    @property
    def page_url(self) -> str:
        """The page on localhost (the plain HTTP calls below go to 127.0.0.1)."""
        return f"http://localhost:{self.server.port}/account"

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
        headers = {"Content-Type": "application/json", "User-Agent": self.agent, **(headers or {})}
        if token:
            headers["Authorization"] = f"JWT {token}"
        status, _, data = http(method, self.server.url + path,
                               json.dumps(body) if body else None, headers)
        return status, json.loads(data) if data.startswith(b"{") else data

    def log_in(self, password: str = PASSWORD) -> tuple[int, object]:
        return self.call("POST", "/auth",
                         body={"username": self.username, "password": password})

    def sessions(self) -> list[tuple]:
        """The user's sessions as stored: id, refresh token id (every refresh spends it) and
        last use."""
        with self.database.connect() as connection:
            return [tuple(row) for row in connection.execute(text(
                "SELECT f.id, f.refresh_jti, f.last_used_at FROM token_families f JOIN users u"
                " ON u.id = f.user_id WHERE u.username = :name ORDER BY f.id"),
                {"name": self.username})]

    def refresh_statuses(self) -> list[str]:
        """The status of every POST /auth/refresh so far, from the server's log."""
        return re.findall(r"POST /auth/refresh HTTP/1.1\S*\" (\d{3})", self.server.stderr())

    def sign_in(self, page: Page, password: str = PASSWORD) -> None:
        """Open the page, type the credentials into its form and submit it with Enter."""
        page.goto(self.page_url)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        # The sign-in form's field: with sign-up on, its form has a "Username" too.
        page.locator("#sign-in-form").get_by_label("Username").focus()
        page.keyboard.type(self.username)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name=f"Signed in as {self.username}")).to_be_focused()

    def assert_signed_in(self, page: Page, sessions: int) -> None:
        """The account, no sign-in form, and that many sessions listed, one of them this
        one."""
        expect(page.get_by_role("heading", name=f"Signed in as {self.username}")).to_be_visible()
        expect(page.locator("#sign-in")).to_be_hidden()
        expect(page.locator("#sessions tr")).to_have_count(sessions)
        expect(page.locator("#sessions tr", has_text="This device")).to_have_count(1)


@pytest.fixture(scope="module")
def server_env_for_port() -> Callable[[int], Mapping[str, str]] | None:
    """More of the server's variables, from its port; a test module that needs some (such as
    passkeys' origin, on the port) overrides this fixture."""
    return None


@pytest.fixture(scope="module")
def account_server(tmp_path_factory, server_env_for_port):
    """The real server, on a SQLite database of its own (these tests are about the page)."""
    folder = tmp_path_factory.mktemp("account_page")
    database_uri = f"sqlite:///{folder / 'account.sqlite'}"
    env = subprocess_env(folder, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true")
    database = create_engine(database_uri)
    with start_flask(env, env_for_port=server_env_for_port) as server:
        yield server, env, database
    database.dispose()


@pytest.fixture
def live(account_server) -> LiveApp:
    """A user of the test's own (added by useradd.py): no test sees another's sessions."""
    server, env, database = account_server
    username = f"dana{next(USER_NUMBERS)}"
    added = run_useradd(env, ["--username", username, "--password-stdin"], PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    return LiveApp(server, database, username)


class Watch:
    """What a page did that it must not: CSP violations, requests to other origins, writes to
    storage or cookies."""

    def __init__(self, page: Page, origin: str) -> None:
        self.violations: list[str] = []
        self.elsewhere: list[str] = []
        page.on("console", lambda message: self.violations.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.on("request", lambda request: self.elsewhere.append(request.url)
                if not request.url.startswith(origin + "/") else None)
        page.add_init_script(RECORD_WRITES)

    def assert_clean(self, page: Page) -> None:
        assert self.violations == []
        assert self.elsewhere == []
        assert page.evaluate("[window.__writes, localStorage.length, sessionStorage.length]") \
            == [[], 0, 0]


@pytest.fixture
def watch(page, live) -> Watch:
    return Watch(page, f"http://localhost:{live.server.port}")
