"""The upgrade checker's command line (``flask-jwt-upgrade``, ``python -m flask_jwt.upgrade``)
on the course-style apps in course_apps/: what it reports, the diff of ``--write``, what is
left, and its exit statuses. (Whether the apps then run is run_course_apps.py's, in CI.)"""

import ast
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import flask_jwt.upgrade
import pytest
from flask_jwt.upgrade.cli import main

COURSE_APPS = Path(__file__).parent / "course_apps"
SHORT_SECRET = ("a secret of {} bytes signs the tokens: PyJWT warns below 32, and it can be "
                "guessed; by hand: at least 32 random bytes, from the environment (e.g. "
                "secrets.token_hex(32))")
FLASK_JWT = ("Flask-JWT's last release (0.3.2) neither installs nor runs on today's Python "
             "and Flask; --write: Flask-JWT-Revived @ git+<repository URL>"
             "#subdirectory=flask-jwt-revived, filling in <repository URL>")
URL_LEFT = ("the Flask-JWT-Revived requirement still says <repository URL>; by hand: the "
            "address of the Git repository that holds flask-jwt-revived")
SAFE_STR_CMP = [
    "security.py:2: safe_str_cmp is gone from Werkzeug 2.1; --write: import hmac in its place",
    "security.py:7: safe_str_cmp is gone from Werkzeug 2.1; --write: "
    "hmac.compare_digest(user.password.encode(), password.encode())"]
FIRST_REQUEST = ("@app.before_first_request is gone from Flask 2.3; --write: @app.before_request "
                 "and @functools.cache: create_tables runs once, at the first request")

# What the checker reports on each app, line for line, and what --write leaves.
REPORTS = {
    "memory_store": [
        f"app.py:7: {SHORT_SECRET.format(4)}",
        f"requirements.txt:3: {FLASK_JWT}",
        "2 findings in 2 of 4 files: 1 for --write, 1 by hand"],
    "items_sqlalchemy": [
        f"app.py:11: {SHORT_SECRET.format(4)}",
        f"app.py:15: {FIRST_REQUEST}",
        "requirements.txt:2: click==7.1.2 is too old for Flask 3; --write: click>=8.1.3",
        "requirements.txt:3: Flask==1.1.2 is too old for Flask 3; --write: Flask>=3.0",
        f"requirements.txt:4: {FLASK_JWT}",
        "requirements.txt:5: Flask-RESTful==0.3.8 is too old for Flask 3; --write: "
        "Flask-RESTful>=0.3.9",
        "requirements.txt:6: Flask-SQLAlchemy==2.4.4 is too old for Flask 3; --write: "
        "Flask-SQLAlchemy>=3.0.2",
        "requirements.txt:7: itsdangerous==1.1.0 is too old for Flask 3; --write: "
        "itsdangerous>=2.1.2",
        "requirements.txt:8: Jinja2==2.11.2 is too old for Flask 3; --write: Jinja2>=3.1.2",
        "requirements.txt:9: MarkupSafe==1.1.1 is too old for Werkzeug 3; --write: "
        "MarkupSafe>=2.1.1",
        "requirements.txt:10: PyJWT==1.4.2 is too old for Flask-JWT-Revived; --write: "
        "PyJWT>=2.13",
        "requirements.txt:13: SQLAlchemy==1.3.19 is too old for Flask-SQLAlchemy 3; --write: "
        "SQLAlchemy>=1.4.18",
        "requirements.txt:14: Werkzeug==1.0.1 is too old for Flask 3; --write: Werkzeug>=3.0",
        *SAFE_STR_CMP,
        "15 findings in 3 of 10 files: 14 for --write, 1 by hand"],
    "stores_uwsgi": [
        f"app.py:17: {SHORT_SECRET.format(4)}",
        "auth.py:2: safe_str_cmp is gone from Werkzeug 2.1; --write: import hmac in its place",
        "auth.py:7: safe_str_cmp is gone from Werkzeug 2.1; --write: hmac.compare_digest("
        "user.password.encode('utf-8'), password.encode('utf-8'))",
        "requirements.txt:2: Flask-RESTful==0.3.7 is too old for Flask 3; --write: "
        "Flask-RESTful>=0.3.9",
        f"requirements.txt:3: {FLASK_JWT}",
        "requirements.txt:4: Flask-SQLAlchemy==2.4.1 is too old for Flask 3; --write: "
        "Flask-SQLAlchemy>=3.0.2",
        f"run.py:7: {FIRST_REQUEST}",
        "7 findings in 4 of 7 files: 6 for --write, 1 by hand"],
    "custom_tokens": [
        f"app.py:10: {SHORT_SECRET.format(17)}",
        "app.py:55: PyJWT 2's jwt.encode returns str, which has no .decode(); --write: drop "
        ".decode('utf-8')",
        "app.py:60: PyJWT 2's jwt.decode refuses every token without algorithms=; by hand: "
        "name the algorithm your tokens are signed with, e.g. algorithms=['HS256']",
        "requirements.txt:1: Flask==1.0.2 is too old for Flask 3; --write: Flask>=3.0",
        f"requirements.txt:2: {FLASK_JWT}",
        "requirements.txt:3: Flask-RESTful==0.3.6 is too old for Flask 3; --write: "
        "Flask-RESTful>=0.3.9",
        "requirements.txt:4: PyJWT==1.4.2 is too old for Flask-JWT-Revived; --write: "
        "PyJWT>=2.13",
        "requirements.txt:5: Werkzeug==0.14.1 is too old for Flask 3; --write: Werkzeug>=3.0",
        "8 findings in 2 of 2 files: 6 for --write, 2 by hand"],
}
# What --write leaves, and the line that ends its output.
LEFT = {
    "memory_store": ([f"app.py:7: {SHORT_SECRET.format(4)}", f"requirements.txt:3: {URL_LEFT}"],
                     "wrote 1 file; 2 findings left to fix by hand"),
    "items_sqlalchemy": ([f"app.py:12: {SHORT_SECRET.format(4)}",
                          f"requirements.txt:4: {URL_LEFT}"],
                         "wrote 3 files; 2 findings left to fix by hand"),
    "stores_uwsgi": ([f"app.py:17: {SHORT_SECRET.format(4)}", f"requirements.txt:3: {URL_LEFT}"],
                     "wrote 3 files; 2 findings left to fix by hand"),
    "custom_tokens": ([f"app.py:10: {SHORT_SECRET.format(17)}", REPORTS["custom_tokens"][2],
                       f"requirements.txt:2: {URL_LEFT}"],
                      "wrote 2 files; 3 findings left to fix by hand"),
}


