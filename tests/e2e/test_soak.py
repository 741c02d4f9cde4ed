"""A bounded soak: concurrent clients against the Procfile server for about 30 seconds (issue 7).

Slow, so it runs when RUN_SLOW=1 (as .ci/run sets it) and is skipped otherwise.
"""

import json
import math
import os
import random
import re
import threading
import time
from pathlib import Path

import pytest

from conftest import SECRET
from processes import http, run_flask, start_procfile_server, subprocess_env

pytestmark = pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1",
                                reason="slow (about 30 s): set RUN_SLOW=1 to run it")
PHASE_SECONDS = 12
CLIENTS = 4
JSON = {"Content-Type": "application/json"}


class Client(threading.Thread):
    """Logs in (well and badly), calls protected views, refreshes and logs out, in a loop,
    recording every status and every token that must be refused from then on."""

    def __init__(self, url, username, password, deadline, seed):
        super().__init__(daemon=True)
        self.url, self.username, self.password = url, username, password
        self.deadline, self.random = deadline, random.Random(seed)
        self.statuses: list[tuple[str, int]] = []
        self.revoked_access: list[str] = []
        self.spent_refresh: list[str] = []
        self.error: BaseException | None = None

    def call(self, method, path, body=None, token=None):
        headers = dict(JSON, **({"Authorization": f"JWT {token}"} if token else {}))
        status, _, data = http(method, self.url + path, json.dumps(body) if body else None,
                               headers, timeout=20)
        self.statuses.append((path, status))
        return status, json.loads(data) if data.startswith(b"{") else data

    def run(self):
        try:
            while time.monotonic() < self.deadline:
                self.session()
        except BaseException as e:  # reported by the test
            self.error = e

    def session(self):
        bad = {"username": self.username, "password": "wrong"}
        assert self.call("POST", "/auth", bad)[0] == 401
        status, tokens = self.call("POST", "/auth", {"username": self.username,
                                                     "password": self.password})
        assert status == 200, tokens
        assert self.call("GET", "/hello", token=tokens["access_token"])[0] == 200
        status, fresh = self.call("POST", "/auth/refresh", token=tokens["refresh_token"])
        assert status == 200, fresh
        self.spent_refresh.append(tokens["refresh_token"])
        assert self.call("GET", "/me", token=fresh["access_token"])[0] == 200
        if self.random.random() < 0.5:
            assert self.call("POST", "/auth/logout", token=fresh["access_token"])[0] == 200
            self.revoked_access += [tokens["access_token"], fresh["access_token"]]
            self.spent_refresh.append(fresh["refresh_token"])


def worker_rss_kib(server) -> list[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    sizes = []
    for pid in children.read_text().split():
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)))
    return sizes


def test_soak(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true",
                         FLASK_RATELIMIT_LOGIN_FAILURES="100000 per minute",
                         FLASK_RATELIMIT_LOGIN_ATTEMPTS="100000 per minute",
                         FLASK_MAX_SESSIONS_PER_USER="100000",
                         FLASK_JWT_REFRESH_REUSE_GRACE="0")  # every spent token is refused
    users = [(f"soak{i}", f"password {i}") for i in range(CLIENTS)]
    for name, password in users:
        assert run_flask(env, "users", "add", name, "--password-stdin",
                         input=password + "\n").returncode == 0
    added = []
    with start_procfile_server(env, workers=2) as server:
        memory = []
        clients = []
        for phase in range(2):
            started = time.monotonic()
            phase_clients = [Client(server.url, name, password, math.inf, seed=phase * 10 + i)
                             for i, (name, password) in enumerate(users)]
            for client in phase_clients:
                client.start()
            # Users added while the clients run: for the phase's time, and at least two
            # however long each takes on a busy machine (a parallel run); the clients stop
            # two seconds after the last.
            phase_added = 0
            while time.monotonic() < started + PHASE_SECONDS - 2 or phase_added < 2:
                name = f"added{len(added)}"
                result = run_flask(env, "users", "add", name, "--password-stdin",
                                   input="an added passphrase\n")
                assert result.returncode == 0, result.stderr
                added.append(name)
                phase_added += 1
            for client in phase_clients:
                client.deadline = time.monotonic() + 2
            for client in phase_clients:
                client.join(timeout=60)
                assert not client.is_alive()
                assert client.error is None, repr(client.error)
            clients += phase_clients
            memory.append(worker_rss_kib(server))
        # Nothing revoked is accepted: logged-out access tokens, spent refresh tokens.
        probe = Client(server.url, "", "", 0, 0)
        for token in (t for client in clients for t in client.revoked_access):
            status, body = probe.call("GET", "/hello", token=token)
            assert (status, body["description"]) == (401, "Token has been revoked")
        for token in (t for client in clients for t in client.spent_refresh):
            assert probe.call("POST", "/auth/refresh", token=token)[0] == 401
        log = server.stderr()

    statuses = [status for client in clients + [probe] for _, status in client.statuses]
    print(f"soak: {len(statuses)} requests, {len(added)} users added, worker RSS KiB {memory}")
    assert len(statuses) > 200, len(statuses)
    assert max(statuses) < 500
    assert "Traceback" not in log
    listed = {u["username"] for u in json.loads(run_flask(env, "users", "list",
                                                          "--json").stdout)}
    assert set(added) <= listed and len(added) >= 4
    first, second = memory
    for before, after in zip(first, second, strict=True):
        assert after <= before * 1.10 + 2048, memory  # no growth beyond noise, run over run
