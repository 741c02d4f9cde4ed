"""Trying e-mail out as the README says: a server on the console backend says so as it starts,
and prints a reset link instead of sending it."""

import json
import time

from conftest import PASSWORD, SECRET, USERNAME
from processes import http, run_flask, start_flask, subprocess_env


def test_a_console_server_says_at_start_that_nothing_is_sent(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET, FLASK_MAIL_BACKEND="console",
                         FLASK_PUBLIC_URL="http://localhost:5000")
    assert run_flask(env, "users", "add", USERNAME, "--email", "alice@example.com",
                     "--password-stdin", input=PASSWORD + "\n").returncode == 0
    with start_flask(env) as server:
        status, _, body = http("POST", server.url + "/auth/password-reset",
                               json.dumps({"email": "alice@example.com"}),
                               {"Content-Type": "application/json"})
        assert status == 202, body
        deadline = time.monotonic() + 20  # the sender's round, woken by the request
        while "http://localhost:5000/account#" not in server.stdout():
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
    [started] = [line for line in server.stderr().splitlines() if "MAIL_BACKEND" in line]
    assert started.endswith("MAIL_BACKEND=console: every message is printed in this output, "
                            "and none is sent")
