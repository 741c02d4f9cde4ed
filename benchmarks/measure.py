"""The servers and the load of benchmarks/bench.py: our production server and the tutorial's app
started side by side, wrk against both in alternation, and slow clients against each."""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.client import HTTPConnection
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_ENV = REPO / "benchmarks" / "results" / "seed-env"  # built by tutorial/make_seed_env.sh
USERNAME, PASSWORD = "admin", "mysupersecretpassword"  # the tutorial app's own user
SECRET = "benchmark-secret-" + "b" * 48
WORKERS = 2
WARM_UP_SECONDS = 2
TOKEN_REUSE = 120  # seconds


def measure(args) -> dict:
    """Every measurement, in the form bench.py writes as JSON and checks against its targets."""
    subprocess.run(["bash", str(args.seed_dir / "make_seed_env.sh"), str(SEED_ENV)],
                   check=True, stdout=subprocess.DEVNULL)
    results = {"machine": {"cores": os.cpu_count()},
               "wrk": {"threads": 2, "connections": args.connections,
                       "duration_s": args.duration, "rounds": args.rounds},
               "quick": args.quick}
    with tempfile.TemporaryDirectory() as workdir, ExitStack() as servers:
        work = Path(workdir)
        databases = {"sqlite": f"sqlite:///{work}/ours.sqlite",
                     "eddsa": f"sqlite:///{work}/eddsa.sqlite"}
        if args.postgres:
            databases["postgres"] = args.postgres
        with ThreadPoolExecutor() as pool:  # migrations and argon2 hashing, side by side
            preparing = {name: pool.submit(prepare_ours, work / name, uri)
                         for name, uri in databases.items()}
        prepared = {name: future.result() for name, future in preparing.items()}
        # Each server starts when a comparison first needs it, and stays up until the end.
        tutorial = servers.enter_context(start_tutorial(args.seed_dir, work))
        ours = servers.enter_context(start_ours("ours", prepared["sqlite"]))
        results["sqlite"] = compare(tutorial, ours, args)
        ours_off = servers.enter_context(start_ours(
            "ours, throttling off", prepared["sqlite"], FLASK_RATELIMIT_ENABLED="false"))
        results["throttle_on_vs_off"] = compare(ours_off, ours, args)
        ours_metrics = servers.enter_context(start_ours(
            "ours, metrics on", prepared["sqlite"], FLASK_METRICS_ENABLED="true",
            PROMETHEUS_MULTIPROC_DIR=str(work / "metrics")))
        results["metrics_on_vs_off"] = compare(ours, ours_metrics, args)
        ours_eddsa = servers.enter_context(start_ours(
            "ours, EdDSA", prepared["eddsa"], FLASK_JWT_ALGORITHM="EdDSA"))
        results["eddsa_vs_hs256"] = compare(ours, ours_eddsa, args)
        if args.postgres:
            ours_pg = servers.enter_context(start_ours("ours, PostgreSQL", prepared["postgres"]))
            results["postgresql"] = compare(tutorial, ours_pg, args)
        results["slow_clients"] = {
            "clients": args.slow_clients, "seconds": args.slow_seconds,
            "ours": slow_clients(ours, "/healthz", args),
            "tutorial": slow_clients(tutorial, "/bare", args)}
    results["inprocess"] = in_process()
    return results


