"""The README's examples as written, and apps of Flask-JWT 0.3.2's era moved over by its
upgrade guide: a tutorial-style app and a Flask-RESTful course-style one. The guide's examples
of the checker are what the checker says and writes."""

import importlib
import re
import sys
import textwrap
from pathlib import Path

import pytest
from flask_jwt.upgrade.cli import main

from jwt_apps import bearer

README = (Path(__file__).parent.parent / "README.md").read_text()

# A Flask-RESTful course app as they were written for 0.3.2: security.py and app.py.
ERA_SECURITY = '''\
from werkzeug.security import safe_str_cmp
from models import UserModel


def authenticate(username, password):
    user = UserModel.find_by_username(username)
    if user and safe_str_cmp(user.password, password):
        return user


def identity(payload):
    user_id = payload['identity']
    return UserModel.find_by_id(user_id)
'''
ERA_MODELS = '''\
class UserModel(object):
    rows = [(1, 'bob', 'asdf'), (2, 'eve', 'qwerty')]

    def __init__(self, _id, username, password):
        self.id = _id
        self.username = username
        self.password = password

    @classmethod
    def find_by_username(cls, username):
        for row in cls.rows:
            if row[1] == username:
                return cls(*row)

    @classmethod
    def find_by_id(cls, _id):
        for row in cls.rows:
            if row[0] == _id:
                return cls(*row)
'''
ERA_APP = '''\
from flask import Flask
from flask_restful import Resource, Api, reqparse
from flask_jwt import JWT, jwt_required, current_identity

from security import authenticate, identity

app = Flask(__name__)
app.secret_key = 'course-secret-0123456789abcdef0123456789abcdef'
api = Api(app)

jwt = JWT(app, authenticate, identity)  # /auth

items = []


class Item(Resource):
    parser = reqparse.RequestParser()
    parser.add_argument('price', type=float, required=True, help="This field cannot be blank")

    @jwt_required()
    def get(self, name):
        item = next(filter(lambda x: x['name'] == name, items), None)
        return {'item': item, 'owner': current_identity.username}, 200 if item else 404

    @jwt_required()
    def post(self, name):
        data = Item.parser.parse_args()
        item = {'name': name, 'price': data['price']}
        items.append(item)
        return item, 201


api.add_resource(Item, '/item/<string:name>')
'''


def block_after(heading: str, fence: str = "```python\n") -> str:
    """The lines of the first code block after the heading, without the list's indent."""
    section = README[README.index(heading):]
    start = section.index(fence) + len(fence)
    block = section[start:section.index("```\n", start)]
    return textwrap.dedent(block[:block.rfind("\n") + 1])


def python_block_after(heading: str) -> str:
    return block_after(heading)


def the_guides_replacement() -> tuple[list[str], list[str]]:
    """The lines the upgrade guide says to replace, and what with (its before/after block)."""
    block = python_block_after("- **`safe_str_cmp`** (Werkzeug 2.1 removed it)")
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    before, after = lines.index("# before"), lines.index("# after")
    return lines[before + 1:after], lines[after + 1:]


def upgraded(source: str) -> str:
    """The source with the guide's replacement made, line for line."""
    old, new = the_guides_replacement()
    assert old[0].startswith("from werkzeug.security import safe_str_cmp")
    source = source.replace(old[0] + "\n", "")
    imports = [line for line in new if line.startswith("import ")]
    for old_line, new_line in zip(old[1:], [line for line in new if line not in imports],
                                  strict=True):
        source = re.sub(rf"^(\s*){re.escape(old_line)}$", rf"\g<1>{new_line}", source,
                        flags=re.M)
    return "\n".join(imports) + "\n" + source


def test_the_quick_start_runs_as_written():
    namespace: dict = {"__name__": "quick_start"}
    exec(compile(python_block_after("## Quick start"), "README.md", "exec"), namespace)  # noqa: S102
    client = namespace["app"].test_client()
    response = client.post("/auth", json={"username": "ada", "password": "correct horse"})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    assert client.get("/whoami", headers=bearer(token)).get_json() == {"name": "ada"}
    refused = client.post("/auth", json={"username": "ada", "password": "battery staple"})
    assert refused.status_code == 401


def test_the_era_code_does_not_import_without_the_guides_change():
    with pytest.raises(ImportError, match="safe_str_cmp"):
        exec(ERA_SECURITY.splitlines()[0], {})  # noqa: S102


