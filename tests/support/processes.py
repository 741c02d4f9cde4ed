"""Run the app's real processes for tests: the Flask server, useradd.py, a pseudo-terminal.

Every process started here is bounded by a timeout and is stopped (and reaped)
by its owner's ``stop``/``close``/context manager, also when a test fails.
"""

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from http.client import HTTPConnection, HTTPMessage
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTANCE_PATH_VARIABLE = "JWTAUTHTEST_INSTANCE_PATH"
FAST_HASHING_ENV = {"FLASK_ARGON2_MEMORY_COST": "1024", "FLASK_ARGON2_TIME_COST": "1"}
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
RUN_TIMEOUT = 30.0
HTTP_TIMEOUT = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instance_path(tmp_path: Path) -> Path:
    """The instance folder ``subprocess_env(tmp_path)`` points the app at."""
    return tmp_path / "instance"


def subprocess_env(tmp_path: Path, **extra: str | None) -> dict[str, str]:
    """This process's environment without any FLASK_* variable, plus a private
    instance folder, cheap argon2 parameters and ``extra`` (None unsets a name)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
    env[INSTANCE_PATH_VARIABLE] = str(instance_path(tmp_path))
    env.update(FAST_HASHING_ENV)
    env["PYTHONUNBUFFERED"] = "1"
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def run_useradd(env: Mapping[str, str], args: list[str], input: str | None = None,
                timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """``python useradd.py ARGS`` from the repository root; ``input`` is its whole stdin
    (none at all when None: it never waits for a terminal)."""
    return subprocess.run(
        [sys.executable, "useradd.py", *args], cwd=REPO_ROOT, env=dict(env),
        input=input, stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True, text=True, timeout=timeout,
    )


def run_flask(env: Mapping[str, str], *args: str, input: str | None = None,
              timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """``flask --app jwtauthtest ARGS`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "jwtauthtest", *args], cwd=REPO_ROOT,
        env=dict(env), input=input, stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True, text=True, timeout=timeout,
    )


def run_python(env: Mapping[str, str], code: str,
               timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """``python -c CODE`` from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=dict(env), stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )


def read_line(stream, deadline: float) -> bytes:
    """One line from an unbuffered pipe (``bufsize=0``), waiting at most until ``deadline``
    (a time.monotonic() value); what came before EOF or the deadline otherwise."""
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([stream], [], [], remaining)[0]:
            break
        byte = os.read(stream.fileno(), 1)
        if not byte:
            break
        line += byte
    return line


def stop_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL if it is still running after ``timeout``; always reaped.
    A process started in a session of its own (a server) takes its children with it."""
    own_group = process.pid == _process_group(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if own_group:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # workers a crashed server left behind
        except ProcessLookupError:
            pass


def _process_group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


class ServerProcess:
    """A running server process; a context manager that stops it."""

    def __init__(self, process: subprocess.Popen, port: int, stdout, stderr) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._files = {"stdout": stdout, "stderr": stderr}
        self._final: dict[str, str] = {}

    def _read(self, name: str) -> str:
        if name in self._final:
            return self._final[name]
        # pread leaves the file offset, which the server shares, where it is.
        fd = self._files[name].fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")

    def stdout(self) -> str:
        return self._read("stdout")

    def stderr(self) -> str:
        return self._read("stderr")

    def output(self) -> str:
        return f"--- stdout ---\n{self.stdout()}--- stderr ---\n{self.stderr()}"

    def stop(self) -> None:
        """Stop the server; its output stays readable."""
        if self._final:
            return
        stop_process(self.process)
        for name, f in self._files.items():
            self._final[name] = self._read(name)
            f.close()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class PortInUse(AssertionError):
    """The server could not listen: another program took the port."""


def start_flask(env: Mapping[str, str], port: int | None = None,
                timeout: float = START_TIMEOUT,
                env_for_port: Callable[[int], Mapping[str, str]] | None = None,
                ) -> ServerProcess:
    """Start the development server on 127.0.0.1:PORT and wait until it accepts
    connections; fails with the server's output if it exits or never answers.

    Without a port it takes a free one, and another if something took that one first.
    ``env_for_port`` gives more variables from the port the server gets (such as an origin
    on it).
    """
    if port is not None:
        return _start_flask(env, port, timeout, env_for_port)
    for attempt in range(3):
        try:
            return _start_flask(env, free_port(), timeout, env_for_port)
        except PortInUse:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start_flask(env: Mapping[str, str], port: int, timeout: float,
                 env_for_port: Callable[[int], Mapping[str, str]] | None = None,
                 ) -> ServerProcess:
    if env_for_port is not None:
        env = {**env, **env_for_port(port)}
    argv = [sys.executable, "-m", "flask", "--app", "jwtauthtest", "run", "--port", str(port)]
    # Werkzeug's own startup line, so another program on the port does not pass for it.
    return start_server(argv, env, port, f"Running on http://127.0.0.1:{port}", timeout)


def procfile_command(process_type: str = "web") -> str:
    """The command the Procfile gives for a process type."""
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == process_type:
            return command.strip()
    raise AssertionError(f"the Procfile has no {process_type!r} process")


def start_procfile_server(env: Mapping[str, str], port: int | None = None, workers: int = 2,
                          timeout: float = START_TIMEOUT) -> ServerProcess:
    """The production server as the Procfile's web process starts it (as a hosting
    platform, honcho or foreman would: ``sh -c``, with PORT and WEB_CONCURRENCY), on
    127.0.0.1:PORT; returns once every worker has loaded the app."""
    port = port or free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "GRANIAN_HOST": "127.0.0.1",  # loopback only, in tests
           # the virtualenv's scripts (granian), also when pytest runs without activating it
           "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")}
    argv = ["/bin/sh", "-c", "exec " + procfile_command("web")]
    return start_server(argv, env, port,
                        lambda output: output.count("Started worker-") >= workers, timeout)


def start_server(argv: list[str], env: Mapping[str, str], port: int,
                 ready: str | Callable[[str], bool],
                 timeout: float = START_TIMEOUT, cwd: Path = REPO_ROOT) -> ServerProcess:
    """Run ARGV from the repository root (or CWD) in a session of its own; return once its
    output shows ``ready`` (a text, or a test of the output) and 127.0.0.1:PORT accepts
    connections. Fails with its output if it exits or times out."""

    def is_ready(output: str) -> bool:
        return ready in output if isinstance(ready, str) else ready(output)

    stdout = tempfile.TemporaryFile()
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                               stdout=stdout, stderr=stderr, start_new_session=True)
    server = ServerProcess(process, port, stdout, stderr)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                in_use = f"Port {port} is in use" in server.stderr()
                raise (PortInUse if in_use else AssertionError)(
                    f"the server exited with {process.returncode} before answering on port "
                    f"{port}\n{server.output()}")
            if is_ready(server.stdout() + server.stderr()):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        return server
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the server did not answer on port {port} within {timeout} s\n"
                    f"{server.output()}")
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise


def http(method: str, url: str, body: bytes | str | None = None,
         headers: Mapping[str, str] | None = None,
         timeout: float = HTTP_TIMEOUT) -> tuple[int, HTTPMessage, bytes]:
    """One HTTP request: (status, headers, body), whatever the status."""
    parts = urlsplit(url)
    connection = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        if isinstance(body, str):
            body = body.encode()
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class PtyProcess:
    """A child process whose controlling terminal is a fresh pseudo-terminal.

    ``expect`` waits (bounded) for text in what the terminal shows, ``send``
    types, ``wait`` collects the exit status; ``close`` kills the child if needed.
    """

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: Path | str) -> None:
        env = dict(env)
        pid, fd = pty.fork()
        if pid == 0:  # the child: become the program, never return into pytest
            try:
                os.chdir(cwd)
                os.execve(argv[0], argv, env)  # noqa: S606 (a fixed argv, no shell)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        self.output = b""  # everything the terminal showed so far
        self._seen = 0  # how much of it expect() has consumed
        self._eof = False
        self.returncode: int | None = None

    def _read_some(self, deadline: float) -> bool:
        """Read what is available before the deadline; False at end of output or time."""
        remaining = deadline - time.monotonic()
        if self._eof or remaining <= 0:
            return False
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: every process on the terminal's side has closed it
            data = b""
        if not data:
            self._eof = True
            return False
        self.output += data
        return True

    def expect(self, text: str, timeout: float = 10.0) -> str:
        """Wait until the terminal shows ``text`` after what earlier calls consumed;
        returns the output up to and including it."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while True:
            index = self.output.find(wanted, self._seen)
            if index >= 0:
                end = index + len(wanted)
                consumed = self.output[self._seen:end]
                self._seen = end
                return consumed.decode("utf-8", "replace")
            if not self._read_some(deadline):
                raise AssertionError(
                    f"the terminal did not show {text!r} "
                    f"({'the program ended' if self._eof else f'within {timeout} s'}); "
                    f"it showed: {self.output.decode('utf-8', 'replace')!r}")

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 10.0) -> int:
        """Read the remaining output and return the exit code (-N for signal N)."""
        deadline = time.monotonic() + timeout
        while self._read_some(deadline):
            pass
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            elif time.monotonic() > deadline:
                raise AssertionError(
                    f"the program did not exit within {timeout} s; "
                    f"it showed: {self.output.decode('utf-8', 'replace')!r}")
            else:
                time.sleep(0.02)
        return self.returncode

    def close(self) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "PtyProcess":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
