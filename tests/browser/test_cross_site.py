"""A page on another origin can't spend the refresh cookie of a user signed in to /account in
the same browser (issue 16): its requests are refused or never sent, it reads nothing, and
the victim's refresh token stays unspent."""

import os
import sys

import pytest

from processes import free_port, start_server

pytest_plugins = ["chromium", "live_account"]

ATTACK = """<!DOCTYPE html>
<title>Win a prize</title>
<script>
  const target = "http://localhost:{port}/auth/refresh";
  async function attempt(init) {{
    try {{
      const response = await fetch(target, {{ method: "POST", credentials: "include", ...init }});
      return `read ${{response.type}} ${{response.status}}`;
    }} catch (error) {{
      return `refused: ${{error.message}}`;
    }}
  }}
  window.results = (async () => [
    await attempt({{}}),
    await attempt({{ headers: {{ "X-CSRF-Token": "forged" }} }}),
    await attempt({{ mode: "no-cors" }}),
  ])();
</script>
"""


@pytest.fixture
def attacker(tmp_path, live):
    """A second web server, on another port: pages of other origins, one same-site
    (http://localhost:OTHER, which gets SameSite=Strict cookies) and one not (127.0.0.1)."""
    site = tmp_path / "attacker"
    site.mkdir()
    (site / "attack.html").write_text(ATTACK.format(port=live.server.port))
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
            str(site), str(port)]
    with start_server(argv, {**os.environ, "PYTHONUNBUFFERED": "1"}, port,
                      "Serving HTTP on") as server:
        yield server


def test_a_page_on_another_origin_cannot_spend_the_refresh_cookie(page, live, watch, attacker):
    live.sign_in(page)
    before = live.sessions()
    cookie_before = {c["name"]: c["value"] for c in page.context.cookies()}
    refreshes_before = live.refresh_statuses()

    evil = page.context.new_page()
    results = {}
    for host in ("localhost", "127.0.0.1"):
        evil.goto(f"http://{host}:{attacker.port}/attack.html")
        results[host] = evil.evaluate("window.results")
    evil.close()
    # A CORS request can't read the answer; the no-cors one gets an opaque answer, status 0.
    expected = ["refused: Failed to fetch", "refused: Failed to fetch", "read opaque 0"]
    assert results == {"localhost": expected, "127.0.0.1": expected}
    # The same-site page's requests carried the cookie and met the Origin check (403); the
    # other site's carried none (401); the forged header never left (its preflight failed).
    assert live.refresh_statuses()[len(refreshes_before):] == ["403", "403", "401", "401"]

    assert live.sessions() == before
    assert {c["name"]: c["value"] for c in page.context.cookies()} == cookie_before
    page.reload()  # the victim's refresh token was never spent: this refresh works
    live.assert_signed_in(page, sessions=1)
    assert live.refresh_statuses()[-1] == "200"
    watch.assert_clean(page)
