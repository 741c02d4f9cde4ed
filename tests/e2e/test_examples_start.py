"""The two example resource servers as a reader first runs them: a missing setting is one
line and exit status 1, and a request without a token is told which scheme to send."""

import json
import subprocess
import sys

import pytest

from processes import free_port, http, start_server, subprocess_env

INTROSPECTING = "examples/introspecting_resource_server.py"
VERIFYING = "examples/resource_server.py"


def flask_run(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", app, "run", "--port", str(port)]


@pytest.mark.parametrize(("app", "settings", "missing"), [
    (INTROSPECTING, {}, "INTROSPECTION_URL"),
    (INTROSPECTING, {"INTROSPECTION_URL": "http://127.0.0.1:9/auth/introspect"}, "CLIENT_ID"),
    (INTROSPECTING, {"INTROSPECTION_URL": "http://127.0.0.1:9/auth/introspect",
                     "CLIENT_ID": "billing"}, "CLIENT_SECRET"),
    (VERIFYING, {}, "JWKS_URL"),
], ids=["no url", "no client id", "no client secret", "no jwks url"])
def test_a_missing_setting_is_one_line(tmp_path, app, settings, missing):
    needs = ("INTROSPECTION_URL, CLIENT_ID and CLIENT_SECRET" if app == INTROSPECTING
             else "JWKS_URL, JWT_ISSUER and JWT_AUDIENCE")
    result = subprocess.run(flask_run(app, free_port()), env=subprocess_env(tmp_path, **settings),
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"{missing} is not set: this service runs with {needs} "
                             f"(see the top of {app})\n")


@pytest.mark.parametrize(("app", "settings"), [
    (INTROSPECTING, {"INTROSPECTION_URL": "http://127.0.0.1:9/auth/introspect",
                     "CLIENT_ID": "billing", "CLIENT_SECRET": "s"}),
    (VERIFYING, {"JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json"}),
], ids=["introspecting", "verifying"])
def test_a_request_without_a_token_is_told_the_scheme(tmp_path, app, settings):
    port = free_port()
    with start_server(flask_run(app, port), subprocess_env(tmp_path, **settings), port,
                      f"Running on http://127.0.0.1:{port}") as example:
        status, headers, body = http("GET", example.url + "/whoami",
                                     headers={"Authorization": "Bearer abc"})
    assert (status, headers["WWW-Authenticate"]) == (401, 'JWT realm="Login Required"')
    assert json.loads(body) == {"status_code": 401, "error": "Authorization Required",
                                "description": "Request does not contain an access token"}
