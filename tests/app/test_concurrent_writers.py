"""Command-line writers while the server logs users in and rewrites hashes (issue 6).

On SQLite this is what WAL mode, the busy timeout and short write transactions are
for: nobody may fail with "database is locked".
"""

import csv
import json
import threading

from passlib.hash import pbkdf2_sha256

from conftest import SECRET
from processes import http, run_flask, run_useradd, start_procfile_server, subprocess_env

LEGACY_USERS = 24
PASSWORD = "long enough pw"


def test_cli_writes_while_the_server_logs_users_in(tmp_path, database_uri):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri,
                         FLASK_DATABASE_AUTO_UPGRADE="true",
                         FLASK_RATELIMIT_ENABLED="false")
    # Users with legacy hashes: each first login rewrites its hash (a write per login).
    legacy = tmp_path / "legacy.csv"
    with legacy.open("w", newline="") as f:
        csv.writer(f).writerows([("username", "password_hash")] + [
            (f"legacy{i}", pbkdf2_sha256.using(rounds=1000).hash(PASSWORD))
            for i in range(LEGACY_USERS)])
    result = run_flask(env, "users", "import", str(legacy))
    assert result.returncode == 0, result.stderr

    statuses: list[int] = []
    with start_procfile_server(env, workers=2) as server:
        def log_in(names):
            for _ in range(3):
                for name in names:
                    status, _, _ = http("POST", server.url + "/auth",
                                        json.dumps({"username": name, "password": PASSWORD}),
                                        {"Content-Type": "application/json"}, timeout=30)
                    statuses.append(status)

        names = [f"legacy{i}" for i in range(LEGACY_USERS)]
        clients = [threading.Thread(target=log_in, args=(names[i::3],)) for i in range(3)]
        for client in clients:
            client.start()
        outcomes = []
        for i in range(4):
            outcomes.append(run_useradd(env, ["--username", f"new{i}", "--password-stdin"],
                                        input=f"{PASSWORD}\n"))
            outcomes.append(run_flask(env, "users", "passwd", f"legacy{i}", "--password-stdin",
                                      input=f"{PASSWORD}\n"))
        batch = tmp_path / "batch.csv"
        batch.write_text("username,password\n" + "".join(f"batch{i},{PASSWORD}\n"
                                                         for i in range(5)))
        outcomes.append(run_flask(env, "users", "import", str(batch)))
        for client in clients:
            client.join(timeout=120)
        server_log = server.stderr()

    for outcome in outcomes:
        assert outcome.returncode == 0, outcome.stderr
        assert "locked" not in outcome.stderr
    assert len(statuses) == 3 * LEGACY_USERS
    assert set(statuses) == {200}, statuses
    assert "database is locked" not in server_log
    listed = json.loads(run_flask(env, "users", "list", "--json").stdout)
    assert len(listed) == LEGACY_USERS + 4 + 5
