"""GET /docs: Swagger UI 5 served by the app alone, under a strict Content-Security-Policy;
in Debian's Chromium, against the real server, it renders every operation of /openapi.json."""

import json
from html.parser import HTMLParser

import pytest

from processes import http, start_flask, subprocess_env

pytest_plugins = ["chromium"]

RECORD_VIOLATIONS = """window.violations = [];
document.addEventListener("securitypolicyviolation",
                          event => window.violations.push(event.violatedDirective));"""
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.in_script = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append("")
            self.in_script = True

    def handle_endtag(self, tag: str) -> None:
        self.in_script = self.in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self.in_script:
            self.scripts[-1] += data.strip()


def assert_locked_down(headers) -> None:
    policy = headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'self'; ")
    for directive in ("frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
                      "object-src 'none'"):
        assert directive in policy.split("; ")
    assert "unsafe" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_is_html_with_a_strict_policy(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert_locked_down(response.headers)


def test_every_asset_of_the_page_is_ours_and_locked_down(client):
    tags = Tags(client.get("/docs").get_data(as_text=True)).tags
    assets = [attrs.get("src") or attrs.get("href") for tag, attrs in tags
              if tag in ("script", "link")]
    assert len(assets) == 6, assets  # 2 scripts, 2 stylesheets, 2 icons
    for asset in assets:
        assert asset.startswith("/docs/"), asset
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.mimetype == CONTENT_TYPES[asset[asset.rindex("."):]], asset
        assert_locked_down(response.headers)


def test_the_page_has_no_inline_code_and_names_no_other_host(client):
    html = client.get("/docs").get_data(as_text=True)
    parsed = Tags(html)
    assert all(attrs.get("src") for tag, attrs in parsed.tags if tag == "script")
    assert parsed.scripts and not any(parsed.scripts)
    assert all("style" not in attrs for _, attrs in parsed.tags)
    assert "style" not in {tag for tag, _ in parsed.tags}
    assert "http://" not in html and "https://" not in html
    root = next(attrs for tag, attrs in parsed.tags if attrs.get("id") == "swagger-ui")
    assert root["data-openapi-url"] == "/openapi.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with start_flask(subprocess_env(tmp_path_factory.mktemp("docs"))) as running:
        yield running


def test_swagger_ui_renders_every_operation_within_the_policy(server, page):
    status, _, body = http("GET", server.url + "/openapi.json")
    assert status == 200
    documented = {(method.upper(), path) for path, operations in json.loads(body)["paths"].items()
                  for method in operations}
    hosts, csp_messages = set(), []
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.on("console", lambda message: csp_messages.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script(RECORD_VIOLATIONS)

    page.goto(server.url + "/docs")
    page.wait_for_selector(".opblock")
    rendered = page.eval_on_selector_all(".opblock", """blocks => blocks.map(block => [
        block.querySelector('.opblock-summary-method').textContent,
        block.querySelector('.opblock-summary-path').dataset.path])""")

    assert len(rendered) == len(documented)
    assert {tuple(operation) for operation in rendered} == documented
    assert page.title() == "jwtauthtest API"
    assert page.evaluate("window.violations") == [] and csp_messages == []
    assert hosts == {f"127.0.0.1:{server.port}"}


def test_swagger_ui_tries_an_operation_within_the_policy(server, page):
    """"Try it out" on GET /healthz calls the server from the page; an inline script that
    the page then adds is refused, so the policy (and this test's listener) is in force."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(server.url + "/docs")
    operation = page.locator("#operations-default-get_healthz")
    operation.locator(".opblock-summary-control").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    assert status.inner_text() == "200"
    assert page.evaluate("window.violations") == []

    page.evaluate("""() => { const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true'; document.body.append(script); }""")
    page.wait_for_function("window.violations.length > 0")
    assert page.evaluate("window.violations") == ["script-src-elem"]
    assert page.evaluate("window.inlineRan") is None
