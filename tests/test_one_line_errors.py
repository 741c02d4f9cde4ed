"""A configuration that can't be used stops every entry point with one line naming what to
change, status 1, no traceback: useradd.py, the flask commands, flask run, the Procfile server."""

import os
import subprocess
import sys

import pytest

from processes import (
    REPO_ROOT,
    instance_path,
    procfile_command,
    run_flask,
    run_useradd,
    subprocess_env,
)


def refusals(env, server=False):
    """What each entry point prints on stderr, and its exit status. The Procfile server
    (which starts its workers again a few times before it gives up, up to ~20 s on a busy
    machine) only when asked."""
    results = {
        "useradd.py": run_useradd(env, ["--username", "a", "--password-stdin"], "a password\n"),
        "flask users list": run_flask(env, "users", "list"),
        "flask run": run_flask(env, "run", "--port", "0")}
    if server:
        results["Procfile server"] = subprocess.run(
            ["/bin/sh", "-c", "exec " + procfile_command("web")], cwd=REPO_ROOT,
            env={**env, "PORT": "0", "GRANIAN_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1",
                 "PATH": f"{os.path.dirname(sys.executable)}:{env['PATH']}"},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90)
    return results


def assert_one_line(results, message):
    for name, result in results.items():
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout, name
        lines = result.stderr.splitlines()
        # The Procfile server says it once for each worker it tried to start.
        assert lines and set(lines) == {f"Error: {message}"}, (name, result.stderr)


@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_secret_file(tmp_path, content):
    env = subprocess_env(tmp_path)
    secret_file = instance_path(tmp_path) / "secret_key"
    secret_file.parent.mkdir(mode=0o700)
    secret_file.write_text(content)
    secret_file.chmod(0o600)
    assert_one_line(refusals(env, server=content == ""),
                    f"{secret_file} is empty: delete it to have a new secret made at the next "
                    "start, or write one in it")


def test_a_secret_file_others_can_read(tmp_path):
    env = subprocess_env(tmp_path)
    secret_file = instance_path(tmp_path) / "secret_key"
    secret_file.parent.mkdir()
    secret_file.write_text("c0ffee" * 11 + "\n")
    secret_file.chmod(0o644)
    assert_one_line(refusals(env), f"{secret_file} is readable or writable by others "
                                   f"(mode 644): run chmod 600 {secret_file}")


def test_a_short_secret_in_the_environment(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY="changeme")
    assert_one_line(refusals(env, server=True),
                    "SECRET_KEY is 8 bytes; a signing secret needs at least 32 random bytes, "
                    "e.g. python -c 'import secrets; print(secrets.token_hex(32))'")
