"""Measure the production server against the tutorial's app, in one run on this machine:
``pipenv run python benchmarks/bench.py [--postgres URL]``.

Starts our server exactly as the Procfile's web process does (2 workers, SQLite, the
production argon2 parameters) and, beside it, the tutorial's app on its own 2019 stack
(Flask-JWT 0.3.2, Flask 2.2, ``gunicorn --preload -w 2``), built by
``../shared/bench/make_seed_env.sh``. Drives both with wrk (``apt-get install wrk``),
alternating runs so that drift in the machine's load hits both alike, and reports the
median of the per-round ratios:

1. authenticated ``GET /hello``: ours / the tutorial's, on SQLite;
2. the same with throttling on / off (``FLASK_RATELIMIT_ENABLED``), with metrics on / off
   (``FLASK_METRICS_ENABLED``), and with EdDSA / HS256 tokens (``FLASK_JWT_ALGORITHM``);
3. with ``--postgres URL`` (an empty database the script may fill): ours on PostgreSQL /
   the tutorial's (on its SQLite);
4. 50 clients that send a header line every 5 s for 30 s: the share of ``/healthz`` probes
   (one each half second) answered within 3 s, for ours and for the tutorial's gunicorn.

Prints a table and writes the numbers as JSON (``--output``).
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from http.client import HTTPConnection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "admin", "mysupersecretpassword"  # the tutorial app's own user
SECRET = "benchmark-secret-" + "b" * 48
WORKERS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=6, help="alternated runs per comparison")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--postgres", help="an empty PostgreSQL database's SQLAlchemy URL")
    parser.add_argument("--slow-clients", type=int, default=50)
    parser.add_argument("--slow-seconds", type=int, default=30)
    parser.add_argument("--seed-dir", type=Path, default=REPO.parent / "shared" / "bench",
                        help="the tutorial app and its build script")
    parser.add_argument("--output",
                        default=str(REPO / "benchmarks" / "results" / "latest.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (Debian/Ubuntu), brew install wrk")
    if not (args.seed_dir / "make_seed_env.sh").exists():
        sys.exit(f"{args.seed_dir}/make_seed_env.sh not found: pass --seed-dir")

    results = run(args)
    print_table(results)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.output}")


def run(args) -> dict:
    seed_env = REPO / "benchmarks" / "results" / "seed-env"
    subprocess.run(["bash", str(args.seed_dir / "make_seed_env.sh"), str(seed_env)],
                   check=True, stdout=subprocess.DEVNULL)
    results = {"machine": {"cores": os.cpu_count()},
               "wrk": {"threads": 2, "connections": args.connections,
                       "duration_s": args.duration, "rounds": args.rounds}}
    with tempfile.TemporaryDirectory() as workdir, ExitStack() as servers:
        work = Path(workdir)
        tutorial = servers.enter_context(start_tutorial(seed_env, args.seed_dir, work))
        ours = servers.enter_context(start_ours(work / "sqlite", f"sqlite:///{work}/ours.sqlite"))
        results["sqlite"] = compare(tutorial, ours, args)
        ours_off = servers.enter_context(start_ours(
            work / "sqlite", f"sqlite:///{work}/ours.sqlite", FLASK_RATELIMIT_ENABLED="false"))
        results["throttle_on_vs_off"] = compare(ours_off, ours, args)
        ours_metrics = servers.enter_context(start_ours(
            work / "sqlite", f"sqlite:///{work}/ours.sqlite", FLASK_METRICS_ENABLED="true",
            PROMETHEUS_MULTIPROC_DIR=str(work / "metrics")))
        results["metrics_on_vs_off"] = compare(ours, ours_metrics, args)
        ours_eddsa = servers.enter_context(start_ours(
            work / "eddsa", f"sqlite:///{work}/eddsa.sqlite", FLASK_JWT_ALGORITHM="EdDSA"))
        results["eddsa_vs_hs256"] = compare(ours, ours_eddsa, args)
        if args.postgres:
            ours_pg = servers.enter_context(start_ours(work / "postgres", args.postgres))
            results["postgresql"] = compare(tutorial, ours_pg, args)
        results["slow_clients"] = {
            "clients": args.slow_clients, "seconds": args.slow_seconds,
            "ours": slow_clients(ours, "/healthz", args),
            "tutorial": slow_clients(tutorial, "/bare", args)}
    return results


class Server:
    def __init__(self, name: str, port: int, process: subprocess.Popen) -> None:
        self.name, self.port, self.process = name, port, process

    def token(self) -> str:
        """A fresh access token (the tutorial's live 300 s, shorter than the whole run)."""
        status, body = request(self.port, "POST", "/auth", json.dumps(
            {"username": USERNAME, "password": PASSWORD}), {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"{self.name}: login failed: {status} {body[:200]!r}")
        return json.loads(body)["access_token"]


@contextmanager
def start_tutorial(seed_env: Path, seed_dir: Path, work: Path):
    port = free_port()
    process = subprocess.Popen(
        [str(seed_env / "bin" / "gunicorn"), "--preload", "-w", str(WORKERS), "-b",
         f"127.0.0.1:{port}", "--chdir", str(seed_dir), "seed_app:app"],
        env={**os.environ, "SEED_DB": str(work / "seed.sqlite")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with serving(Server("tutorial", port, process)) as server:
        yield server


@contextmanager
def start_ours(instance: Path, database_uri: str, **settings: str):
    """The Procfile's web process, on loopback, with this database; the tutorial's user in it."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
    env.update(JWTAUTHTEST_INSTANCE_PATH=str(instance), FLASK_SECRET_KEY=SECRET,
               FLASK_SQLALCHEMY_DATABASE_URI=database_uri, **settings)
    flask = [sys.executable, "-m", "flask", "--app", "jwtauthtest"]
    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True)
    added = subprocess.run([*flask, "users", "add", USERNAME, "--password-stdin"], cwd=REPO,
                           env=env, input=PASSWORD + "\n", text=True, capture_output=True)
    if added.returncode != 0 and "user already exists" not in added.stderr:
        raise RuntimeError(added.stderr)
    port = free_port()
    env.update(PORT=str(port), WEB_CONCURRENCY=str(WORKERS), GRANIAN_HOST="127.0.0.1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    web = next(line.split(":", 1)[1] for line in (REPO / "Procfile").read_text().splitlines()
               if line.startswith("web:"))
    process = subprocess.Popen(["/bin/sh", "-c", "exec " + web], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    with serving(Server("ours", port, process)) as server:
        yield server


@contextmanager
def serving(server: Server):
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.token()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or server.process.poll() is not None:
                    raise RuntimeError(f"{server.name} did not start") from None
                time.sleep(0.2)
        yield server
    finally:
        os.killpg(server.process.pid, 15)
        server.process.wait(10)


def compare(baseline: Server, measured: Server, args) -> dict:
    """Alternated wrk runs of authenticated GET /hello, which of the two goes first changing
    every round; the median of the per-round ratios."""
    for server in (baseline, measured):  # warm up: connections, caches, CPU clocks
        wrk(server, argparse.Namespace(**{**vars(args), "duration": 2}))
    rounds = []
    for round_number in range(args.rounds):
        if round_number % 2:
            m, b = wrk(measured, args), wrk(baseline, args)
        else:
            b, m = wrk(baseline, args), wrk(measured, args)
        rounds.append((b, m))
    return {"baseline_rps": [b for b, _ in rounds], "measured_rps": [m for _, m in rounds],
            "ratio": statistics.median(m / b for b, m in rounds)}


def wrk(server: Server, args) -> float:
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s",
               "-H", f"Authorization: JWT {server.token()}",
               f"http://127.0.0.1:{server.port}/hello"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors from {server.name}:\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def slow_clients(server: Server, probe_path: str, args) -> dict:
    """Clients that never finish their headers, and a probe every half second."""
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(args.slow_clients)]
    stop = threading.Event()

    def trickle() -> None:
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        while not stop.wait(5):
            for sock in slow:
                try:
                    sock.sendall(b"X-Slow: yes\r\n")
                except OSError:  # the server gave up on it
                    pass

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    answered = probes = 0
    deadline = time.monotonic() + args.slow_seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        probes += 1
        try:
            answered += request(server.port, "GET", probe_path, timeout=3)[0] == 200
        except OSError:  # no answer within 3 s
            pass
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    stop.set()
    thread.join()
    for sock in slow:
        sock.close()
    return {"probes": probes, "answered_within_3s": answered, "share": answered / probes}


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict | None = None, timeout: float = 30) -> tuple[int, bytes]:
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def print_table(r: dict) -> None:
    def rps(runs: list[float]) -> str:
        return f"{statistics.median(runs):,.0f}"

    rows = [("GET /hello, SQLite: ours / tutorial (req/s)",
             f"{rps(r['sqlite']['measured_rps'])} / {rps(r['sqlite']['baseline_rps'])}",
             f"{r['sqlite']['ratio']:.2f}x (target >= 2.5)")]
    if "postgresql" in r:
        rows.append(("GET /hello, PostgreSQL: ours / tutorial on SQLite",
                     f"{rps(r['postgresql']['measured_rps'])} / "
                     f"{rps(r['postgresql']['baseline_rps'])}",
                     f"{r['postgresql']['ratio']:.2f}x (target >= 1.5)"))
    for key, name in (("throttle_on_vs_off", "throttling"), ("metrics_on_vs_off", "metrics")):
        on_off = r[key]
        rows.append((f"GET /hello, {name} on / off (req/s)",
                     f"{rps(on_off['measured_rps'])} / {rps(on_off['baseline_rps'])}",
                     f"{on_off['ratio']:.2f} (target >= 0.95)"))
    eddsa = r["eddsa_vs_hs256"]
    rows.append(("GET /hello, EdDSA / HS256 tokens (req/s)",
                 f"{rps(eddsa['measured_rps'])} / {rps(eddsa['baseline_rps'])}",
                 f"{eddsa['ratio']:.2f} (target >= 0.8)"))
    slow = r["slow_clients"]
    for name in ("ours", "tutorial"):
        rows.append((f"{slow['clients']} slow clients, {slow['seconds']} s: probes answered "
                     f"in 3 s, {name}",
                     f"{slow[name]['answered_within_3s']} of {slow[name]['probes']}",
                     f"{slow[name]['share']:.0%}" + (" (target >= 95%)" if name == "ours"
                                                    else "")))
    width = max(len(row[0]) for row in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>15}  {note}")


if __name__ == "__main__":
    main()