class Server:
    def __init__(self, name: str, port: int, process: subprocess.Popen) -> None:
        self.name, self.port, self.process = name, port, process
        self._token, self._token_time = "", 0.0

    def token(self) -> str:
        """An access token at most TOKEN_REUSE seconds old (both apps' live 300 s, shorter than
        the whole run): a login per wrk run would cost --quick a few seconds of argon2."""
        if time.monotonic() - self._token_time > TOKEN_REUSE:
            status, body = request(self.port, "POST", "/auth", json.dumps(
                {"username": USERNAME, "password": PASSWORD}),
                {"Content-Type": "application/json"})
            if status != 200:
                raise RuntimeError(f"{self.name}: login failed: {status} {body[:200]!r}")
            self._token, self._token_time = json.loads(body)["access_token"], time.monotonic()
        return self._token

    def wait_until_serving(self, seconds: float = 30) -> None:
        """Until a login succeeds."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.token()
                return
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} did not start") from None
                time.sleep(0.2)


@contextmanager
def start_tutorial(seed_dir: Path, work: Path):
    port = free_port()
    process = subprocess.Popen(
        [str(SEED_ENV / "bin" / "gunicorn"), "--preload", "-w", str(WORKERS), "-b",
         f"127.0.0.1:{port}", "--chdir", str(seed_dir), "seed_app:app"],
        env={**os.environ, "SEED_DB": str(work / "seed.sqlite")},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    with serving(Server("the tutorial's app", port, process)) as server:
        yield server


def prepare_ours(instance: Path, database_uri: str) -> dict[str, str]:
    """The environment of our server on this database, which it migrates and gives the
    tutorial's user."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
    env.update(JWTAUTHTEST_INSTANCE_PATH=str(instance), FLASK_SECRET_KEY=SECRET,
               FLASK_SQLALCHEMY_DATABASE_URI=database_uri)
    flask = [sys.executable, "-m", "flask", "--app", "jwtauthtest"]
    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True,
                   capture_output=True, text=True)
    added = subprocess.run([*flask, "users", "add", USERNAME, "--password-stdin"], cwd=REPO,
                           env=env, input=PASSWORD + "\n", text=True, capture_output=True)
    if added.returncode != 0 and "user already exists" not in added.stderr:
        raise RuntimeError(added.stderr)
    return env


@contextmanager
def start_ours(name: str, prepared: dict[str, str], **settings: str):
    """The Procfile's web process, on loopback, in prepare_ours's environment plus settings."""
    port = free_port()
    env = {**prepared, **settings, "PORT": str(port), "WEB_CONCURRENCY": str(WORKERS),
           "GRANIAN_HOST": "127.0.0.1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + prepared.get("PATH", "")}
    web = next(line.split(":", 1)[1] for line in (REPO / "Procfile").read_text().splitlines()
               if line.startswith("web:"))
    process = subprocess.Popen(["/bin/sh", "-c", "exec " + web], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    with serving(Server(name, port, process)) as server:
        yield server


@contextmanager
def serving(server: Server):
    """The server once it answers; stopped with all its processes at the end."""
    try:
        server.wait_until_serving()
        yield server
    finally:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:  # seen once with granian, just after it started
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def compare(baseline: Server, measured: Server, args) -> dict:
    """Alternated wrk runs of authenticated GET /hello, which of the two goes first changing
    every round; the median of the per-round ratios, and each server's CPU time (all its
    processes) per 1,000 requests over all rounds."""
    for server in (baseline, measured):  # warm up: connections, caches, CPU clocks
        wrk(server, args.connections, min(WARM_UP_SECONDS, args.duration))
    rounds, used = [], {baseline.name: [0.0, 0], measured.name: [0.0, 0]}
    for round_number in range(args.rounds):
        order = (measured, baseline) if round_number % 2 else (baseline, measured)
        rps = {}
        for server in order:
            rps[server.name], cpu_seconds, requests = wrk(server, args.connections, args.duration)
            used[server.name][0] += cpu_seconds
            used[server.name][1] += requests
        rounds.append((rps[baseline.name], rps[measured.name]))
    cpu = {name: seconds / requests * 1000 for name, (seconds, requests) in used.items()}
    return {"baseline_rps": [b for b, _ in rounds], "measured_rps": [m for _, m in rounds],
            "ratio": statistics.median(m / b for b, m in rounds),
            "baseline_cpu_s_per_1000": round(cpu[baseline.name], 4),
            "measured_cpu_s_per_1000": round(cpu[measured.name], 4),
            "cpu_ratio": cpu[baseline.name] / cpu[measured.name]}


def wrk(server: Server, connections: int, seconds: float) -> tuple[float, float, int]:
    """Requests a second, the server's CPU seconds meanwhile, and the requests made."""
    token = server.token()  # (a login's argon2 before the CPU count starts)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s",
               "-H", f"Authorization: JWT {token}", f"http://127.0.0.1:{server.port}/hello"]
    cpu_before = group_cpu_seconds(server.process.pid)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu_seconds = group_cpu_seconds(server.process.pid) - cpu_before
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"wrk saw errors from {server.name}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), cpu_seconds, requests


def group_cpu_seconds(group: int) -> float:
    """User and system CPU seconds of every process in the process group (the server and its
    workers: each server starts in a session of its own), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; then utime, stime at 14 and 15 of the full line
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def in_process() -> dict:
    """benchmarks/inprocess.py's figures: authenticated /hello against a bare route."""
    output = subprocess.run([sys.executable, str(REPO / "benchmarks" / "inprocess.py")],
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


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
