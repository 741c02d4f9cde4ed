"""The upgrade checker's rules one by one, on small files of the forms apps of Flask-JWT
0.3.2's time wrote: what each reports, and what ``--write`` makes of the file."""

from pathlib import Path

import pytest
from flask_jwt.upgrade.cli import main
from flask_jwt.upgrade.requirements import judge

GONE = "safe_str_cmp is gone from Werkzeug 2.1"


def check(capsys, folder: Path, files: dict[str, str | bytes], *options: str) -> list[str]:
    """The checker's lines on a folder holding the files (the summary line left out)."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    main([*options, str(folder)])
    return capsys.readouterr().out.splitlines()[:-1]


def written(capsys, folder: Path, files: dict[str, str | bytes]) -> dict[str, str]:
    """The files' texts after ``--write`` (line endings kept)."""
    check(capsys, folder, files, "--write")
    return {name: (folder / name).read_bytes().decode("latin-1") for name in files}


@pytest.mark.parametrize("name,spec,verdict", [
    ("Flask", "==1.1.2", ("Flask==1.1.2 is too old for Flask 3", ">=3.0")),
    ("Flask", "<3", ("Flask<3 is too old for Flask 3", ">=3.0")),
    ("Flask", "~=2.3", ("Flask~=2.3 is too old for Flask 3", ">=3.0")),
    ("Flask", "~=2.3.3", ("Flask~=2.3.3 is too old for Flask 3", ">=3.0")),
    ("Flask", "==2.*", ("Flask==2.* is too old for Flask 3", ">=3.0")),
    ("Flask", ">=0.12, <=2.3.3", ("Flask>=0.12, <=2.3.3 is too old for Flask 3", ">=3.0")),
    ("Flask", "", None), ("Flask", ">=1.0", None), ("Flask", "<=3.0", None),
    ("Flask", "~=3.0", None), ("Flask", "==3.*", None), ("Flask", "!=3.0.0", None),
    ("Flask", "==3.1.0rc1", None),
    ("Flask.RESTful", "==0.3.8", ("Flask.RESTful==0.3.8 is too old for Flask 3", ">=0.3.9")),
    ("flask_restful", "==0.3.9", None),
    ("PyJWT", "<2", ("PyJWT<2 is too old for Flask-JWT-Revived", ">=2.13")),
    ("pyjwt", "==2.12.1", ("pyjwt==2.12.1 is too old for Flask-JWT-Revived", ">=2.13")),
    ("SQLAlchemy", "<1.4", ("SQLAlchemy<1.4 is too old for Flask-SQLAlchemy 3", ">=1.4.18")),
    ("flask_jwt", "", ("Flask-JWT's last release (0.3.2) neither installs nor runs on today's "
                       "Python and Flask", "")),
    ("Flask-JWT-Extended", "==3.0", None), ("requests", "==2.0", None),
])
def test_which_requirements_break_and_where_they_move(name, spec, verdict):
    assert judge(name, spec) == verdict


def test_requirement_lines_keep_their_extras_markers_comments_and_line_endings(capsys,
                                                                              tmp_path):
    before = ("# pinned 2019\r\n-r base.txt\r\n--index-url https://pypi.org/simple\r\n"
              "Flask-SQLAlchemy[async] == 2.4 ; python_version > '3'  # the database\r\n"
              "flask_jwt==0.3.2  # login\r\n"
              "Flask-JWT @ git+https://example.org/flask-jwt.git#egg=Flask-JWT\r\n"
              "https://example.org/Flask-1.0.tar.gz\r\nsix==1.15.0")
    after = written(capsys, tmp_path, {"requirements-prod.txt": before})
    assert after["requirements-prod.txt"] == (
        "# pinned 2019\r\n-r base.txt\r\n--index-url https://pypi.org/simple\r\n"
        "Flask-SQLAlchemy[async]>=3.0.2 ; python_version > '3'  # the database\r\n"
        "Flask-JWT-Revived @ git+<repository URL>#subdirectory=flask-jwt-revived  # login\r\n"
        "Flask-JWT-Revived @ git+<repository URL>#subdirectory=flask-jwt-revived\r\n"
        "https://example.org/Flask-1.0.tar.gz\r\nsix==1.15.0")


