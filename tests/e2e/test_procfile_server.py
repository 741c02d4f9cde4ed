"""The production server as the Procfile starts it: its settings, its start-up, slow clients
(issue 10). Everything listens on loopback only."""

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import SECRET
from processes import (
    REPO_ROOT,
    http,
    procfile_command,
    start_flask,
    start_procfile_server,
    subprocess_env,
)

NO_USERS_HINT = "No users yet: add one with `./pipenv run python useradd.py`"


def procfile_argv(tmp_path: Path, **env: str) -> list[str]:
    """The arguments the Procfile's web command passes to granian in this environment,
    read by a stand-in granian that prints them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "granian"
    stand_in.write_text('#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done\n')
    stand_in.chmod(0o755)
    variables = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env}
    result = subprocess.run(["/bin/sh", "-c", procfile_command("web")], cwd=REPO_ROOT,
                            env=variables, capture_output=True, text=True, timeout=10)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_web_process_takes_port_and_concurrency_from_the_environment(tmp_path):
    argv = procfile_argv(tmp_path, PORT="5123", WEB_CONCURRENCY="3")
    assert (option(argv, "--port"), option(argv, "--workers")) == ("5123", "3")
    assert (option(argv, "--interface"), argv[-1]) == ("wsgi", "jwtauthtest:create_app")
    assert "--factory" in argv


def test_the_web_process_defaults_to_port_8000_two_workers_all_interfaces(tmp_path):
    argv = procfile_argv(tmp_path)
    assert [option(argv, name) for name in ("--host", "--port", "--workers")] == \
        ["0.0.0.0", "8000", "2"]  # noqa: S104 (what a platform's router connects to)


def test_the_procfile_server_serves_with_the_workers_asked_for(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    with start_procfile_server(env, workers=3) as server:
        assert http("GET", server.url + "/healthz")[0] == 200
        output = server.output()
    assert sorted(line for line in output.splitlines() if "Started worker-" in line) == \
        ["[INFO] Started worker-1", "[INFO] Started worker-2", "[INFO] Started worker-3"]
    # Each worker loaded the app as a server (not as a command-line tool): it says what to do.
    assert output.count(NO_USERS_HINT) == 3


def test_slow_clients_do_not_stop_the_service(tmp_path):
    """50 connections that send a header line every second (and never finish) while /healthz
    is probed: every probe is answered within 3 s. (Two such clients stopped gunicorn's two
    sync workers.)"""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    with start_procfile_server(env, workers=2) as server:
        slow = [socket.create_connection(("127.0.0.1", server.port), timeout=5)
                for _ in range(50)]
        stop = threading.Event()

        def trickle() -> None:
            for sock in slow:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
            while not stop.wait(1):
                for sock in slow:
                    sock.sendall(b"X-Slow: yes\r\n")

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        try:
            answers = []
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                started = time.monotonic()
                status = http("GET", server.url + "/healthz", timeout=3)[0]
                answers.append((status, time.monotonic() - started < 3))
                time.sleep(0.2)
        finally:
            stop.set()
            trickler.join(timeout=5)
            for sock in slow:
                sock.close()
    assert len(answers) >= 20
    assert set(answers) == {(200, True)}


def post_chunked(port: int, body: bytes) -> tuple[bytes, bytes]:
    """POST /auth with Transfer-Encoding: chunked: (status line, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /auth HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                     b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for start in range(0, len(body), 4096):
            chunk = body[start:start + 4096]
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head, _, content = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], content


@pytest.mark.parametrize("start", [start_procfile_server, start_flask])
def test_a_chunked_body_over_16_kib_is_413(tmp_path, start):
    """Werkzeug cuts a streamed body at MAX_CONTENT_LENGTH; cut, it would parse as broken JSON."""
    with start(subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)) as server:
        status, content = post_chunked(server.port, json.dumps(
            {"username": "a", "password": "x" * 20_000}).encode())
        small = post_chunked(server.port, b'{"username": "a", "password": "b"}')
    assert status.split(b" ")[1] == b"413"
    assert json.loads(content) == {"status_code": 413, "error": "Request Entity Too Large",
                                   "description": "The data value transmitted exceeds the "
                                                  "capacity limit."}
    assert small[0].split(b" ")[1] == b"401"  # a small chunked body is read as usual
