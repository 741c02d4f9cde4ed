"""E-mail's two measures (issue 36): how long from a password-reset request to its message in
a real SMTP server's inbox, and whether the answer to a reset request takes as long for an
address that has an account as for one that has none.
``./pipenv run python benchmarks/mail_times.py [--requests N]``.

It starts the test suite's SMTP server (aiosmtpd in its own process, STARTTLS and AUTH with a
throwaway CA: tests/support/mail_server.py) and the app with the Procfile's server (granian, two
workers) on SQLite in a temporary folder, the production argon2 parameters, and the throttle's
per-address limit raised so that the rounds are not refused. Requests for the known and the
unknown address alternate; the medians and 90th percentiles are reported.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]
SECRET = "benchmark-secret-" + "e" * 48
KNOWN, UNKNOWN = "carol@example.com", "nobody@example.com"


def main() -> None:
    from mail_server import MailServer
    from processes import http, run_useradd, start_procfile_server, subprocess_env

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="of each kind (200)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, MailServer(Path(folder)) as mail:
        env = subprocess_env(Path(folder), FLASK_SECRET_KEY=SECRET,
                             FLASK_ARGON2_MEMORY_COST=None, FLASK_ARGON2_TIME_COST=None,
                             FLASK_RATELIMIT_MAIL_PER_ADDRESS="100000 per hour",
                             FLASK_RATELIMIT_MAIL_PER_CLIENT="100000 per hour", **mail.env())
        added = run_useradd(env, ["--username", "carol", "--email", KNOWN, "--password-stdin"],
                            "a long benchmark password\n", timeout=60)
        assert added.returncode == 0, added.stderr
        with start_procfile_server(env, timeout=30) as server:
            url = server.url

            def reset(address: str) -> float:
                started = time.perf_counter()
                status, _, _ = http("POST", url + "/auth/password-reset",
                                    json.dumps({"email": address}),
                                    {"Content-Type": "application/json"})
                assert status == 202, status
                return time.perf_counter() - started

            arrivals = []
            for count in range(1, 21):  # request to inbox, one at a time
                started = time.perf_counter()
                reset(KNOWN)
                mail.wait_for(count, timeout=30)
                arrivals.append(time.perf_counter() - started)
            answers: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
            for _ in range(args.requests):
                for address in (KNOWN, UNKNOWN):
                    answers[address].append(reset(address))
            server.stop()
    report("request to message in the inbox", arrivals)
    for address, times in answers.items():
        report(f"answer, {'known' if address == KNOWN else 'unknown'} address", times)
    ratio = statistics.median(answers[KNOWN]) / statistics.median(answers[UNKNOWN])
    print(f"known / unknown median: {ratio:.3f}")


def report(what: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[int(len(ms) * 0.9) - 1]
    print(f"{what:36} n={len(ms):4}  median {statistics.median(ms):7.2f} ms  "
          f"p90 {p90:7.2f} ms")


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