def test_a_byte_order_mark_is_kept(capsys, tmp_path):
    after = written(capsys, tmp_path, {"requirements.txt": "\ufeffFlask==1.0\n".encode()})
    assert after["requirements.txt"].encode("latin-1") == "\ufeffFlask>=3.0\n".encode()


def test_pipfile_entries_and_its_python(capsys, tmp_path):
    pipfile = ('[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n\n[packages]\n'
               'flask = "==1.1.2"\n"Flask-JWT" = "*"\n'
               'flask-sqlalchemy = {version = "==2.4.4", extras = ["async"]}\n'
               'flask-restful = {git = "https://example.org/r.git", ref = "v1"}\n'
               'requests = "*"\n\n[dev-packages]\npytest = "==3.0"\n\n'
               '[scripts]\nflask = "flask run"\n\n[requires]\npython_version = "3.6"\n')
    assert check(capsys, tmp_path, {"Pipfile": pipfile}) == [
        'Pipfile:6: flask==1.1.2 is too old for Flask 3; --write: flask = ">=3.0"',
        "Pipfile:7: Flask-JWT's last release (0.3.2) neither installs nor runs on today's "
        'Python and Flask; --write: flask-jwt-revived = {git = "<repository URL>", '
        'subdirectory = "flask-jwt-revived"}, filling in <repository URL>, then pipenv lock',
        "Pipfile:8: flask-sqlalchemy==2.4.4 is too old for Flask 3; --write: "
        'flask-sqlalchemy = {version = ">=3.0.2", extras = ["async"]}',
        "Pipfile:19: python_version 3.6 is older than Flask-JWT-Revived runs on; by hand: the "
        "Python your deployment runs, 3.10 or later"]
    after = written(capsys, tmp_path, {"Pipfile": pipfile})["Pipfile"]
    assert after == pipfile.replace('"==1.1.2"', '">=3.0"').replace(
        '"Flask-JWT" = "*"', 'flask-jwt-revived = {git = "<repository URL>", '
        'subdirectory = "flask-jwt-revived"}').replace('"==2.4.4"', '">=3.0.2"')


def test_setup_py_install_requires(capsys, tmp_path):
    setup = ("from setuptools import setup\n\nsetup(name='shop', install_requires=[\n"
             "    'Flask-JWT==0.3.2', \"Werkzeug<1\", '''Flask<1''', 'requests'])\n")
    assert check(capsys, tmp_path, {"setup.py": setup})[2] == \
        "setup.py:4: Flask<1 is too old for Flask 3; by hand: Flask>=3.0"
    assert written(capsys, tmp_path, {"setup.py": setup})["setup.py"] == setup.replace(
        "'Flask-JWT==0.3.2'",
        "'Flask-JWT-Revived @ git+<repository URL>#subdirectory=flask-jwt-revived'").replace(
        '"Werkzeug<1"', '"Werkzeug>=3.0"')
    assert check(capsys, tmp_path, {}) == [
        "setup.py:4: the Flask-JWT-Revived requirement still says <repository URL>; by hand: "
        "the address of the Git repository that holds flask-jwt-revived",
        "setup.py:4: Flask<1 is too old for Flask 3; by hand: Flask>=3.0"]


