"""./pipenv, the Quick start's pipenv (issue 33): its one-line refusals — a Python older than
3.11, one without its venv module, none on PATH — and the pip check after an install, run as
the real script with stand-in Pythons and a stand-in pipenv (so no network, no install)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from processes import REPO_ROOT

VERSION = next(line.split("=", 1)[1] for line in (REPO_ROOT / "pipenv").read_text().splitlines()
               if line.startswith("version="))


def fake(path: Path, script: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A folder holding the script alone, as a fresh clone has it (no .tools yet)."""
    shutil.copy(REPO_ROOT / "pipenv", tmp_path / "pipenv")
    return tmp_path


def run(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(checkout / "pipenv"), *args], capture_output=True, text=True,
                          timeout=30, env={"PATH": os.environ["PATH"], "HOME": str(checkout),
                                           **env})


def python(checkout: Path, version: str, venv_works: bool = True) -> Path:
    """A python3 that says it is this version, and makes venvs (or can't)."""
    return fake(checkout / "bin" / "python3", f"""
case "$1" in
  -c) [ "{version}" \\> "3.11" ] || [ "{version}" = "3.11" ] ;;
  -V) echo "Python {version}" ;;
  -m) {'mkdir -p "$3/bin"' if venv_works else 'echo "No module named venv" >&2; exit 1'} ;;
esac
""")


def test_a_python_older_than_3_11_is_refused_in_one_line(checkout):
    old = python(checkout, "3.10.13")
    result = run(checkout, "sync", JWTAUTHTEST_PYTHON=str(old))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"Error: jwtauthtest needs Python 3.11 or newer; {old} is Python " \
                            "3.10.13\n"
    assert not (checkout / ".tools").exists()


def test_a_python_without_venv_says_what_to_install(checkout):
    bare = python(checkout, "3.11.2", venv_works=False)
    result = run(checkout, "sync", JWTAUTHTEST_PYTHON=str(bare))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"Error: {bare} can't make a virtual environment: install its "
                             "venv module (Debian and Ubuntu: sudo apt install python3-venv), "
                             "then run this again\n")


def test_no_python_on_path_says_so(checkout):
    result = run(checkout, "sync", JWTAUTHTEST_PYTHON="python3-nowhere")
    assert (result.returncode, result.stderr) == (
        1, "Error: no python3-nowhere on PATH: install Python 3.11 or newer (or set "
           "JWTAUTHTEST_PYTHON)\n")


def installed_pipenv(checkout: Path, pip_check: str) -> Path:
    """.tools/pipenv as the script leaves it, with a stand-in pipenv that logs its arguments
    and whose environment's pip check answers as told."""
    tool = checkout / ".tools" / "pipenv"
    fake(tool / "bin" / "pipenv", f"""
echo "$*" >>"{checkout}/calls"
[ "$*" = "run python -m pip check" ] && {{ {pip_check}; }}
exit 0
""")
    (tool / ".version").write_text(VERSION + "\n")
    return tool


def test_an_install_that_left_a_package_out_stops_with_pip_checks_words(checkout):
    installed_pipenv(checkout, "echo 'redis 8.1.0 requires async-timeout, which is not "
                               "installed.'; exit 1")
    result = run(checkout, "sync", "--dev")
    assert result.returncode == 1
    assert result.stderr == ("Error: the environment lacks what its packages need (redis "
                             "8.1.0 requires async-timeout, which is not installed.)\n")
    assert (checkout / "calls").read_text() == "sync --dev\nrun python -m pip check\n"


def test_a_complete_install_passes_and_other_commands_go_straight_to_pipenv(checkout):
    installed_pipenv(checkout, "echo 'No broken requirements found.'")
    assert run(checkout, "sync").returncode == 0
    assert run(checkout, "run", "flask", "--version").returncode == 0
    assert (checkout / "calls").read_text() == \
        "sync\nrun python -m pip check\nrun flask --version\n"


def test_the_projects_environment_is_in_the_checkout(checkout):
    tool = installed_pipenv(checkout, "true")
    fake(tool / "bin" / "pipenv", 'echo "$PIPENV_VENV_IN_PROJECT $PIPENV_VERBOSITY"\n')
    assert run(checkout, "--venv").stdout == "1 -1\n"
    assert run(checkout, "--venv", PIPENV_VENV_IN_PROJECT="0").stdout == "0 -1\n"
