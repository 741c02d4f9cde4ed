"""The real server (``flask --app jwtauthtest run``) driven over HTTP, as in the tutorial."""

import base64
import hashlib
import hmac
import json
import re
import stat
import subprocess
import sys
import time

from conftest import PASSWORD, SECRET, USERNAME
from processes import (
    REPO_ROOT,
    START_TIMEOUT,
    http,
    instance_path,
    read_line,
    run_useradd,
    start_flask,
    stop_process,
    subprocess_env,
)

CREDENTIALS = json.dumps({"username": USERNAME, "password": PASSWORD})
JSON = {"Content-Type": "application/json"}
NO_USERS_HINT = "No users yet: add one with `./pipenv run python useradd.py`"
# SQLite's own files, present only while (or if) a connection is open.
SQLITE_TRANSIENT = {"jwtauthtest.sqlite-wal", "jwtauthtest.sqlite-shm"}


def add_admin(env: dict[str, str]) -> None:
    result = run_useradd(env, ["--username", USERNAME, "--password-stdin"], PASSWORD + "\n")
    assert result.returncode == 0, result.stderr


def log_in(url: str) -> str:
    status, headers, body = http("POST", url + "/auth", CREDENTIALS, JSON)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    tokens = json.loads(body)
    assert sorted(tokens) == ["access_token", "refresh_token"]
    return tokens["access_token"]


def hello(url: str, token: str) -> tuple[int, bytes]:
    status, _, body = http("GET", url + "/hello", headers={"Authorization": f"JWT {token}"})
    return status, body


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def claims_signed_with(token: str, secret: str) -> dict:
    """The token's claims, after checking it is HS256 and signed with this secret."""
    header, payload, signature = token.split(".")
    assert json.loads(b64decode(header))["alg"] == "HS256"
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(b64decode(signature), expected), "signed with another secret"
    return json.loads(b64decode(payload))


def hint_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "python useradd.py" in line]


def test_tutorial_session(tmp_path):
    database = tmp_path / "tutorial.sqlite"
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    add_admin(env)

    with start_flask(env) as server:
        status, headers, body = http("POST", server.url + "/auth", CREDENTIALS, JSON)
        assert status == 200, body
        assert headers["Content-Type"] == "application/json"
        tokens = json.loads(body)
        # Flask-JWT's access_token, and since the token lifecycle a refresh_token beside it
        assert sorted(tokens) == ["access_token", "refresh_token"]
        token = tokens["access_token"]

        assert hello(server.url, token) == (200, b"Hello world!")

        status, headers, body = http("GET", server.url + "/hello")
        assert status == 401
        assert json.loads(body) == {"status_code": 401, "error": "Authorization Required",
                                    "description": "Request does not contain an access token"}
        assert headers["WWW-Authenticate"] == 'JWT realm="Login Required"'

        status, _, body = http("POST", server.url + "/auth",
                               json.dumps({"username": USERNAME, "password": "wrong"}), JSON)
        assert status == 401
        assert json.loads(body) == {"status_code": 401, "error": "Bad Request",
                                    "description": "Invalid credentials"}

    # The configured secret signs the tokens; none is generated, the database is the one given.
    claims = claims_signed_with(token, SECRET)
    assert claims["identity"] == 1
    assert claims["exp"] - claims["iat"] == 300
    assert not (instance_path(tmp_path) / "secret_key").exists()
    assert not (instance_path(tmp_path) / "jwtauthtest.sqlite").exists()
    assert database.exists()
    assert "Traceback" not in server.stderr()


def test_generated_secret_survives_restart(tmp_path):
    env = subprocess_env(tmp_path)  # no secret configured
    secret_file = instance_path(tmp_path) / "secret_key"
    assert not secret_file.exists()

    with start_flask(env) as server:
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        secret = secret_file.read_text()
        assert re.fullmatch(r"[0-9a-f]{64}\n", secret)
        add_admin(env)  # while the server runs: it reads the same database
        token = log_in(server.url)
        assert hello(server.url, token) == (200, b"Hello world!")

    with start_flask(env) as restarted:
        assert hello(restarted.url, token) == (200, b"Hello world!")

    assert secret_file.read_text() == secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert claims_signed_with(token, secret.strip())["identity"] == 1
    assert "Traceback" not in server.stderr() + restarted.stderr()


# Each child imports first, says so, and builds the app when the test says go,
# so that the first starts really happen at the same moment.
FIRST_START = (
    "import sys\n"
    "from jwtauthtest import create_app\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "print(create_app().config['JWT_SECRET_KEY'])\n"
)


def test_concurrent_first_starts_agree_on_one_secret(tmp_path):
    env = subprocess_env(tmp_path)
    folder = instance_path(tmp_path)
    children: list[subprocess.Popen] = []
    try:
        for _ in range(6):
            children.append(subprocess.Popen(
                [sys.executable, "-c", FIRST_START], cwd=REPO_ROOT, env=env, bufsize=0,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        # Six interpreters importing the app at once: on two busy cores (a parallel run)
        # that can take more than one server start's time. A bound against hanging only.
        deadline = time.monotonic() + 4 * START_TIMEOUT
        for child in children:
            assert read_line(child.stdout, deadline) == b"ready\n"
        assert not (folder / "secret_key").exists()
        for child in children:
            child.stdin.write(b"go\n")
        results = [child.communicate(timeout=30) for child in children]
    finally:
        for child in children:
            stop_process(child)

    for child, (_, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, stderr.decode()
    secrets = {stdout.decode() for stdout, _ in results}
    secret = (folder / "secret_key").read_text()
    assert secrets == {secret}  # one line each, all the same: the file's content
    assert re.fullmatch(r"[0-9a-f]{64}\n", secret)
    # The losers' temporary secret files are gone; what remains is the app's own.
    names = {path.name for path in folder.iterdir()} - SQLITE_TRANSIENT
    assert names == {"secret_key", "jwtauthtest.sqlite", ".upgrade.lock"}


def test_server_hints_how_to_add_the_first_user(tmp_path):
    env = subprocess_env(tmp_path)

    with start_flask(env) as server:
        [line] = hint_lines(server.stderr())  # the server answers: start-up is over
    assert line.endswith(NO_USERS_HINT)

    add_admin(env)
    with start_flask(env) as server:
        status, _, _ = http("GET", server.url + "/hello")  # it serves, and says nothing of it
        assert status == 401
    assert hint_lines(server.stderr()) == []
    assert "Traceback" not in server.stderr()
