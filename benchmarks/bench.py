"""Measure the API's speed on this machine: ``pipenv run python benchmarks/bench.py``.

Starts gunicorn (2 workers) on a temporary SQLite database and drives it with wrk
(Debian/Ubuntu: ``apt-get install wrk``; macOS: ``brew install wrk``). Prints a table
and writes the numbers as JSON (``--output``). What it measures:

1. authenticated GET /hello requests/s against a bare unauthenticated route of the same
   server in the same run;
2. authenticated GET /hello with 1, 10,000 and 100,000 users in the table;
3. POST /auth latency against CryptContext.verify alone for the same hash;
4. resident memory of each worker after the run.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert  # noqa: E402

from jwtauthtest import create_app  # noqa: E402
from jwtauthtest.database import db  # noqa: E402
from jwtauthtest.models import User, username_key  # noqa: E402
from jwtauthtest.passwords import password_context  # noqa: E402
from jwtauthtest.users import add_user  # noqa: E402

USERNAME, PASSWORD = "bench", "benchmark password"
USER_COUNTS = (1, 10_000, 100_000)
SECRET = "benchmark-secret-" + "b" * 48


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bare and /hello runs, alternated, per user count")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--logins", type=int, default=20, help="timed POST /auth requests")
    parser.add_argument("--output",
                        default=str(REPO / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk")

    with tempfile.TemporaryDirectory() as workdir:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        env.update(JWTAUTHTEST_INSTANCE_PATH=workdir, FLASK_SECRET_KEY=SECRET,
                   FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir}/bench.sqlite",
                   FLASK_RATELIMIT_ENABLED="false")
        os.environ.update(env)
        app = create_app()  # the production argon2 parameters: nothing lowered here
        with app.app_context():
            password_hash = add_user(USERNAME, PASSWORD).password
        results = run(app, env, password_hash, args)
    print_table(results)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.output}")


def run(app, env: dict, password_hash: str, args) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--chdir", str(REPO / "benchmarks"), "bench_app:create_bench_app()"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_listening(port)
        token = login_once(port)
        auth = f"Authorization: JWT {token}"
        results = {"machine": {"cores": os.cpu_count()}, "wrk": {
            "duration_s": args.duration, "connections": args.connections,
            "rounds": args.rounds}}
        for path in ("/bare", "/hello"):  # warm up: connections, caches, CPU clocks
            wrk(url + path, argparse.Namespace(**{**vars(args), "duration": 2}), auth)
        rounds = {}
        for total in USER_COUNTS:
            add_users(app, total - user_count(app), password_hash)
            rounds[total] = [(wrk(url + "/bare", args), wrk(url + "/hello", args, auth))
                             for _ in range(args.rounds)]
        # Each /hello run is divided by the bare run just before it, so drift in the
        # machine's load (other processes, CPU clocks) cancels out of the ratios.
        ratio = {n: statistics.median(h / b for b, h in pairs) for n, pairs in rounds.items()}
        results["requests_per_s"] = {
            f"{n}_users": {"bare": [b for b, _ in pairs], "hello": [h for _, h in pairs]}
            for n, pairs in rounds.items()}
        results["hello_vs_bare"] = {f"{n}_users": r for n, r in ratio.items()}
        results["hello_cost_vs_1_user"] = {f"{n}_users": ratio[1] / r for n, r in ratio.items()}
        login_s = [timed_login(port) for _ in range(args.logins)]
        with app.app_context():
            context = password_context()
        verify_s = [timed(lambda: context.verify(PASSWORD, password_hash))
                    for _ in range(args.logins)]
        results["login_median_ms"] = statistics.median(login_s) * 1000
        results["verify_median_ms"] = statistics.median(verify_s) * 1000
        results["login_vs_verify"] = statistics.median(login_s) / statistics.median(verify_s)
        results["worker_rss_mib"] = worker_rss_mib(server.pid)
        return results
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)


def wrk(url: str, args, header: str | None = None) -> float:
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", url]
    if header:
        command[1:1] = ["-H", header]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors from {url}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def add_users(app, count: int, password_hash: str) -> None:
    """Bulk-insert users with a precomputed hash (hashing 100,000 passwords takes hours)."""
    with app.app_context():
        start = user_count(app)
        for offset in range(0, count, 10_000):
            rows = [{"username": f"user{i}", "username_key": username_key(f"user{i}"),
                     "password": password_hash}
                    for i in range(start + offset, start + min(offset + 10_000, count))]
            db.session.execute(insert(User), rows)
        db.session.commit()


def user_count(app) -> int:
    with app.app_context():
        return db.session.query(User).count()


def login_once(port: int) -> str:
    status, body = post_auth(port)
    if status != 200:
        raise RuntimeError(f"login failed: {status} {body}")
    return json.loads(body)["access_token"]


def timed_login(port: int) -> float:
    started = time.perf_counter()
    status, _ = post_auth(port)
    elapsed = time.perf_counter() - started
    assert status == 200
    return elapsed


def post_auth(port: int) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/auth", json.dumps({"username": USERNAME,
                                                         "password": PASSWORD}),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def worker_rss_mib(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def wait_until_listening(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def print_table(r: dict) -> None:
    rows = []
    for n in USER_COUNTS:
        runs = r["requests_per_s"][f"{n}_users"]
        hello, bare = statistics.median(runs["hello"]), statistics.median(runs["bare"])
        rows.append((f"GET /hello, {n:,} user(s): requests/s (bare route)",
                     f"{hello:.0f} ({bare:.0f})",
                     f"{r['hello_vs_bare'][f'{n}_users']:.2f}x bare"
                     + (" (target >= 0.70)" if n == 1 else
                        f", cost {r['hello_cost_vs_1_user'][f'{n}_users']:.2f}x 1 user"
                        + (" (target <= 1.15)" if n == USER_COUNTS[-1] else ""))))
    rows += [
        ("POST /auth median latency, ms", f"{r['login_median_ms']:.1f}",
         f"{r['login_vs_verify']:.2f}x verify (target <= 1.10)"),
        ("CryptContext.verify median, ms", f"{r['verify_median_ms']:.1f}", ""),
        ("worker resident memory, MiB", ", ".join(f"{m:.1f}" for m in r["worker_rss_mib"]), ""),
    ]
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