def test_safe_str_cmp_in_its_other_forms(capsys, tmp_path):
    source = ('"""Login checks."""\nfrom __future__ import annotations\n\n'
              "import os\nfrom werkzeug.security import (generate_password_hash,\n"
              "                               safe_str_cmp as same)\n"
              "from werkzeug import safe_str_cmp\n\n"
              "ok = same(user.password + os.sep, b'x') and safe_str_cmp('a', b)\n"
              "compare = safe_str_cmp\n")
    assert check(capsys, tmp_path, {"auth.py": source}) == [
        f"auth.py:5: {GONE}; --write: import hmac in its place",
        f"auth.py:7: {GONE}; --write: import hmac in its place",
        f"auth.py:9: {GONE}; --write: hmac.compare_digest((user.password + os.sep).encode(), "
        "b'x')",
        f"auth.py:9: {GONE}; --write: hmac.compare_digest('a'.encode(), b.encode())",
        f"auth.py:10: {GONE}; by hand: hmac.compare_digest on bytes"]
    assert written(capsys, tmp_path, {"auth.py": source})["auth.py"] == (
        '"""Login checks."""\nfrom __future__ import annotations\n\n'
        "import hmac\nimport os\nfrom werkzeug.security import generate_password_hash\n\n"
        "ok = hmac.compare_digest((user.password + os.sep).encode(), b'x') and "
        "hmac.compare_digest('a'.encode(), b.encode())\ncompare = safe_str_cmp\n")
    assert check(capsys, tmp_path, {}) == \
        [f"auth.py:9: {GONE}; by hand: hmac.compare_digest on bytes"]


def test_a_safe_str_cmp_of_the_apps_own_is_no_finding(capsys, tmp_path):
    source = ("def safe_str_cmp(a, b):\n    return hmac.compare_digest(a, b)\n\n"
              "ok = safe_str_cmp(x, y)\n")
    assert check(capsys, tmp_path, {"compat.py": source}) == []


def test_fixes_that_would_not_parse_are_left_for_by_hand(capsys, tmp_path):
    source = ("try:\n    from werkzeug.security import safe_str_cmp\nexcept ImportError:\n"
              "    from hmac import compare_digest as safe_str_cmp\n")
    assert check(capsys, tmp_path, {"compat.py": source}) == \
        [f"compat.py:2: {GONE}; by hand: import hmac in its place"]
    assert written(capsys, tmp_path, {"compat.py": source})["compat.py"] == source


def test_first_request_hooks_in_a_factory_and_a_blueprint(capsys, tmp_path):
    source = ("import functools\r\n\r\n\r\ndef create_app():\r\n    app = Flask(__name__)\r\n\r\n"
              "    @app.before_first_request  # tables\r\n    def create_tables():\r\n"
              "        db.create_all()\r\n        return None\r\n\r\n"
              "    @shop.before_app_first_request\r\n    def warm():\r\n        cache.load()\r\n"
              "    return app\r\n")
    assert written(capsys, tmp_path, {"factory.py": source})["factory.py"] == source.replace(
        "    @app.before_first_request  # tables\r\n",
        "    @app.before_request  # tables\r\n"
        "    @functools.cache  # once: Flask 2.3 removed before_first_request\r\n").replace(
        "    @shop.before_app_first_request\r\n", "    @shop.before_app_request\r\n"
        "    @functools.cache  # once: Flask 2.3 removed before_app_first_request\r\n")


def test_first_request_hooks_caching_would_change_are_left_for_by_hand(capsys, tmp_path):
    source = ("@app.before_first_request\ndef seed():\n    return 'seeded'\n\n"
              "@app.before_first_request\nasync def warm():\n    pass\n\n"
              "app.before_first_request(create_tables)\n")
    assert check(capsys, tmp_path, {"app.py": source}) == [
        "app.py:1: @app.before_first_request is gone from Flask 2.3; by hand: a "
        "@app.before_request hook that calls seed once, at the first request",
        "app.py:5: @app.before_first_request is gone from Flask 2.3; by hand: a "
        "@app.before_request hook that calls warm once, at the first request",
        "app.py:9: before_first_request is gone from Flask 2.3; by hand: a before_request "
        "hook that calls the function once"]


