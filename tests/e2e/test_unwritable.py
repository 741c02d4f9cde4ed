"""Folders, files and databases the service's user may not use (issue 33): the servers,
useradd.py and the flask commands each say so in one line naming the path, what was needed and
what to do, status 1, never a traceback, SQL or a hash; a running server whose database can't
be written any more answers /healthz 503.

The user is ``nobody``, through runuser, when the suite runs as root; otherwise these tests are
skipped, unless REQUIRE_UNPRIVILEGED=1 (CI), which makes that a failure. nobody can't reach the
project's environment (pyenv's Python under /root, CI's clone in a private folder), so the app
runs from a copy, in a virtual environment of Debian's /usr/bin/python3 with the locked
packages, in a world-readable temporary folder: one a test run, shared by xdist's workers.
PostgreSQL's read-only case runs as anyone, with TEST_DATABASE_URI.
"""

import fcntl
import json
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from conftest import PASSWORD, SECRET, TEST_DATABASE_URI, USERNAME, XDIST_WORKER, migrate_to_head
from processes import (
    REPO_ROOT,
    free_port,
    http,
    instance_path,
    procfile_command,
    run_flask,
    start_flask,
    start_server,
    subprocess_env,
)

REQUIRE_VARIABLE = "REQUIRE_UNPRIVILEGED"
USER = "nobody"
SYSTEM_PYTHON = "/usr/bin/python3"
RUNUSER = shutil.which("runuser") or "runuser"
APP_FILES = ("jwtauthtest", "migrations", "flask-jwt-revived", "useradd.py", "Procfile")
SERVER_TIMEOUT = 90.0  # granian starts a failing worker again a few times before it gives up
INSTEAD = "or set JWTAUTHTEST_INSTANCE_PATH to a folder that user may write"
UNAVAILABLE = {"status_code": 503, "error": "Service Unavailable",
               "description": "The database is unavailable; try again soon"}


def why_not_unprivileged() -> str | None:
    """Why the app can't be run as nobody here, if it can't."""
    if os.geteuid() != 0:
        return f"running the app as {USER} takes runuser, as root (this is uid {os.geteuid()})"
    if shutil.which("runuser") is None:
        return "running the app as another user takes runuser (util-linux), not on PATH"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"the unprivileged user's environment is made from {SYSTEM_PYTHON}, not here"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"there is no user {USER}"
    return None


@dataclass
class Unprivileged:
    """The app's copy and environment, readable by all, and how to run them as nobody."""

    root: Path  # world-readable, root's
    app: Path

    @property
    def python(self) -> str:
        return str(self.root / "venv" / "bin" / "python")

    def env(self, place: Path, **extra: str | None) -> dict[str, str]:
        """subprocess_env(place), without what points into the project's own environment."""
        return subprocess_env(place, PYTHONPATH=None, VIRTUAL_ENV=None, PYTHONHOME=None,
                              PATH=f"{self.root / 'venv' / 'bin'}:/usr/bin:/bin", **extra)

    def start(self, argv: list[str], env: dict[str, str],
              input: str | None = None) -> tuple[subprocess.Popen, str | None]:
        """ARGV as nobody, from the copy, in a session of its own; and its whole input."""
        return subprocess.Popen(
            [RUNUSER, "-u", USER, "--", *argv], cwd=self.app, env=env, text=True,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True), input

    def entry_points(self, env: dict[str, str], server: bool = False) -> dict:
        """What each entry point prints and its exit status, run at once; the Procfile
        server (slower: granian tries its workers again) only when asked."""
        flask = [self.python, "-m", "flask", "--app", "jwtauthtest"]
        started = {
            "useradd.py": self.start([self.python, "useradd.py", "--username", "a",
                                      "--password-stdin"], env, "a password\n"),
            "flask users add": self.start([*flask, "users", "add", "a", "--password-stdin"],
                                          env, "a password\n"),
            "flask users list": self.start([*flask, "users", "list"], env),
            "flask run": self.start([*flask, "run", "--port", str(free_port())], env)}
        if server:
            started["Procfile server"] = self.start(
                ["/bin/sh", "-c", "exec " + procfile_command("web")],
                {**env, "PORT": str(free_port()), "GRANIAN_HOST": "127.0.0.1",
                 "WEB_CONCURRENCY": "1"})
        return {name: finish(*process) for name, process in started.items()}


