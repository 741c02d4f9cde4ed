"""Requirements of an app of Flask-JWT 0.3.2's time that don't install or run on Flask 3:
Flask-JWT itself, and pins below what Flask 3 (or Flask-JWT-Revived) needs, in
``requirements*.txt``, a ``Pipfile`` or the ``install_requires`` of a ``setup.py``."""

import ast
import re

from .python import Module
from .report import Edit, Finding, Text

PLACEHOLDER = "<repository URL>"
REVIVED = f"Flask-JWT-Revived @ git+{PLACEHOLDER}#subdirectory=flask-jwt-revived"
REVIVED_IN_PIPFILE = (f'flask-jwt-revived = {{git = "{PLACEHOLDER}", '
                      'subdirectory = "flask-jwt-revived"}')

# The lowest release of each that runs with Flask 3, and what it is needed by. A pin that
# allows nothing from there on is moved up to it; pip then picks the newest release.
FLOORS = {
    "flask": ("3.0", "Flask 3"),
    "werkzeug": ("3.0", "Flask 3"),
    "jinja2": ("3.1.2", "Flask 3"),
    "itsdangerous": ("2.1.2", "Flask 3"),
    "click": ("8.1.3", "Flask 3"),
    "blinker": ("1.6.2", "Flask 3"),
    "markupsafe": ("2.1.1", "Werkzeug 3"),
    # 0.3.8 and older import flask.helpers._endpoint_from_view_func, which Flask 3 lacks.
    "flask-restful": ("0.3.9", "Flask 3"),
    # 2.x imports flask._app_ctx_stack (gone in Flask 3.0); 3.0.0-3.0.1 fail on SQLAlchemy 2.
    "flask-sqlalchemy": ("3.0.2", "Flask 3"),
    "sqlalchemy": ("1.4.18", "Flask-SQLAlchemy 3"),
    "pyjwt": ("2.13", "Flask-JWT-Revived"),
}

NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
# A requirement: its name, extras, and version clauses, up to a marker, URL or comment.
REQUIREMENT = re.compile(rf"(?P<name>{NAME})(?P<extras>\s*\[[^\]]*\])?(?P<spec>[^;@#\\]*)")
CLAUSE = re.compile(r"\s*(?P<op>===|==|~=|<=|<|!=|>=|>)\s*(?P<version>\S+)\s*")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str) -> tuple[int, ...]:
    """The release numbers a version begins with (``1.1.2rc1``: 1, 1, 2)."""
    found = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in found.group().split(".")) if found else (0,)


def padded(numbers: tuple[int, ...], length: int) -> tuple[int, ...]:
    return numbers + (0,) * (length - len(numbers))


def allows_from(spec: str, floor: str) -> bool:
    """Whether the version clauses allow some release at or above the floor: only their
    upper bounds (``==``, ``<``, ``<=``, ``~=``) can keep it out."""
    lowest = release(floor)
    for clause in filter(None, (part.strip() for part in spec.split(","))):
        found = CLAUSE.fullmatch(clause)
        if not found:
            continue
        op, version = found["op"], found["version"]
        numbers = release(version)
        size = max(len(numbers), len(lowest)) + 1
        if op in ("==", "===") and version.endswith(".*"):
            if numbers < lowest[:len(numbers)]:
                return False
        elif op in ("==", "===", "<="):
            if padded(numbers, size) < padded(lowest, size):
                return False
        elif op == "<":
            if padded(numbers, size) <= padded(lowest, size):
                return False
        elif op == "~=" and len(numbers) > 1:
            ceiling = numbers[:-2] + (numbers[-2] + 1,)
            if padded(ceiling, size) <= padded(lowest, size):
                return False
    return True


def judge(name: str, spec: str) -> tuple[str, str] | None:
    """What is wrong with a requirement of this name and version clauses, and the floor
    (``>=3.0``) it must move to; for Flask-JWT, an empty floor. None when nothing is."""
    key = canonical(name)
    if key == "flask-jwt":
        return "Flask-JWT's last release (0.3.2) neither installs nor runs on today's " \
               "Python and Flask", ""
    if key in FLOORS and not allows_from(spec, FLOORS[key][0]):
        floor, needed_by = FLOORS[key]
        return f"{name}{spec.strip()} is too old for {needed_by}", f">={floor}"
    return None


PLACEHOLDER_LEFT = (f"the Flask-JWT-Revived requirement still says {PLACEHOLDER}",
                    "the address of the Git repository that holds flask-jwt-revived")


def placeholder_left(text: Text, number: int) -> Finding | None:
    return Finding(number, *PLACEHOLDER_LEFT) if PLACEHOLDER in text.body(number) else None


def moved(requirement: str, found: re.Match, floor: str) -> str:
    """The requirement with its version clauses replaced by the floor."""
    end = found.start("spec") + len(found["spec"].rstrip())
    return (requirement[:found.start()] + found["name"] + (found["extras"] or "").strip()
            + floor + requirement[end:])


def check_requirements_txt(text: Text) -> list[Finding]:
    """The lines of a pip requirements file."""
    findings = []
    for number in range(1, len(text.lines) + 1):
        finding = placeholder_left(text, number) or requirement_line(text, number)
        findings += [finding] if finding else []
    return findings


