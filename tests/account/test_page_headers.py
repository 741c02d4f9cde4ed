"""GET /account and its assets (issue 16) through the test client: the security headers, and
HTML with no inline script or style for the Content-Security-Policy to refuse. (The page at
work in a browser: test_account_page.py.)"""

from html.parser import HTMLParser
from pathlib import Path

import jwtauthtest

POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
          "form-action 'self'")
SCRIPT = Path(jwtauthtest.__file__).parent / "account" / "assets" / "account.js"


class Inventory(HTMLParser):
    """The page's tags with their attributes, and the text inside <script> and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline_code: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if self.lasttag in ("script", "style") and data.strip():
            self.inline_code.append(data)


def inventory(html: str) -> Inventory:
    parser = Inventory()
    parser.feed(html)
    return parser


def assert_secured(response) -> None:
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_page_and_its_assets_carry_the_security_headers(client):
    page = client.get("/account")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert_secured(page)
    tags = inventory(page.get_data(as_text=True)).tags
    assets = [attrs.get("src") or attrs["href"] for tag, attrs in tags
              if tag == "script" or (tag == "link" and attrs.get("rel") == "stylesheet")]
    assert assets == ["/account/assets/account.css", "/account/assets/account.js"]
    for path, mimetype in zip(assets, ["text/css", "text/javascript"], strict=True):
        asset = client.get(path)
        assert (asset.status_code, asset.mimetype) == (200, mimetype)
        assert_secured(asset)
    missing = client.get("/account/assets/nothing.js")
    assert missing.status_code == 404
    assert_secured(missing)


def test_the_html_has_no_inline_script_or_style(client):
    page = inventory(client.get("/account").get_data(as_text=True))
    assert page.inline_code == []
    assert not [tag for tag, _ in page.tags if tag == "style"]
    for tag, attrs in page.tags:
        assert "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            assert not value.startswith(("javascript:", "data:", "//", "http")), (tag, value)


def test_forms_never_send_a_password_in_a_url(client):
    """Should the script not run, a form posts to the page itself (405), never a GET with
    the password in the query string; the sign-in fields are disabled until it runs."""
    page = inventory(client.get("/account").get_data(as_text=True))
    forms = [attrs for tag, attrs in page.tags if tag == "form"]
    assert len(forms) == 2 and all(form["method"] == "post" for form in forms)
    assert all("action" not in form for form in forms)
    assert ("fieldset", {"disabled": None}) in page.tags
    refused = client.post("/account", data={"username": "a", "password": "b"})
    assert refused.status_code == 405


def test_the_scripts_keep_tokens_out_of_storage_and_markup():
    scripts = sorted(SCRIPT.parent.glob("*.js"))  # account.js and the modules it imports
    assert {path.name for path in scripts} >= {"account.js", "sessions.js", "second-factor.js",
                                                "sign-in-code.js", "passkeys.js"}
    for path in scripts:
        script = path.read_text()
        for word in ("localStorage", "sessionStorage", "innerHTML", "outerHTML",
                     "insertAdjacentHTML", "document.write", "eval(", "Function(", "cookie ="):
            assert word not in script, (path.name, word)
