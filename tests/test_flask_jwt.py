"""jwtauthtest.flask_jwt is Flask-JWT 0.3.2 itself, independent of this app (issue 13).
Its own 0.3.2 test suite runs in .ci/flask_jwt_suite.sh; these check what that can't."""

import ast
import sys
from pathlib import Path

import pytest
from flask import Flask

from jwtauthtest import flask_jwt

MODULE = Path(flask_jwt.__file__)


def test_it_imports_nothing_of_the_app():
    imported = set()
    for node in ast.walk(ast.parse(MODULE.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"a relative import: {ast.unparse(node)}"
            imported.add(node.module.split(".")[0])
    assert imported - sys.stdlib_module_names == {"flask", "jwt", "werkzeug"}


class User:
    def __init__(self, id, username, password):
        self.id, self.username, self.password = id, username, password


def tutorial_app():
    """The tutorial's app, as it wrote it, with one import changed."""
    from jwtauthtest.flask_jwt import JWT, current_identity, jwt_required

    users = [User(1, "joe", "pass")]

    def authenticate(username, password):
        user = next((u for u in users if u.username == username), None)
        if user and user.password == password:
            return user

    def identity(payload):
        return next((u for u in users if u.id == payload["identity"]), None)

    app = Flask(__name__)
    app.config["SECRET_KEY"] = "super-secret-" + "0123456789abcdef" * 2
    JWT(app, authenticate, identity)

    @app.route("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity.username}"

    return app


def test_the_tutorials_own_code_runs_on_it():
    client = tutorial_app().test_client()
    response = client.post("/auth", json={"username": "joe", "password": "pass"})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    assert client.get("/protected", headers={"Authorization": f"JWT {token}"}).data == b"joe"


@pytest.mark.parametrize("body,content_type,status,description", [
    ("[1, 2]", "application/json", 400, "Request body must be a JSON object"),
    ("username=joe&password=pass", "application/x-www-form-urlencoded", 400,
     "Request body must be JSON, sent with Content-Type: application/json"),
    ('{"username": ["joe"], "password": "pass"}', "application/json", 400,
     "Username and password must be strings"),
    ('{"username": "joe"}', "application/json", 401, "Invalid credentials"),
])
def test_what_0_3_2_answered_with_a_500_is_an_error_of_its_shape(body, content_type, status,
                                                                 description):
    response = tutorial_app().test_client().post("/auth", data=body, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["description"] == description


def test_a_header_of_white_space_is_no_token():
    response = tutorial_app().test_client().get("/protected", headers={"Authorization": "   "})
    assert response.status_code == 401
    assert response.get_json()["description"] == "Request does not contain an access token"


def test_the_auth_endpoint_is_named_by_the_setting():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 32, JWT_AUTH_ENDPOINT="login")
    flask_jwt.JWT(app, lambda u, p: None, lambda payload: None)
    assert [rule.endpoint for rule in app.url_map.iter_rules() if rule.rule == "/auth"] == \
        ["login"]


def test_the_readmes_example_runs_as_written():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("### Using it in your own Flask app"):]
    code = section[section.index("```python\n") + len("```python\n"):section.index("```\n")]
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    client = namespace["app"].test_client()
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    token = response.get_json()["access_token"]
    response = client.get("/protected", headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 200
    assert response.data.startswith(b"<readme_example.User object at 0x")
