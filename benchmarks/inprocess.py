"""Authenticated ``GET /hello`` against a bare Flask route, in one process: the cost of our
JWT check with no server or network in the way. ``pipenv run python benchmarks/inprocess.py``.

Both are called through ``app.wsgi_app`` on the same app (SQLite in a temporary folder, the
production argon2 parameters, which only the one login pays); rounds alternate between the
two, and the median per request of each is reported, with their ratio.
"""

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's jwtauthtest
SECRET = "benchmark-secret-" + "b" * 48
REQUESTS, ROUNDS = 2000, 7


def prepared_app(folder: Path, **config) -> Flask:
    from jwtauthtest import INSTANCE_PATH_VARIABLE, create_app
    from jwtauthtest.users import add_user

    os.environ[INSTANCE_PATH_VARIABLE] = str(folder)  # SQLite: migrated by create_app
    app = create_app({"SECRET_KEY": SECRET, **config})
    with app.app_context():
        add_user("admin", "a long benchmark password")

    @app.route("/bare")
    def bare() -> str:
        return "Hello world!"

    return app


def per_request(app: Flask, environ: dict, count: int) -> float:
    """Seconds per request, over count requests."""
    def start_response(status: str, headers: list, exc_info=None) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{environ['PATH_INFO']}: {status}")

    started = time.perf_counter()
    for _ in range(count):
        for _chunk in app.wsgi_app(dict(environ), start_response):
            pass
    return (time.perf_counter() - started) / count


def measure(app: Flask, requests: int = REQUESTS, rounds: int = ROUNDS) -> dict:
    client = app.test_client()
    login = client.post("/auth", json={"username": "admin",
                                       "password": "a long benchmark password"})
    token = login.get_json()["access_token"]
    hello = EnvironBuilder(path="/hello", headers={"Authorization": f"JWT {token}"}).get_environ()
    bare = EnvironBuilder(path="/bare").get_environ()
    per_request(app, hello, 200), per_request(app, bare, 200)  # warm up
    rounds_hello, rounds_bare = [], []
    for _ in range(rounds):
        rounds_hello.append(per_request(app, hello, requests))
        rounds_bare.append(per_request(app, bare, requests))
    hello_us = statistics.median(rounds_hello) * 1e6
    bare_us = statistics.median(rounds_bare) * 1e6
    return {"hello_us": round(hello_us, 1), "bare_us": round(bare_us, 1),
            "ratio": round(hello_us / bare_us, 2), "requests": requests, "rounds": rounds}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        result = measure(prepared_app(Path(folder)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
