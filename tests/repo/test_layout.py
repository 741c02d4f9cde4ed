"""The package's shape (issue 24): the tutorial's modules on top, the rest in subpackages,
imports pointing one way and never in a circle, no module over 250 lines."""

import importlib.util
import subprocess
import sys

from processes import REPO_ROOT

spec = importlib.util.spec_from_file_location("layout", REPO_ROOT / "tools" / "layout.py")
layout = importlib.util.module_from_spec(spec)
spec.loader.exec_module(layout)

TUTORIAL = {"__init__", "views", "database", "models", "jwt"}
# What storage and the lower concerns are: none of them may import what sits on top of them.
LOWER = ("jwtauthtest.settings", "jwtauthtest.secret", "jwtauthtest.database", "jwtauthtest.models",
         "jwtauthtest.schema", "jwtauthtest.entrypoints", "jwtauthtest.users",
         "jwtauthtest.passwords", "jwtauthtest.keys", "jwtauthtest.tokens", "jwtauthtest.ops",
         "jwtauthtest.throttle", "jwtauthtest.second_factor",
         "jwtauthtest.passkeys", "jwtauthtest.web", "jwtauthtest.mail",
         "jwtauthtest.addresses", "jwtauthtest.clients")
UPPER = ("jwtauthtest.views", "jwtauthtest.jwt", "jwtauthtest.account", "jwtauthtest.cli",
         "jwtauthtest.apidocs", "jwtauthtest.services")


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_tutorials_modules_are_on_top_with_at_most_ten_in_all():
    top = {path.stem for path in layout.PACKAGE.glob("*.py")}
    assert TUTORIAL <= top
    assert len(top) <= 10, sorted(top)


def test_every_subpackage_says_what_it_owns_and_may_import():
    for init in layout.PACKAGE.glob("*/__init__.py"):
        docstring = layout.ast.get_docstring(layout.ast.parse(init.read_text())) or ""
        assert "May import" in docstring or "may import" in docstring, init


def test_no_module_is_over_250_lines():
    sources = [*layout.PACKAGE.rglob("*.py"),
               *(REPO_ROOT / "flask-jwt-revived" / "src").rglob("*.py")]
    long = {str(p.relative_to(REPO_ROOT)): n for p in sources
            if (n := len(p.read_text().splitlines())) > 250}
    assert long == {}


def test_lower_concerns_never_import_what_sits_on_them():
    wrong = {(name, target) for name, targets in layout.graph().items() if within(name, LOWER)
             for target in targets if within(target, UPPER) or target == "jwtauthtest"}
    assert wrong == set()


def test_only_the_factory_imports_the_commands():
    importers = {name for name, targets in layout.graph().items()
                 if any(within(t, ("jwtauthtest.cli",)) for t in targets)
                 and not within(name, ("jwtauthtest.cli",))}
    assert importers == {"jwtauthtest"}


def test_the_import_graph_has_no_circle_and_the_tool_would_say_so():
    assert layout.circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == \
        [["a", "b", "c", "a"]]
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "layout.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].endswith(" 0 circle(s)")
    assert "  tokens/ " in result.stdout and "    sessions.py " in result.stdout


def test_the_tool_reads_imports_inside_functions_too(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from jwtauthtest.tokens import claims\n")
    assert layout.imports_of(module, {"jwtauthtest.tokens.claims", "jwtauthtest.tokens"}) == \
        {"jwtauthtest.tokens.claims"}




def test_the_tool_exits_1_on_a_circle_made_of_relative_imports(tmp_path):
    package = tmp_path / "jwtauthtest"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cli.py").write_text("def init():\n    from .commands import group\n")
    (package / "commands.py").write_text("from .cli import init\ngroup = None\n")
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "layout.py"),
                             "--package", str(package)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "circle: jwtauthtest.cli -> jwtauthtest.commands -> jwtauthtest.cli" in result.stdout


def test_the_web_floor_imports_only_what_sits_under_everything():
    """web/ is under jwt.py and every blueprint, and under the concerns that refuse
    requests: it may import settings and what text is, nothing else of the package."""
    allowed = ("jwtauthtest.settings", "jwtauthtest.passwords.usernames", "jwtauthtest.web")
    wrong = {(name, target) for name, targets in layout.graph().items()
             if within(name, ("jwtauthtest.web",))
             for target in targets if not within(target, allowed)}
    assert wrong == set()


def test_account_holds_only_blueprints():
    """Each module of account/ defines a blueprint, and only the factory imports them."""
    modules = [path for path in (layout.PACKAGE / "account").glob("*.py")
               if path.name != "__init__.py"]
    assert modules
    for path in modules:
        assert "bp = Blueprint(" in path.read_text(), path
    importers = {name for name, targets in layout.graph().items()
                 if any(within(t, ("jwtauthtest.account",)) for t in targets)
                 and not within(name, ("jwtauthtest.account",))}
    assert importers == {"jwtauthtest"}


def test_the_tests_are_found_by_kind():
    """In-process tests in a folder of the package or feature they test; e2e/ (real
    servers and processes), browser/ (Chromium), repo/ (the repository's own checks) and
    support/ (helpers, no tests); nothing but conftest.py at the top."""
    tests = REPO_ROOT / "tests"
    assert sorted(path.name for path in tests.glob("*.py")) == ["conftest.py"]
    kinds = {path.name for path in tests.iterdir() if path.is_dir() and path.name[0] != "_"}
    assert {"e2e", "browser", "repo", "support"} <= kinds
    assert not list((tests / "support").glob("test_*.py"))
    names = [path.name for path in tests.rglob("test_*.py")]
    assert len(names) == len(set(names))  # (pytest imports them by their names)
