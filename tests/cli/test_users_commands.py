"""flask users ...: every command and error path through the CLI runner (issue 5)."""

import csv
import io
import json

import pytest
from passlib.hash import argon2, bcrypt, django_pbkdf2_sha256, pbkdf2_sha256
from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.models import User
from jwtauthtest.passwords.hashing import password_context

from conftest import PASSWORD, SECRET, USERNAME
from processes import run_flask, subprocess_env


def users(app):
    with app.app_context():
        return {u.username: (u.active, u.password) for u in db.session.scalars(select(User))}


def invoke(runner, *args, input=None):
    return runner.invoke(args=list(args), input=input)


def login(client, username=USERNAME, password=PASSWORD):
    return client.post("/auth", json={"username": username, "password": password})


def hello(client, token):
    return client.get("/hello", headers={"Authorization": f"JWT {token}"})


def database(app):
    return app.config["SQLALCHEMY_DATABASE_URI"]


def test_group_is_listed(runner):
    result = invoke(runner, "users", "--help")
    assert result.exit_code == 0
    for command in ("add", "list", "passwd", "disable", "enable", "delete", "import"):
        assert f"  {command} " in result.output


def test_add_with_password_stdin(app, runner):
    result = invoke(runner, "users", "add", "alice", "--password-stdin", input="s3cret pw\n")
    assert result.exit_code == 0
    assert result.output == f"Added user 'alice' (id 1) to {database(app)}\n"
    active, password_hash = users(app)["alice"]
    assert active and password_hash.startswith("$argon2id$")
    with app.app_context():
        assert password_context().verify("s3cret pw", password_hash)


def test_add_prompts_twice_without_echo(app, runner):
    result = invoke(runner, "users", "add", "alice", input="pass phrase one\npass phrase one\n")
    assert result.exit_code == 0, result.output
    assert "Password: \nRepeat for confirmation: \n" in result.output
    assert "pass phrase one" not in result.output


def test_add_normalises_like_auth(app, runner, user):
    result = invoke(runner, "users", "add", "ＡＤＭＩＮ", "--password-stdin",
                    input="a long passphrase\n")
    assert result.exit_code == 1
    assert result.output == "Error: user already exists: admin\n"  # the one who exists
    assert list(users(app)) == [USERNAME]


@pytest.mark.parametrize("args,input,message", [
    (["add", "bob", "--password-stdin"], "\n", "password must not be empty"),
    (["add", " ", "--password-stdin"], "pw\n", "username must not be empty"),
    (["add", "u" * 151, "--password-stdin"], "pw\n", "username must be at most 150 characters"),
    (["passwd", "nobody", "--password-stdin"], "pw\n", "no such user: nobody"),
    (["passwd", USERNAME, "--password-stdin"], "\n", "password must not be empty"),
    (["disable", "nobody"], None, "no such user: nobody"),
    (["enable", "nobody"], None, "no such user: nobody"),
    (["delete", "nobody", "--yes"], None, "no such user: nobody"),
])
def test_errors_are_one_line_and_change_nothing(app, runner, user, args, input, message):
    before = users(app)
    result = invoke(runner, "users", *args, input=input)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == f"Error: {message}"
    assert users(app) == before


def test_passwords_are_not_accepted_as_arguments(runner):
    result = invoke(runner, "users", "add", "bob", "--password", "hunter2")
    assert result.exit_code == 2
    assert "No such option '--password'" in result.output


def test_list_table_and_json(app, runner, client, user):
    invoke(runner, "users", "add", "bob", "--email", "Bob@Example.COM", "--password-stdin",
           input="long enough pw\n")
    invoke(runner, "users", "disable", "bob")
    assert login(client).status_code == 200
    table = invoke(runner, "users", "list")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "E-MAIL", "ACTIVE", "CREATED", "LAST",
                                "LOGIN"]
    assert lines[1].split()[:4] == ["1", "admin", "-", "yes"] and "never" not in lines[1]
    assert lines[2].split()[:4] == ["2", "bob", "Bob@example.com", "no"]
    assert lines[2].endswith("never")
    listed = json.loads(invoke(runner, "users", "list", "--json").output)
    assert [(u["id"], u["username"], u["email"], u["email_verified"], u["active"])
            for u in listed] == [(1, "admin", None, False, True),
                                 (2, "bob", "Bob@example.com", True, False)]
    assert listed[0]["created_at"] and listed[0]["last_login_at"]
    assert listed[1]["last_login_at"] is None


