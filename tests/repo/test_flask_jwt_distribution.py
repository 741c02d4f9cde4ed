"""The app's Flask-JWT is the distribution in flask-jwt-revived/, installed, used as the
tutorial did; its own tests are in flask-jwt-revived/tests (issue 23)."""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import flask_jwt

from jwtauthtest import jwt as app_jwt

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_uses_the_installed_distribution_not_a_module_of_its_own():
    assert importlib.util.find_spec("jwtauthtest.flask_jwt") is None
    assert (app_jwt.JWT, app_jwt.JWTError, app_jwt.current_identity) == \
        (flask_jwt.JWT, flask_jwt.JWTError, flask_jwt.current_identity)
    assert isinstance(app_jwt.jwt, flask_jwt.JWT)
    assert Path(flask_jwt.__file__).parent == ROOT / "flask-jwt-revived" / "src" / "flask_jwt"


def test_jwt_py_imports_flask_jwt_as_the_tutorial_did():
    tree = ast.parse((ROOT / "jwtauthtest" / "jwt.py").read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module == "flask_jwt"]
    assert [(node.level, [alias.name for alias in node.names]) for node in imports] == \
        [(0, ["JWT", "JWTError", "current_identity", "verify_jwt"])]


def test_nothing_of_the_app_is_in_the_distribution():
    source = "\n".join(path.read_text()
                       for path in (ROOT / "flask-jwt-revived" / "src").rglob("*.py"))
    assert "jwtauthtest" not in source


def test_the_readmes_example_runs_as_written():
    """The example the README points to, in docs/token-lifecycle.md (issue 24 moved it)."""
    page = (ROOT / "docs" / "token-lifecycle.md").read_text()
    section = page[page.index("### Using it in your own Flask app"):]
    code = section[section.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```\n")]
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, "docs/token-lifecycle.md", "exec"), namespace)  # noqa: S102 (our docs)
    client = namespace["app"].test_client()
    response = client.post("/auth", json={"username": "amy", "password": "a long passphrase"})
    token = response.get_json()["access_token"]
    response = client.get("/protected", headers={"Authorization": f"JWT {token}"})
    assert (response.status_code, response.data) == (200, b"Hello, amy")
    wrong = client.post("/auth", json={"username": "amy", "password": "a short one"})
    assert wrong.status_code == 401


def test_the_distributions_own_suite_passes_on_this_environment():
    """flask-jwt-revived/tests in a pytest of their own (their conftest is not ours); CI
    runs them again on the built wheel, with the lowest releases allowed too."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"],
        cwd=ROOT / "flask-jwt-revived", env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("158 passed in ")
