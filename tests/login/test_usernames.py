"""What a username may be, when two are the same, and how commands show them (issue 11,
item 6)."""

import csv
import io
import json
import sqlite3

import pytest
from sqlalchemy import insert

from jwtauthtest import create_app
from jwtauthtest.database import db
from jwtauthtest.models import User
from jwtauthtest.passwords.usernames import printable, username_key
from jwtauthtest.users import add_user

from conftest import FAST_HASHING, PASSWORD, SECRET
from processes import run_useradd, subprocess_env

INVISIBLE = "username must not contain control or invisible characters"


@pytest.mark.parametrize("name,problem", [
    ("ad\x1b[31mmin", f"{INVISIBLE} (U+001B)"),  # a terminal escape: forges table rows
    ("admin\nroot", f"{INVISIBLE} (U+000A)"),
    ("ad\u200bmin", f"{INVISIBLE} (U+200B)"),  # zero-width space
    ("\u202eadmin", f"{INVISIBLE} (U+202E)"),  # right-to-left override
    ("ad\u2028min", f"{INVISIBLE} (U+2028)"),  # line separator
    (" admin", "username must not begin or end with white space"),
    ("admin\u3000", "username must not begin or end with white space"),  # ideographic space
])
def test_new_names_refuse_invisible_characters_and_edge_space(app, runner, tmp_path, name,
                                                              problem):
    added = runner.invoke(args=["users", "add", name, "--password-stdin"], input="pw\n")
    assert (added.exit_code, added.output) == (1, f"Error: {problem}\n")
    text = io.StringIO()
    csv.writer(text).writerows([["username", "password"], [name, "pw"]])
    path = tmp_path / "users.csv"
    path.write_text(text.getvalue())
    imported = runner.invoke(args=["users", "import", str(path)])
    assert imported.exit_code == 1
    assert imported.output.splitlines()[0].endswith(f": {problem}")  # line 2 (3 with a newline)


def test_useradd_refuses_them_too(tmp_path):
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    result = run_useradd(env, ["--username", "ad\u200bmin", "--password-stdin"], "pw\n")
    assert (result.returncode, result.stderr) == (1, f"Error: {INVISIBLE} (U+200B)\n")


def test_names_that_look_alike_are_one_name(app, client, runner):
    assert runner.invoke(args=["users", "add", "alice", "--password-stdin"],
                         input=PASSWORD + "\n").exit_code == 0
    for lookalike in ("\u0430lice",  # Cyrillic а
                      "\u0430l\u0456c\u0435",  # Cyrillic а, і and е
                      "ALICE", "ａｌｉｃｅ"):
        result = runner.invoke(args=["users", "add", lookalike, "--password-stdin"],
                               input="long enough pw\n")
        assert (result.exit_code, result.output) == (1, "Error: user already exists: alice\n")
        response = client.post("/auth", json={"username": lookalike, "password": PASSWORD})
        assert response.status_code == 200, lookalike  # the same user


def test_different_looking_names_stay_apart(app):
    with app.app_context():
        keys = {username_key(name) for name in ("alice", "alicia", "bob", "bab", "ALIce2")}
    assert len(keys) == 5


def test_commands_print_names_escaped(app, runner):
    """Names already in the table (the tutorial's, another program's) can't act on the
    operator's terminal: every command shows them escaped."""
    forged = "x\x1b[2K\rID  USERNAME  ACTIVE"
    with app.app_context():
        db.session.execute(insert(User), [{"username": forged, "username_key": username_key(forged),
                                            "password": "x"}])
        db.session.commit()
    listed = runner.invoke(args=["users", "list"])
    assert "\x1b" not in listed.output and "\r" not in listed.output
    assert "x\\x1b[2K\\rID  USERNAME  ACTIVE" in listed.output
    as_json = runner.invoke(args=["users", "list", "--json"])
    assert "\x1b" not in as_json.output
    assert json.loads(as_json.output)[0]["username"] == forged
    disabled = runner.invoke(args=["users", "disable", forged])
    assert disabled.output.startswith("Disabled 'x\\x1b[2K\\rID  USERNAME  ACTIVE' in ")
    missing = runner.invoke(args=["users", "enable", "no\x1bbody"])
    assert missing.output == "Error: no such user: no\\x1bbody\n"


def test_printable_escapes_only_what_a_terminal_would_act_on():
    assert printable("Zoë O'Brien") == "Zoë O'Brien"
    assert printable("a\\x1b") == "a\\\\x1b"  # a typed backslash stays distinguishable
    assert printable("\x07\u200b\u3000") == "\\x07\\u200b\\u3000"


def test_upgrading_stops_on_names_that_look_alike(tmp_path):
    path = tmp_path / "old.sqlite"
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        add_user("alice", PASSWORD)
        db.engine.dispose()
    connection = sqlite3.connect(path)  # as 0003 left it: another key for a look-alike
    connection.execute("INSERT INTO users (username, username_key, password, active, "
                       "tokens_valid_after) VALUES ('\u0430lice', '\u0430lice', 'x', 1, 0)")
    connection.execute("UPDATE alembic_version SET version_num = '0003'")
    connection.commit()
    connection.close()
    with pytest.raises(RuntimeError, match="these usernames look alike .* must be renamed or "
                       "deleted before upgrading: 'alice' \\(id 1\\), 'аlice' \\(id 2\\)"):
        create_app({"TESTING": True, "SECRET_KEY": SECRET, **FAST_HASHING,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