def test_imports_go_below_the_opening_comments_of_a_file_without_any(capsys, tmp_path):
    source = ("#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n\n@app.before_first_request\n"
              "def greet():\n    print('d\xe9j\xe0 vu')\n")
    after = written(capsys, tmp_path, {"hooks.py": source.encode("latin-1")})["hooks.py"]
    assert after == source.replace("\n\n@app.before_first_request\n",
                                   "\nimport functools\n\n@app.before_request\n@functools.cache"
                                   "  # once: Flask 2.3 removed before_first_request\n")


def test_pyjwt_by_any_name(capsys, tmp_path):
    source = ("import jwt as pyjwt\nfrom jwt import encode, decode\n\n"
              "a = pyjwt.encode(claims, key,\n                 algorithm='HS256').decode('utf-8')\n"
              "b = encode(claims, key).decode()\nc = decode(token, key)\n"
              "d = pyjwt.decode(token, key, algorithms=['HS256'])\n"
              "e = pyjwt.decode(token, key, ['HS256'])\nf = pyjwt.decode(token, key, **options)\n")
    assert check(capsys, tmp_path, {"tokens.py": source}) == [
        "tokens.py:4: PyJWT 2's jwt.encode returns str, which has no .decode(); --write: drop "
        ".decode('utf-8')",
        "tokens.py:6: PyJWT 2's jwt.encode returns str, which has no .decode(); --write: drop "
        ".decode()",
        "tokens.py:7: PyJWT 2's jwt.decode refuses every token without algorithms=; by hand: "
        "name the algorithm your tokens are signed with, e.g. algorithms=['HS256']"]
    assert written(capsys, tmp_path, {"tokens.py": source})["tokens.py"] == source.replace(
        "'HS256').decode('utf-8')", "'HS256')").replace("key).decode()", "key)")


def test_an_extension_named_jwt_is_not_pyjwt(capsys, tmp_path):
    source = "jwt = JWT(app, authenticate, identity)\ntoken = jwt.encode(x).decode('ascii')\n"
    assert check(capsys, tmp_path, {"app.py": source}) == []


def test_request_ctx_stack(capsys, tmp_path):
    source = "from flask import _request_ctx_stack, request\n"
    assert check(capsys, tmp_path, {"views.py": source}) == [
        "views.py:1: flask._request_ctx_stack is gone from Flask 3.0; by hand: "
        "flask_jwt.current_identity for the identity, flask.g for your own"]


E_ACUTE = "\xe9"  # two bytes in UTF-8


def test_short_secrets_wherever_they_are_set(capsys, tmp_path):
    source = ("app.config['JWT_SECRET_KEY'] = b'short'\napp.config.update(SECRET_KEY='x')\n"
              f"app.config.from_mapping({{'SECRET_KEY': '{E_ACUTE * 15}'}})\n"
              "class Config:\n    SECRET_KEY: str = 'dev'\n"
              f"app.secret_key = '{E_ACUTE * 16}'\napp.secret_key = os.environ['SECRET_KEY']\n"
              f"app.secret_key = '{'a' * 31}'\napp.secret_key = '{'a' * 32}'\n")
    found = [line.split(";")[0] for line in check(capsys, tmp_path, {"config.py": source})]
    assert found == [f"config.py:{line}: a secret of {size} bytes signs the tokens: PyJWT "
                     "warns below 32, and it can be guessed"
                     for line, size in [(1, 5), (2, 1), (3, 30), (5, 3), (8, 31)]]


def test_python_2_is_reported_not_written(capsys, tmp_path):
    source = "from werkzeug.security import safe_str_cmp\nprint 'hello'\n"
    assert check(capsys, tmp_path, {"old.py": source}) == [
        "old.py:2: this is not Python 3 (Missing parentheses in call to 'print'. Did you mean "
        "print(...)?); by hand: port it to Python 3"]
