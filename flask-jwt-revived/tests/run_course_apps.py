"""The apps in course_apps/, written in the style of the courses of Flask-JWT 0.3.2's time,
tried as their owners would on today's stack, each time in a clean virtual environment with
the built wheel: as they were, with Flask-JWT-Revived in Flask-JWT's place (what the 0.4.0
README said to do); after ``flask-jwt-upgrade --write``; and after the changes it leaves
for by hand. A visit logs in at the login route and asks a protected Flask-RESTful resource,
which answers with ``current_identity``.

    python run_course_apps.py WHEEL WORK    (as .ci/flask_jwt_dist.sh does; needs PyPI and
                                            flask-jwt-upgrade beside this Python)
    python run_course_apps.py --visit APP   (in the app's environment, from its folder)

Standard library only, but for the visit, which needs the app's own requirements.
"""

import importlib
import json
import re
import runpy
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
PLACEHOLDER_URL = "git+<repository URL>#subdirectory=flask-jwt-revived"
TOKEN = "<token>"  # what a login answer's access_token is compared as


@dataclass(frozen=True)
class Step:
    method: str
    path: str
    body: dict | None
    prefix: str | None  # the Authorization header's word before the token; None: no header
    status: int
    answer: dict


@dataclass(frozen=True)
class CourseApp:
    entry: str  # a file run as __main__ (with app.run() doing nothing), or a module imported
    steps: tuple[Step, ...]
    as_it_was: str  # what a visit gives, or why there was none
    after_write: str
    by_hand: tuple[tuple[str, str, str], ...] = ()  # (file, text, replacement) after --write
    after_hand: str = ""


def refused(description: str, error: str = "Invalid token") -> dict:
    return {"status_code": 401, "error": error, "description": description}


NO_TOKEN = refused("Request does not contain an access token", "Authorization Required")
CONFLICT = "pip: conflicting requirements"
BOB = {"username": "bob", "password": "asdf"}
REGISTER_BOB = Step("POST", "/register", BOB, None, 201, {"message": "User created successfully."})
ALGORITHMS = 'It is required that you pass in a value for the "algorithms" argument when ' \
             "calling decode()."

APPS = {
    "memory_store": CourseApp("app.py", (
        Step("POST", "/auth", BOB, None, 200, {"access_token": TOKEN}),
        Step("POST", "/store/corner", None, "JWT", 201,
             {"name": "corner", "owner": "bob", "items": []}),
        Step("GET", "/store/corner", None, "JWT", 200,
             {"name": "corner", "owner": "bob", "items": []}),
        Step("GET", "/store/corner", None, None, 401, NO_TOKEN),
    ), as_it_was="runs", after_write="runs"),
    "items_sqlalchemy": CourseApp("app.py", (
        REGISTER_BOB,
        Step("POST", "/auth", BOB, None, 200, {"access_token": TOKEN}),
        Step("POST", "/item/chair", {"price": 15.99}, None, 201,
             {"name": "chair", "price": 15.99}),
        Step("GET", "/item/chair", None, "JWT", 200,
             {"item": {"name": "chair", "price": 15.99}, "requested_by": "bob"}),
        Step("GET", "/item/chair", None, "Bearer", 401,
             refused("Unsupported authorization type", "Invalid JWT header")),
    ), as_it_was=CONFLICT, after_write="runs"),
    "stores_uwsgi": CourseApp("run", (
        Step("POST", "/signup", BOB, None, 201, {"message": "Signed up."}),
        Step("POST", "/login", BOB, None, 200, {"access_token": TOKEN, "user_id": 1}),
        Step("POST", "/store/corner", None, "JWT", 201, {"name": "corner", "owner": "bob"}),
        Step("GET", "/store/corner", None, "JWT", 200, {"name": "corner", "owner": "bob"}),
        Step("GET", "/whoami", None, "JWT", 200, {"user_id": 1, "username": "bob"}),
        Step("GET", "/whoami", None, None, 401, NO_TOKEN),
    ), as_it_was="ImportError: cannot import name '_app_ctx_stack' from 'flask'",
        after_write="runs"),
    "custom_tokens": CourseApp("app.py", (
        Step("POST", "/auth", {"username": "ada", "password": "lovelace"}, None, 200,
             {"access_token": TOKEN, "role": "admin"}),
        Step("GET", "/profile", None, "Bearer", 200, {"username": "ada", "role": "admin"}),
    ), as_it_was=CONFLICT,
        after_write=f"GET /profile answered 401 {json.dumps(refused(ALGORITHMS), sort_keys=True)}",
        # The algorithm is the app's to name: PyJWT 1 took any the token's header named.
        by_hand=(("app.py", "leeway=app.config['JWT_LEEWAY'])",
                  "leeway=app.config['JWT_LEEWAY'], algorithms=['HS256'])"),),
        after_hand="runs"),
}


def load_app(entry: str):
    """The app as its owner ran it: ``python app.py``, or ``module = run`` for uWSGI."""
    import flask  # (only here: the visit runs in the app's environment, which has Flask)

    sys.path[0] = str(Path.cwd())  # the app's folder, as for `python app.py`
    if not entry.endswith(".py"):
        return importlib.import_module(entry).app
    started = []
    flask.Flask.run = lambda app, *args, **kwargs: started.append(app)
    return runpy.run_path(entry, run_name="__main__")["app"]