def test_passwd_revokes_earlier_tokens(app, runner, client, user):
    token = login(client).get_json()["access_token"]
    result = invoke(runner, "users", "passwd", "ADMIN", "--password-stdin", input="new pw 2\n")
    assert result.exit_code == 0
    assert result.output == (f"Changed the password of 'admin' in {database(app)}; "
                             "earlier tokens are revoked\n")
    assert hello(client, token).get_json()["description"] == "Token has been revoked"
    assert login(client).status_code == 401
    token = login(client, password="new pw 2").get_json()["access_token"]
    assert hello(client, token).status_code == 200


def test_disable_and_enable(app, runner, client, user):
    token = login(client).get_json()["access_token"]
    result = invoke(runner, "users", "disable", USERNAME)
    assert result.output == f"Disabled 'admin' in {database(app)}; their tokens are revoked\n"
    assert users(app)[USERNAME][0] is False
    assert hello(client, token).get_json()["description"] == "User does not exist"
    assert login(client).status_code == 401
    result = invoke(runner, "users", "enable", USERNAME)
    assert result.output == f"Enabled 'admin' in {database(app)}\n"
    assert hello(client, token).get_json()["description"] == "Token has been revoked"
    assert login(client).status_code == 200


def test_delete_asks_first(app, runner, client, user):
    token = login(client).get_json()["access_token"]
    result = invoke(runner, "users", "delete", USERNAME, input="n\n")
    assert result.exit_code == 1
    assert "Aborted!" in result.output
    assert USERNAME in users(app)
    result = invoke(runner, "users", "delete", USERNAME, input="y\n")
    assert result.exit_code == 0
    assert result.output.endswith(f"Deleted 'admin' from {database(app)}\n")
    assert users(app) == {}
    assert hello(client, token).get_json()["description"] == "User does not exist"


def test_delete_yes_skips_the_question(app, runner, user):
    result = invoke(runner, "users", "delete", USERNAME, "--yes")
    assert result.exit_code == 0
    assert result.output == f"Deleted 'admin' from {database(app)}\n"


# --- import ---------------------------------------------------------------------------------