@pytest.fixture
def course_app(tmp_path, monkeypatch):
    """The course app, with only the guide's change made, imported from its files."""
    pytest.importorskip("flask_restful")
    (tmp_path / "security.py").write_text(upgraded(ERA_SECURITY))
    (tmp_path / "models.py").write_text(ERA_MODELS)
    (tmp_path / "app.py").write_text(ERA_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("app", "security", "models"):
        sys.modules.pop(name, None)
    yield importlib.import_module("app").app
    for name in ("app", "security", "models"):
        sys.modules.pop(name, None)


def test_the_guide_changes_two_lines_of_the_course_app():
    changed = set(upgraded(ERA_SECURITY).splitlines()) ^ set(ERA_SECURITY.splitlines())
    assert changed == {"from werkzeug.security import safe_str_cmp", "import hmac",
                       "    if user and safe_str_cmp(user.password, password):",
                       "    if user and hmac.compare_digest(user.password.encode(), "
                       "password.encode()):"}


def test_the_course_app_runs_after_the_guides_change(course_app):
    client = course_app.test_client()
    response = client.post("/auth", json={"username": "bob", "password": "asdf"})
    assert response.status_code == 200
    token = response.get_json()["access_token"]
    created = client.post("/item/chair", json={"price": 15.99}, headers=bearer(token))
    assert (created.status_code, created.get_json()) == (201, {"name": "chair", "price": 15.99})
    got = client.get("/item/chair", headers=bearer(token))
    assert (got.status_code, got.get_json()) == \
        (200, {"item": {"name": "chair", "price": 15.99}, "owner": "bob"})
    wrong = client.post("/auth", json={"username": "bob", "password": "qwerty"})
    assert wrong.status_code == 401


@pytest.mark.parametrize("propagate", [None, False, True])
@pytest.mark.parametrize("debug", [False, True])
def test_a_resources_refusal_is_flask_jwts_401_whatever_propagate_exceptions_says(
        course_app, propagate, debug):
    course_app.config["PROPAGATE_EXCEPTIONS"] = propagate
    course_app.debug = debug
    client = course_app.test_client()
    for headers, error, description in [
            ({}, "Authorization Required", "Request does not contain an access token"),
            (bearer("garbage"), "Invalid token", "Not enough segments"),
            ({"Authorization": "Basic Ym9iOmFzZGY="}, "Invalid JWT header",
             "Unsupported authorization type")]:
        response = client.get("/item/chair", headers=headers)
        assert (response.status_code, response.get_json()) == \
            (401, {"status_code": 401, "error": error, "description": description})
    response = client.get("/item/chair")
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


def test_the_course_app_with_its_login_route_moved(course_app):
    # (a new app: the route is added by init_app, from the setting at that moment)
    from flask import Flask
    from flask_jwt import JWT
    from security import authenticate, identity

    app = Flask(__name__)
    app.config.update(SECRET_KEY=course_app.secret_key, JWT_AUTH_URL_RULE="/login",
                      JWT_AUTH_USERNAME_KEY="email")
    JWT(app, authenticate, identity)
    client = app.test_client()
    assert client.post("/auth", json={"email": "bob", "password": "asdf"}).status_code == 404
    response = client.post("/login", json={"email": "bob", "password": "asdf"})
    assert response.status_code == 200
    assert set(response.get_json()) == {"access_token"}


def written_by_the_checker(capsys, folder: Path, source: str) -> str:
    (folder / "app.py").write_text(source)
    assert main(["--write", str(folder)]) == 1
    capsys.readouterr()
    return (folder / "app.py").read_text()


def test_the_guides_safe_str_cmp_change_is_what_write_makes(capsys, tmp_path):
    before, after = the_guides_replacement()
    body = "\n    return user\n"
    assert written_by_the_checker(capsys, tmp_path, "\n".join(before) + body) == \
        "\n".join(after) + body


def test_the_guides_first_request_hook_is_what_write_makes(capsys, tmp_path):
    hook = python_block_after("- **`@app.before_first_request`**")
    before = hook.replace("@app.before_request\n@functools.cache  # once: Flask 2.3 removed "
                          "before_first_request\n", "@app.before_first_request\n")
    assert written_by_the_checker(capsys, tmp_path, "from db import db\n\n" + before) == \
        "import functools\nfrom db import db\n\n" + hook


def test_the_guides_checker_lines_are_what_it_says_on_the_course_app(capsys):
    shown = [line.strip() for line in block_after("1. **Run the checker**", "```\n").splitlines()]
    assert main([str(Path(__file__).parent / "course_apps" / "items_sqlalchemy")]) == 1
    said = capsys.readouterr().out.splitlines()
    assert shown[0].startswith("$ flask-jwt-upgrade path/to/app ")
    assert [line for line in shown[1:] if line != "..."] == \
        [line for line in said if line in shown]
    assert shown[-1] == said[-1]