def visit(name: str) -> str:
    """``runs`` when every step answers as expected, else the first that doesn't."""
    course_app, token = APPS[name], ""
    try:
        client = load_app(course_app.entry).test_client()
        for step in course_app.steps:
            headers = {"Authorization": f"{step.prefix} {token}"} if step.prefix else {}
            response = client.open(step.path, method=step.method, json=step.body,
                                   headers=headers)
            answer = response.get_json(silent=True)
            if isinstance(answer, dict) and "access_token" in answer:
                token, answer = answer["access_token"], {**answer, "access_token": TOKEN}
            if (response.status_code, answer) != (step.status, step.answer):
                return f"{step.method} {step.path} answered {response.status_code} " \
                       f"{json.dumps(answer, sort_keys=True)}"
    except Exception as error:  # noqa: BLE001 (the outcome to report)
        message = re.sub(r" \(/[^)]*\)$", "", str(error).splitlines()[0] if str(error) else "")
        return f"{type(error).__name__}: {message}"
    return "runs"


def command(*arguments: object, **options) -> subprocess.CompletedProcess:
    """Runs one of ours (venv, pip, the checker, a visit), its output kept as text."""
    return subprocess.run([str(argument) for argument in arguments],  # noqa: S603 (ours)
                          capture_output=True, text=True, **options)


def install_and_visit(name: str, folder: Path, requirements: list[str]) -> str:
    environment = folder.with_name(folder.name + "-venv")
    command(sys.executable, "-m", "venv", "--without-pip", environment, check=True)
    python = environment / "bin" / "python"
    pip = command(sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                  "--no-compile", *requirements)
    if pip.returncode:
        return CONFLICT if "ResolutionImpossible" in pip.stderr else \
            f"pip: {pip.stderr.strip().splitlines()[-1]}"
    return visit_in(name, folder, python)


def visit_in(name: str, folder: Path, python: Path) -> str:
    result = command(python, Path(__file__).resolve(), "--visit", name, cwd=folder,
                     timeout=120)
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else f"no outcome: {result.stderr.strip()[-500:]}"


def is_flask_jwt(line: str) -> bool:
    return re.match(r"\s*flask[-_.]jwt\s*($|[=<>~!;\[@ ])", line, re.IGNORECASE) is not None


def outcomes(name: str, wheel: Path, work: Path) -> list[str]:
    """What each try gave: as it was, after --write, and after the changes by hand."""
    course_app = APPS[name]
    as_it_was = shutil.copytree(HERE / "course_apps" / name, work / name / "as-it-was")
    kept = [line for line in (as_it_was / "requirements.txt").read_text().splitlines()
            if line.strip() and not is_flask_jwt(line)]
    found = [install_and_visit(name, as_it_was, [str(wheel), *kept])]
    written = shutil.copytree(HERE / "course_apps" / name, work / name / "written")
    checker = Path(sys.executable).with_name("flask-jwt-upgrade")
    run = command(checker, "--write", written)
    if run.returncode != 1:
        return [*found, f"flask-jwt-upgrade --write exited {run.returncode}: {run.stderr}"]
    requirements = written / "requirements.txt"
    requirements.write_text(requirements.read_text().replace(PLACEHOLDER_URL, wheel.as_uri()))
    found.append(install_and_visit(name, written, ["-r", str(requirements)]))
    for file, text, replacement in course_app.by_hand:
        source = written / file
        source.write_text(source.read_text().replace(text, replacement))
    if course_app.by_hand:
        found.append(visit_in(name, written, written.with_name("written-venv") / "bin" / "python"))
    return found


def main(wheel: Path, work: Path) -> int:
    with ThreadPoolExecutor(len(APPS)) as pool:  # (mostly waiting on pip and PyPI)
        found = dict(zip(APPS, pool.map(lambda name: outcomes(name, wheel.resolve(),
                                                              work.resolve()), APPS),
                         strict=True))
    mismatches, kinds = 0, []
    labels = ["as it was", "after --write", "after changes by hand"]
    for name, course_app in APPS.items():
        expected = [course_app.as_it_was, course_app.after_write] + \
            ([course_app.after_hand] if course_app.by_hand else [])
        print(f"{name}: " + "; ".join(f"{label}: {outcome}"
                                      for label, outcome in zip(labels, found[name],
                                                                strict=False)))
        if found[name] != expected:
            mismatches += 1
            print(f"  expected: {'; '.join(expected)}")
        kinds.append("unchanged" if found[name][0] == "runs" else
                     "--write" if found[name][1] == "runs" else "by hand")
    print(f"{len(APPS)} course apps: {kinds.count('unchanged')} run unchanged, "
          f"{kinds.count('--write')} after --write, {kinds.count('by hand')} only after "
          "changes by hand")
    return 1 if mismatches else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--visit"]:
        print(visit(sys.argv[2]))
    else:
        sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
