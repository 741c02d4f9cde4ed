"""Prometheus metrics at /metrics, added up across the Procfile server's workers (issue 12)."""

import json
import re
import time

from prometheus_client.parser import text_string_to_metric_families

from jwtauthtest.users import add_user

from conftest import PASSWORD, SECRET, USERNAME, counted
from processes import http, run_flask, start_procfile_server, subprocess_env
from token_makers import flask_jwt_claims, sign


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_count_known_traffic_across_two_workers(tmp_path):
    directory = tmp_path / "metrics"
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_METRICS_ENABLED="true",
                         FLASK_RATELIMIT_LOGIN_FAILURES="4 per minute",
                         FLASK_JWT_REFRESH_REUSE_GRACE="0",  # a reuse at once is a theft
                         PROMETHEUS_MULTIPROC_DIR=str(directory))
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    with start_procfile_server(env, workers=2) as server:
        def call(method, path, body=None, token=None, **more_headers):
            headers = {"Content-Type": "application/json", **more_headers}
            if token:
                headers["Authorization"] = f"JWT {token}"
            status, _, data = http(method, server.url + path,
                                   json.dumps(body) if body is not None else None, headers)
            return status, data

        def login(password=PASSWORD):
            status, data = call("POST", "/auth", {"username": USERNAME, "password": password})
            return status, json.loads(data)

        pairs = [login()[1] for _ in range(3)]
        assert [login("wrong")[0] for _ in range(5)] == [401] * 4 + [429]
        for _ in range(6):
            assert call("GET", "/hello", token=pairs[0]["access_token"])[0] == 200
        assert call("GET", "/hello")[0] == 401  # no token
        assert call("GET", "/hello", token="not.a.token")[0] == 401
        assert call("POST", "/auth/refresh", token=pairs[1]["refresh_token"])[0] == 200
        assert call("POST", "/auth/refresh", token=pairs[2]["refresh_token"])[0] == 200
        assert call("POST", "/auth/refresh", token=pairs[2]["refresh_token"])[0] == 401
        # A browser's cookie without the CSRF header; a new password the policy refuses.
        assert call("POST", "/auth/logout", Cookie="__Host-refresh_token=x")[0] == 403
        assert call("POST", "/auth/password", {"current_password": PASSWORD,
                                               "new_password": "short"},
                    token=pairs[0]["access_token"])[0] == 400
        status, text = call("GET", "/metrics")
    assert status == 200
    values = samples(text.decode())
    expected = {
        ("jwtauthtest_logins_total", (("outcome", "success"),)): 3,
        ("jwtauthtest_logins_total", (("outcome", "failure"),)): 4,
        ("jwtauthtest_logins_total", (("outcome", "throttled"),)): 1,
        ("jwtauthtest_token_refreshes_total", (("outcome", "rotated"),)): 2,
        ("jwtauthtest_token_refreshes_total", (("outcome", "reused"),)): 1,
        ("jwtauthtest_tokens_rejected_total", (("reason", "missing"),)): 1,
        ("jwtauthtest_tokens_rejected_total", (("reason", "invalid"),)): 1,
        ("jwtauthtest_tokens_rejected_total", (("reason", "csrf"),)): 1,
        ("jwtauthtest_request_duration_seconds_count", (("endpoint", "views.hello"),)): 8,
        ("jwtauthtest_request_duration_seconds_count", (("endpoint", "jwt"),)): 8,
        ("jwtauthtest_request_duration_seconds_count", (("endpoint", "views.refresh"),)): 3,
    }
    assert {key: values.get(key) for key in expected} == expected
    assert {labels for (name, labels), value in values.items()
            if name == "jwtauthtest_tokens_rejected_total" and value} == {
        (("reason", "missing"),), (("reason", "invalid"),), (("reason", "csrf"),)}
    # Both workers answered, and /metrics added up both.
    pids = {re.fullmatch(r"counter_(\d+)\.db", f.name).group(1)
            for f in directory.iterdir() if f.name.startswith("counter_")}
    assert len(pids) == 2, pids


def test_no_metrics_unless_enabled(client):
    assert client.get("/metrics").status_code == 404


def test_the_openapi_document_lists_metrics_when_they_are_on(make_app, tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    client = make_app(METRICS_ENABLED=True).test_client()
    assert "/metrics" in client.get("/openapi.json").get_json()["paths"]
    assert client.get("/metrics").status_code == 200



REASONS = ("missing", "bad_header", "expired", "bad_signature", "revoked", "unknown_user",
           "wrong_type", "csrf", "invalid")


def rejected(app):
    return {reason: counted(app, "tokens_rejected", reason=reason) for reason in REASONS}


def test_each_refused_token_is_counted_by_the_reason_it_carries(make_app):
    """The reason comes with the refusal (web.refusals.Refused, the extension's titles),
    not from matching its description; a refusal that isn't a token's counts nowhere."""
    app = make_app(METRICS_ENABLED=True)
    with app.app_context():
        user_id = add_user(USERNAME, PASSWORD).id
    client = app.test_client()
    tokens = client.post("/auth", json={"username": USERNAME, "password": PASSWORD}).get_json()
    expired = sign(flask_jwt_claims(user_id, now=int(time.time()) - 400), SECRET)
    forged = sign(flask_jwt_claims(user_id), "another-secret-" + "y" * 40)
    nobody = sign(flask_jwt_claims(user_id + 1), SECRET)
    for reason, headers, path in (
            ("missing", {}, "/hello"),
            ("bad_header", {"Authorization": "Bearer x"}, "/hello"),
            ("expired", {"Authorization": f"JWT {expired}"}, "/hello"),
            ("bad_signature", {"Authorization": f"JWT {forged}"}, "/hello"),
            ("unknown_user", {"Authorization": f"JWT {nobody}"}, "/hello"),
            ("wrong_type", {"Authorization": f"JWT {tokens['refresh_token']}"}, "/hello"),
            ("invalid", {"Authorization": "JWT not.a.token"}, "/hello")):
        before = rejected(app)
        assert client.get(path, headers=headers).status_code == 401
        assert rejected(app) == {**before, reason: before[reason] + 1}, reason
    client.post("/auth/logout", headers={"Authorization": f"JWT {tokens['access_token']}"})
    before = rejected(app)
    assert client.get("/hello", headers={
        "Authorization": f"JWT {tokens['access_token']}"}).status_code == 401
    assert rejected(app) == {**before, "revoked": before["revoked"] + 1}
    access = client.post("/auth", json={"username": USERNAME,
                                        "password": PASSWORD}).get_json()["access_token"]
    before = rejected(app)  # a made-up second-factor challenge, a bad body: not a token's
    assert client.post("/auth/second-factor", json={"challenge": "x" * 43,
                                                    "code": "123456"}).status_code == 401
    assert client.post("/auth/password", headers={"Authorization": f"JWT {access}"},
                       json=[]).status_code == 400
    assert rejected(app) == before