def write(tmp_path, text, name="users.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_plain_passwords(app, runner, client, tmp_path):
    path = write(tmp_path, "username,password\nalice,pw-a long enough\nBob,pw-b long enough\n")
    result = invoke(runner, "users", "import", path)
    assert result.exit_code == 0, result.output
    assert f"Imported {path} into {database(app)}: 2 added, 0 updated, 0 skipped in" \
        in result.output
    assert "Hashing passwords" in result.output
    assert sorted(users(app)) == ["Bob", "alice"]
    assert login(client, "bob", "pw-b long enough").status_code == 200


HASHES = {
    "argon2": argon2.using(memory_cost=1024, rounds=1).hash("pw"),
    "bcrypt": bcrypt.using(rounds=4).hash("pw"),
    "pbkdf2_sha256": pbkdf2_sha256.hash("pw"),
    "django": django_pbkdf2_sha256.hash("pw"),
}


def csv_text(header, rows):
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue()


def test_import_existing_hashes_upgrade_at_login(app, runner, client, tmp_path):
    text = csv_text(["username", "password_hash"], HASHES.items())  # argon2's commas get quoted
    result = invoke(runner, "users", "import", write(tmp_path, text))
    assert result.exit_code == 0, result.output
    assert "4 added" in result.output and "Hashing" not in result.output
    stored = users(app)
    assert {name: stored[name][1] for name in HASHES} == HASHES
    for name in HASHES:
        assert login(client, name, "pw").status_code == 200, name
        assert users(app)[name][1].startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def test_import_validates_the_whole_file_first(app, runner, user, tmp_path):
    path = write(tmp_path, "username,password_hash\n"
                           f"ok,{HASHES['pbkdf2_sha256']}\n"
                           "nohash,\n"
                           "weird,$9$not-a-known-format\n"
                           f"Ok,{HASHES['bcrypt']}\n"
                           f"admin,{HASHES['bcrypt']}\n"
                           f"{'u' * 151},{HASHES['bcrypt']}\n"
                           "toomany,a,b\n")
    result = invoke(runner, "users", "import", path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "line 3: password hash must not be empty",
        "line 4: unknown password hash format",
        "line 5: duplicate username 'Ok' (first on line 2)",
        "line 6: user already exists: admin",
        "line 7: username must be at most 150 characters",
        "line 8: expected 2 fields, found 3",
        f"Error: 6 invalid line(s) in {path}; nothing was imported",
    ]
    assert list(users(app)) == [USERNAME]


def test_import_skip_invalid(app, runner, user, tmp_path):
    path = write(tmp_path, "username,password\nnew,long enough pw\nadmin,long enough pw\nempty,\n")
    result = invoke(runner, "users", "import", path, "--skip-invalid")
    assert result.exit_code == 0
    assert "skipped line 3: user already exists: admin" in result.output
    assert "skipped line 4: password must not be empty" in result.output
    assert "1 added, 0 updated, 2 skipped" in result.output
    assert sorted(users(app)) == [USERNAME, "new"]


def test_import_update_replaces_passwords_and_revokes_tokens(app, runner, client, user, tmp_path):
    token = login(client).get_json()["access_token"]
    path = write(tmp_path, "username,password\nADMIN,replaced pw 1\nfresh,new pw 1234\n")
    result = invoke(runner, "users", "import", path, "--update")
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 0 skipped" in result.output
    assert login(client).status_code == 401
    assert login(client, password="replaced pw 1").status_code == 200
    assert hello(client, token).get_json()["description"] == "Token has been revoked"


@pytest.mark.parametrize("text", ["", "name,secret\na,b\n", "username,password,extra\n"])
def test_import_needs_the_header(app, runner, tmp_path, text):
    result = invoke(runner, "users", "import", write(tmp_path, text))
    assert result.exit_code == 1
    assert result.output == ("Error: the first line must be the header username,password or "
                             "username,password_hash\n")


def test_import_of_a_missing_file(runner, tmp_path):
    result = invoke(runner, "users", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "No such file or directory" in result.output


@pytest.mark.parametrize("content,message", [
    (b"username,password\nalice,pw\nb\xffob,pw\n",
     "is not UTF-8 text (it has the byte 0xff): save it as UTF-8"),
    (b"username,password\nalice," + b"x" * 200_000 + b"\n",
     "line 2: field larger than field limit (131072)"),
])
def test_import_of_a_file_that_isnt_csv_in_utf8_is_one_line(app, runner, tmp_path, content,
                                                            message):
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    result = invoke(runner, "users", "import", str(path))
    assert (result.exit_code, result.output) == (1, f"Error: {path} {message}\n")
    assert users(app) == {}


def test_an_import_with_every_line_skipped_hashes_nothing(tmp_path):
    """As the operator runs it (a real process, its stderr): no "Hashing passwords" bar for
    nothing to hash."""
    env = subprocess_env(tmp_path, FLASK_SECRET_KEY=SECRET)
    assert run_flask(env, "users", "add", USERNAME, "--password-stdin",
                     input=PASSWORD + "\n").returncode == 0
    path = write(tmp_path, "username,password\nadmin,long enough pw\nempty,\n")
    result = run_flask(env, "users", "import", path, "--skip-invalid")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"Imported {path} into sqlite:///")
    assert "0 added, 0 updated, 2 skipped" in result.stdout
    assert "Hashing passwords" not in result.stderr
    stderr = result.stderr.splitlines()
    assert stderr[:2] == ["skipped line 2: user already exists: admin",
                          "skipped line 3: password must not be empty"]
    assert [line.split(": ", 1)[1] for line in stderr[2:]] == [
        f'users_imported file="{path}" added=0 updated=0 passkeys_removed=0']  # the audit event