def upgrade(capsys, *arguments: object) -> tuple[int, list[str], str]:
    """The checker's exit status, its lines on standard output, and its standard error."""
    status = main([str(argument) for argument in arguments])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def fingerprint(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def copy_of(tmp_path):
    return lambda name: shutil.copytree(COURSE_APPS / name, tmp_path / name)


@pytest.mark.parametrize("name", REPORTS)
def test_it_reports_each_course_apps_findings_and_changes_nothing(capsys, copy_of, name):
    folder = copy_of(name)
    before = fingerprint(folder)
    assert upgrade(capsys, folder) == (1, REPORTS[name], "")
    assert fingerprint(folder) == before


@pytest.mark.parametrize("name", LEFT)
def test_write_prints_its_diff_and_what_is_left_then_finds_nothing_more_to_write(
        capsys, copy_of, name):
    folder = copy_of(name)
    diff = (COURSE_APPS / f"{name}.diff").read_text().splitlines()
    left, summary = LEFT[name]
    assert upgrade(capsys, "--write", folder) == (1, [*diff, *left, summary], "")
    again = f"wrote 0 files; {len(left)} findings left to fix by hand"
    assert upgrade(capsys, "--write", folder) == (1, [*left, again], "")


def test_the_written_code_parses_and_keeps_everything_but_the_fixes(capsys, copy_of):
    folder = copy_of("stores_uwsgi")
    upgrade(capsys, "--write", folder)
    run = (folder / "run.py").read_text()
    assert run == (COURSE_APPS / "stores_uwsgi" / "run.py").read_text().replace(
        "from app import app", "import functools\nfrom app import app").replace(
        "@app.before_first_request\n", "@app.before_request\n"
        "@functools.cache  # once: Flask 2.3 removed before_first_request\n")
    ast.parse(run)
    # db.init_app stays where it was, at import, before the hook
    assert run.index("db.init_app(app)") < run.index("@app.before_request")


def test_an_app_with_nothing_to_change_exits_0(capsys, tmp_path):
    (tmp_path / "requirements.txt").write_text("Flask>=3\nFlask-RESTful\n")
    (tmp_path / "app.py").write_text("import os\n\nSECRET_KEY = os.environ['SECRET_KEY']\n")
    assert upgrade(capsys, tmp_path) == (0, ["no findings in 2 files"], "")
    assert upgrade(capsys, "--write", tmp_path) == \
        (0, ["wrote 0 files; 0 findings left to fix by hand"], "")


def test_one_file_may_be_checked_alone(capsys):
    path = COURSE_APPS / "custom_tokens" / "requirements.txt"
    status, lines, _ = upgrade(capsys, path)
    assert (status, lines[0]) == (1, REPORTS["custom_tokens"][3])
    assert lines[-1] == "5 findings in 1 of 1 file: 5 for --write, 0 by hand"


def test_virtual_environments_and_hidden_folders_are_not_the_apps(capsys, tmp_path):
    for folder in ("venv", ".git", "env/lib", "__pycache__"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "requirements.txt").write_text("Flask-JWT==0.3.2\n")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "env" / "bin").mkdir()
    (tmp_path / "env" / "bin" / "activate").write_text("")
    assert upgrade(capsys, tmp_path) == (0, ["no findings in 0 files"], "")