def requirement_line(text: Text, number: int) -> Finding | None:
    body = text.body(number)
    requirement = body.strip()
    found = REQUIREMENT.match(requirement)
    verdict = found and judge(found["name"], found["spec"])
    if not verdict:
        return None
    problem, floor = verdict
    comment = re.search(r"\s+#.*", requirement)  # (a URL's #fragment has no space before it)
    if comment:
        requirement = requirement[:comment.start()]
    new = moved(requirement, found, floor) if floor else REVIVED
    fix = new if floor else f"{REVIVED}, filling in {PLACEHOLDER}"
    start = text.starts[number - 1] + len(body) - len(body.lstrip())
    return Finding(number, problem, fix, (Edit(start, start + len(requirement), new),))


PIPFILE_ENTRY = re.compile(rf'\s*"?(?P<name>{NAME})"?\s*=\s*(?P<value>.*?)\s*$')
PIPFILE_SPEC = re.compile(r'^(?P<lead>"|\{.*?\bversion\s*=\s*")(?P<spec>[^"]*)"')
NOT_PACKAGES = {"source", "requires", "scripts", "pipenv"}


def check_pipfile(text: Text) -> list[Finding]:
    """The package entries of a Pipfile (``name = "spec"`` or ``{version = "spec", ...}``)."""
    findings, section = [], ""
    for number in range(1, len(text.lines) + 1):
        header = re.match(r"\s*\[+\s*([^\]]+?)\s*\]", text.body(number))
        if header:
            section = header.group(1)
            continue
        finding = placeholder_left(text, number)
        if not finding and section not in NOT_PACKAGES:
            finding = pipfile_entry(text, number)
        elif not finding and section == "requires":
            finding = python_required(text, number)
        findings += [finding] if finding else []
    return findings


def pipfile_entry(text: Text, number: int) -> Finding | None:
    body = text.body(number)
    entry = PIPFILE_ENTRY.match(body)
    spec = entry and PIPFILE_SPEC.match(entry["value"])
    verdict = entry and judge(entry["name"], spec["spec"] if spec else "")
    if not verdict:
        return None  # (a Git or path entry has no version, and no upper bound)
    problem, floor = verdict
    start = text.starts[number - 1]
    if floor:
        at = entry.start("value") + spec.end("lead")
        edit = Edit(start + at, start + at + len(spec["spec"]), floor)
        return Finding(number, problem, (body[:at] + floor + body[at + len(spec["spec"]):]).strip(),
                       (edit,))
    edit = Edit(start + len(body) - len(body.lstrip()), start + len(body), REVIVED_IN_PIPFILE)
    fix = f"{REVIVED_IN_PIPFILE}, filling in {PLACEHOLDER}, then pipenv lock"
    return Finding(number, problem, fix, (edit,))


LOWEST_PYTHON = "3.10"  # Flask-JWT-Revived's requires-python


def python_required(text: Text, number: int) -> Finding | None:
    """``python_version`` (or ``python_full_version``) of a Pipfile's ``[requires]`` below
    the lowest Python Flask-JWT-Revived runs on: by hand, since it is the deployment's."""
    found = re.match(r'\s*(python_(?:full_)?version)\s*=\s*"([^"]*)"', text.body(number))
    if not found or release(found[2]) >= release(LOWEST_PYTHON):
        return None
    return Finding(number, f"{found[1]} {found[2]} is older than Flask-JWT-Revived runs on",
                   f"the Python your deployment runs, {LOWEST_PYTHON} or later")


def check_install_requirement(requirement: str) -> tuple[str, str] | None:
    """For a string of setup.py's ``install_requires``: the problem and the new string."""
    found = REQUIREMENT.match(requirement)
    verdict = found and judge(found["name"], found["spec"])
    if not verdict:
        return None
    problem, floor = verdict
    return problem, moved(requirement, found, floor) if floor else REVIVED


def install_requires(module: Module) -> list[Finding]:
    """The requirement strings of ``setup(install_requires=[...])``, as requirements.txt's."""
    findings = []
    for node in module.nodes:
        if not (isinstance(node, ast.keyword) and node.arg == "install_requires"
                and isinstance(node.value, (ast.List, ast.Tuple))):
            continue
        for item in node.value.elts:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                findings += [install_requirement(module, item)]
    return [finding for finding in findings if finding]


def install_requirement(module: Module, item: ast.Constant) -> Finding | None:
    if PLACEHOLDER in item.value:
        return Finding(item.lineno, *PLACEHOLDER_LEFT)
    verdict = check_install_requirement(item.value)
    if verdict is None:
        return None
    problem, new = verdict
    fix = f"{new}, filling in {PLACEHOLDER}" if new == REVIVED else new
    source = module.segment(item)
    if source[0] not in "'\"" or source.startswith(source[0] * 3) or source[0] in new:
        return Finding(item.lineno, problem, fix)
    return Finding(item.lineno, problem, fix, (Edit(*module.span(item),
                                                    source[0] + new + source[0]),))
