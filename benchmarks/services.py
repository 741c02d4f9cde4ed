"""What other services' questions cost (issue 37): requests a second of ``GET /auth/verify``
(forward authentication) and ``POST /auth/introspect`` (RFC 7662) beside the tutorial's
``GET /hello``, all three with wrk against the Procfile's server in one run.
``./pipenv run python benchmarks/services.py [--rounds N] [--duration S]``.

The server is started as bench.py starts ours (granian, two workers, SQLite in a temporary
folder, the production argon2 parameters); one client is made with ``flask clients add``, and
its introspection throttle raised out of the way. The
three are measured in turn, their order changing every round, with one access token throughout
(a token presented again is remembered as verified, for all three alike); the median of the
rounds is reported for each, with its ratio to /hello's.
"""

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import REPO, prepare_ours, start_ours  # noqa: E402

ENDPOINTS = ("/hello", "/auth/verify", "/auth/introspect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = prepare_ours(Path(folder), f"sqlite:///{folder}/bench.sqlite")
        made = subprocess.run([sys.executable, "-m", "flask", "--app", "jwtauthtest", "clients",
                               "add", "bench", "--json"], cwd=REPO, env=env, check=True,
                              capture_output=True, text=True)
        client = json.loads(made.stdout)
        # One client asks for every request here: its throttle would refuse most of them.
        with start_ours("ours", env,
                        FLASK_RATELIMIT_INTROSPECTION="100000000 per minute") as server:
            token = server.token()
            basic = base64.b64encode(
                f"{client['client_id']}:{client['client_secret']}".encode()).decode()
            script = Path(folder) / "introspect.lua"
            script.write_text('wrk.method = "POST"\n'
                              f'wrk.body = "token={token}"\n'
                              'wrk.headers["Content-Type"] = '
                              '"application/x-www-form-urlencoded"\n'
                              f'wrk.headers["Authorization"] = "Basic {basic}"\n')
            runs: dict[str, list[float]] = {path: [] for path in ENDPOINTS}
            for path in ENDPOINTS:  # warm up
                wrk(server.port, path, token, script, args.connections, 2)
            for round_number in range(args.rounds):
                shift = round_number % len(ENDPOINTS)
                for path in ENDPOINTS[shift:] + ENDPOINTS[:shift]:
                    runs[path].append(wrk(server.port, path, token, script, args.connections,
                                          args.duration))
    hello = statistics.median(runs["/hello"])
    for path, values in runs.items():
        median = statistics.median(values)
        print(f"{path:18} {median:9,.0f} requests/s  ({median / hello:.2f}× /hello's; "
              f"rounds: {', '.join(f'{v:,.0f}' for v in values)})")


def wrk(port: int, path: str, token: str, script: Path, connections: int,
        seconds: int) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s"]
    if path == "/auth/introspect":
        command += ["-s", str(script)]
    else:
        command += ["-H", f"Authorization: JWT {token}"]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True,
                            text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        raise SystemExit(f"wrk saw errors from {path}:\n{output}")
    return float(output.split("Requests/sec:")[1].split()[0])


if __name__ == "__main__":
    main()