def missing(folder: Path) -> Path:
    return folder / "nowhere"


def dangling_link(folder: Path) -> Path:
    (folder / "app.py").symlink_to(folder / "gone.py")
    return folder


def not_utf_8(folder: Path) -> Path:
    (folder / "requirements.txt").write_bytes(b"Flask==1.0\n\xff\n")
    return folder


def other_file(folder: Path) -> Path:
    (folder / "notes.txt").write_text("")
    return folder / "notes.txt"


@pytest.mark.parametrize("make,message", [
    (missing, "no such file or folder: {path}/nowhere"),
    (dangling_link, "can't read app.py: No such file or directory"),
    (not_utf_8, "can't read requirements.txt: it is not utf-8 text"),
    (other_file, "not a folder, .py file, requirements*.txt or Pipfile: {path}/notes.txt"),
])
def test_what_it_cannot_read_is_one_line_and_exit_2(capsys, tmp_path, make, message):
    assert upgrade(capsys, make(tmp_path)) == \
        (2, [], f"flask-jwt-upgrade: {message.format(path=tmp_path)}\n")


def test_wrong_arguments_are_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main([])
    assert (exited.value.code, capsys.readouterr().err) == \
        (2, "flask-jwt-upgrade: the following arguments are required: PATH\n")


def test_a_file_it_cannot_write_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("Flask-JWT\n")

    def refuse(path, data):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_bytes", refuse)
    status, _, err = upgrade(capsys, "--write", tmp_path)
    assert (status, err) == (2, "flask-jwt-upgrade: can't write requirements.txt: "
                                "Permission denied\n")
    assert (tmp_path / "requirements.txt").read_text() == "Flask-JWT\n"


def run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(arguments, capture_output=True, text=True,  # noqa: S603 (ours)
                          timeout=60)


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "flask_jwt.upgrade"],
    [str(Path(sys.executable).with_name("flask-jwt-upgrade"))]], ids=["-m", "console-script"])
def test_both_commands_run_the_checker(command):
    assert Path(command[0]).exists(), f"{command[0]} is missing: install the distribution " \
        "again (an install older than 0.5.0 has no flask-jwt-upgrade)"
    result = run(*command, str(COURSE_APPS / "memory_store"))
    assert (result.returncode, result.stdout.splitlines(), result.stderr) == \
        (1, REPORTS["memory_store"], "")
    help_text = " ".join(run(*command, "--help").stdout.split())
    assert "Exit status: 0 nothing found, 1 found something (with --write: and made the " \
           "fixes it could), 2 couldn't run." in help_text


def test_the_checker_imports_the_standard_library_only():
    imported = set()
    for module in Path(flask_jwt.upgrade.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert imported - sys.stdlib_module_names == set()