def finish(process: subprocess.Popen, input: str | None) -> subprocess.CompletedProcess:
    """Its output and status; a process still running after the timeout (a server that
    started) is killed with everything it started."""
    try:
        out, err = process.communicate(input, timeout=SERVER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.fixture(scope="session")
def unprivileged(tmp_path_factory):
    """The copy and its environment, made by the first of xdist's workers to need it (under a
    lock in the run's temporary folder) and removed by the last to finish."""
    reason = why_not_unprivileged()
    if reason is not None:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason}; {REQUIRE_VARIABLE}=1 forbids skipping these tests")
        pytest.skip(reason)
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if XDIST_WORKER is not None else shared
    with holding(shared / "unprivileged.lock"):
        users = shared / "unprivileged.users"
        count = int(users.read_text().split()[0]) if users.exists() else 0
        root = Path(users.read_text().split()[1]) if count else make_environment()
        users.write_text(f"{count + 1} {root}")
    yield Unprivileged(root, root / "app")
    with holding(shared / "unprivileged.lock"):
        count = int(users.read_text().split()[0]) - 1
        users.write_text(f"{count} {root}")
        if count == 0:
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def holding(path: Path) -> Iterator[None]:
    """An exclusive lock on a file for the with block."""
    with open(path, "a") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield


def make_environment() -> Path:
    """A world-readable folder with a copy of the app and a virtual environment of
    SYSTEM_PYTHON with the lock's packages (pip's cache is root's, shared with the rest)."""
    # /tmp, not TMPDIR, which may be a private folder: the user nobody couldn't enter it.
    root = Path(tempfile.mkdtemp(prefix="jwtauthtest-unprivileged-", dir="/tmp"))
    root.chmod(0o755)
    app = root / "app"
    try:
        for name in APP_FILES:
            source = REPO_ROOT / name
            if source.is_dir():
                shutil.copytree(source, app / name, ignore=shutil.ignore_patterns(
                    "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache"))
            else:
                shutil.copy2(source, app / name)
        python = str(root / "venv" / "bin" / "python")
        requirements = step([str(REPO_ROOT / "pipenv"), "requirements"], REPO_ROOT)
        (app / "requirements.txt").write_text(requirements)
        step([SYSTEM_PYTHON, "-m", "venv", str(root / "venv")], app)
        step([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
              "requirements.txt"], app)
        step([python, "-m", "compileall", "-q", "jwtauthtest", "migrations", "useradd.py"], app)
        step(["chmod", "-R", "a+rX", str(root)], app)
        step([RUNUSER, "-u", USER, "--", python, "-c", "import jwtauthtest"], app)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def step(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        pytest.fail(f"making nobody's environment: {' '.join(argv)} exited with "
                    f"{result.returncode}:\n{result.stdout}{result.stderr}")
    return result.stdout


@pytest.fixture
def place(unprivileged):
    """A new folder of root's, which nobody may enter and read but not write."""
    folder = Path(tempfile.mkdtemp(dir=unprivileged.root))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def owned(path: Path, mode: int, user: str = USER) -> Path:
    """PATH given to USER (root when "root") with MODE."""
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(mode)
    return path


def folder(path: Path, mode: int, user: str = USER) -> Path:
    path.mkdir()
    return owned(path, mode, user)


def migrated_database(path: Path, mode: int, user: str = USER) -> Path:
    """A SQLite database at the newest migration, as a first start leaves it."""
    migrate_to_head(f"sqlite:///{path}", path.parent / "migrating")
    shutil.rmtree(path.parent / "migrating")
    return owned(path, mode, user)


def assert_one_line(results: dict, message: str) -> None:
    for name, result in results.items():
        output = result.stdout + result.stderr
        for leak in ("Traceback", "INSERT", "[SQL", "$argon2"):
            assert leak not in output, (name, output)
        assert result.returncode == 1, (name, output)
        if name == "Procfile server":  # once for each worker granian tried to start
            lines = result.stderr.splitlines()
            assert lines and set(lines) == {f"Error: {message}"}, (name, result.stderr)
        else:
            assert result.stderr == f"Error: {message}\n", name


def test_an_instance_folder_of_someone_elses(unprivileged, place):
    instance = folder(instance_path(place), 0o755, "root")
    assert_one_line(unprivileged.entry_points(unprivileged.env(place), server=True),
                    f"can't create {instance}/secret_key: user nobody may not write to the "
                    f"folder {instance}; give the folder to that user (chown nobody {instance}) "
                    f"{INSTEAD}")


def test_an_instance_folder_of_someone_elses_that_others_may_not_enter(unprivileged, place):
    """As root's first start (useradd.py, say) leaves it: mode 700."""
    instance = folder(instance_path(place), 0o700, "root")
    assert_one_line(unprivileged.entry_points(unprivileged.env(place)),
                    f"can't open {instance}/config.py: user nobody may not enter its folder "
                    f"{instance}; give the folder to that user (chown nobody {instance}) "
                    f"{INSTEAD}")


def test_an_instance_folder_to_make_where_the_user_may_not_write(unprivileged, place):
    instance = instance_path(place)
    assert_one_line(unprivileged.entry_points(unprivileged.env(place)),
                    f"can't create the instance folder {instance}: user nobody may not write to "
                    f"{place}; create it for that user (mkdir -p {instance} && chown nobody "
                    f"{instance}) {INSTEAD}")


@pytest.mark.parametrize("name,content,mode,need", [
    ("config.py", "JWT_LEEWAY = 5\n", 0o600, "read"),
    ("secret_key", SECRET + "\n", 0o600, "read"),
    (".upgrade.lock", "", 0o644, "write"),  # made by root's first start
], ids=["config.py", "secret_key", ".upgrade.lock"])
def test_an_instance_file_of_someone_elses(unprivileged, place, name, content, mode, need):
    file = instance_path(place) / name
    folder(file.parent, 0o700)
    file.write_text(content)
    owned(file, mode, "root")
    assert_one_line(unprivileged.entry_points(unprivileged.env(place)),
                    f"can't {need} {file}: user nobody may not {need} it; give it to that user "
                    f"(chown nobody {file}) {INSTEAD}")


def test_a_read_only_database_in_a_writable_folder(unprivileged, place):
    """useradd.py printed SQLAlchemy's error: 93 lines, the INSERT and the new hash."""
    database = instance_path(place) / "jwtauthtest.sqlite"
    folder(database.parent, 0o700)
    migrated_database(database, 0o400)
    env = unprivileged.env(place, FLASK_SECRET_KEY=SECRET)
    assert_one_line(unprivileged.entry_points(env, server=True),
                    f"can't write the database {database}: user nobody may not write it; let "
                    f"that user write it (chmod u+w {database}) {INSTEAD}")


def test_a_database_in_a_folder_the_user_may_not_write(unprivileged, place):
    folder(instance_path(place), 0o700)
    database = folder(place / "data", 0o755, "root") / "users.sqlite"
    migrated_database(database, 0o600)
    env = unprivileged.env(place, FLASK_SECRET_KEY=SECRET,
                           FLASK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}")
    assert_one_line(unprivileged.entry_points(env),
                    f"can't write the database {database}: user nobody may not write to its "
                    f"folder {database.parent}, where SQLite makes its -wal, -shm and journal "
                    f"files; give the folder to that user (chown nobody {database.parent}) or "
                    "set SQLALCHEMY_DATABASE_URI to a database in a folder that user may write")


def healthz(server) -> tuple[int, dict]:
    status, _, body = http("GET", server.url + "/healthz")
    return status, json.loads(body)


@pytest.mark.parametrize("taken", ["file", "folder"])
def test_healthz_is_503_once_the_database_can_not_be_written(unprivileged, place, taken):
    """Found from the permissions at every probe, without writing: a database locked for a
    while (another process writing) is not read-only."""
    instance = folder(instance_path(place), 0o700)
    port = free_port()
    with start_server([RUNUSER, "-u", USER, "--", unprivileged.python, "-m", "flask", "--app",
                       "jwtauthtest", "run", "--port", str(port)],
                      unprivileged.env(place, FLASK_SECRET_KEY=SECRET), port,
                      f"Running on http://127.0.0.1:{port}", cwd=unprivileged.app) as server:
        assert healthz(server) == (200, {"status": "ok"})
        writer = sqlite3.connect(instance / "jwtauthtest.sqlite", timeout=0)
        try:
            writer.execute("BEGIN IMMEDIATE")
            assert healthz(server) == (200, {"status": "ok"})
        finally:
            writer.close()
        if taken == "file":
            (instance / "jwtauthtest.sqlite").chmod(0o400)
        else:
            owned(instance, 0o755, "root")
        assert healthz(server) == (503, {
            "status_code": 503, "error": "Service Unavailable",
            "description": f"The database can't be written: this server's user may not write "
                           f"its {taken}"})
    assert "Traceback" not in server.output()


@pytest.mark.skipif(TEST_DATABASE_URI is None, reason="PostgreSQL's read-only case needs "
                                                      "TEST_DATABASE_URI")
def test_healthz_is_503_on_a_read_only_postgresql(tmp_path, database_uri):
    """As on a standby: every transaction read-only (here through the server's PGOPTIONS,
    default_transaction_read_only). Logins answer 503 there too."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri)
    assert run_flask(env, "db", "upgrade").returncode == 0
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    with start_flask(env) as server:
        assert healthz(server) == (200, {"status": "ok"})
    with start_flask({**env, "PGOPTIONS": "-c default_transaction_read_only=on"}) as server:
        assert healthz(server) == (503, {
            "status_code": 503, "error": "Service Unavailable",
            "description": "The database can't be written: it is read-only "
                           "(transaction_read_only is on)"})
        status, _, body = http("POST", server.url + "/auth", json.dumps(
            {"username": USERNAME, "password": PASSWORD}), {"Content-Type": "application/json"})
        assert (status, json.loads(body)) == (503, UNAVAILABLE)


@pytest.mark.skipif(TEST_DATABASE_URI is None, reason="PostgreSQL's read-only case needs "
                                                      "TEST_DATABASE_URI")
@pytest.mark.parametrize("command", [["users", "add", "bob", "--password-stdin"],
                                     ["users", "passwd", USERNAME, "--password-stdin"]])
def test_a_command_whose_change_a_read_only_postgresql_refuses_says_so_in_one_line(
        tmp_path, database_uri, command):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET,
                         FLASK_SQLALCHEMY_DATABASE_URI=database_uri)
    assert run_flask(env, "db", "upgrade").returncode == 0
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    read_only = {**env, "PGOPTIONS": "-c default_transaction_read_only=on"}
    result = run_flask(read_only, *command, input="another long password\n")
    assert (result.returncode, result.stdout) == (1, "")
    label = make_url(database_uri).render_as_string(hide_password=True)
    assert result.stderr == (f"Error: the database {label} refused the change (cannot "
                             f"execute {'INSERT' if 'add' in command else 'UPDATE'} in a "
                             "read-only transaction)\n")
    assert "$argon2" not in result.stderr
