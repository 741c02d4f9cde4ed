"""The password policy (issue 15): its rules, its setting, and every path that sets a password:
useradd.py, flask users add / passwd / import."""

import sqlite3
from contextlib import closing

import pytest
from passlib.hash import bcrypt
from sqlalchemy import select

from jwtauthtest.database import db
from jwtauthtest.models import User
from jwtauthtest.passwords.policy import common_passwords, password_problem
from jwtauthtest.settings import ConfigurationError

from conftest import PASSWORD, USERNAME
from processes import instance_path, run_flask, run_python, run_useradd, subprocess_env

TOO_SHORT = "password must be at least 8 characters (PASSWORD_MIN_LENGTH)"
COMMON = "password is one of the 30,000 most common passwords"
CONTAINS = "password must not contain the username"


def problem(app, password, username="bob"):
    with app.app_context():
        return password_problem(password, username)


@pytest.mark.parametrize("password,username,message", [
    ("", "bob", "password must not be empty"),
    ("a\x00b-c7#pq-z2", "bob", "password must not contain NUL characters or unpaired surrogates"),
    ("k7#pq-z2\ud800", "bob", "password must not contain NUL characters or unpaired surrogates"),
    ("k7#pq-z", "bob", TOO_SHORT),  # 7 characters
    ("k" * 1025, "bob", "password must be at most 1024 characters"),
    ("PassWord", "bob", COMMON),
    ("Ｐａｓｓｗｏｒｄ１", "bob", COMMON),  # full-width: NFKC makes it password1
    ("QWERTASDFGZXCVB", "bob", COMMON),
    ("the Alice of wonderland", "alice", CONTAINS),
    ("the alice of wonderland", "ＡＬＩＣＥ", CONTAINS),  # the normalised name
    ("Alexander", "alexander", "password must not be the username"),
])
def test_refusals_name_their_rule(app, password, username, message):
    assert problem(app, password, username) == message


@pytest.mark.parametrize("password", [
    "k7#pq-z2",  # exactly 8
    "k" * 1024,
    "correct horse battery staple",  # all lower case: no composition rule
    "Ünïcødé pässphrase with spaces ☃ 日本語 and more",
    "an alpine lake",  # user "al": a name under 3 characters is refused only as the password
])
def test_accepted(app, password):
    assert problem(app, password, "al") is None


def test_a_custom_minimum_length(make_app):
    app = make_app(PASSWORD_MIN_LENGTH=15)
    assert problem(app, "fifteen chars!") == (
        "password must be at least 15 characters (PASSWORD_MIN_LENGTH)")
    assert problem(app, "fifteen chars!!") is None


def test_the_list_is_zxcvbns_30000_case_folded():
    common = common_passwords()
    assert len(common) == 30_000
    assert {"123456", "password", "qwertasdfgzxcvb"} <= common
    assert all(word == word.casefold() for word in common)


@pytest.mark.parametrize("value", ["15", 0, 1025, True, 8.5, None])
def test_a_minimum_length_that_cant_be_one_is_refused(make_app, value):
    with pytest.raises(ConfigurationError) as refused:
        make_app(PASSWORD_MIN_LENGTH=value)
    assert str(refused.value) == ("PASSWORD_MIN_LENGTH must be a whole number of characters "
                                  f"from 1 to 1024, not {value!r}")


def test_the_setting_from_the_environment_and_its_refusal_in_one_line(tmp_path):
    result = run_useradd(subprocess_env(tmp_path, FLASK_PASSWORD_MIN_LENGTH="15"),
                         ["--username", "bob", "--password-stdin"], "fourteen chars\n")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "Error: password must be at least 15 characters (PASSWORD_MIN_LENGTH)\n")
    result = run_flask(subprocess_env(tmp_path, FLASK_PASSWORD_MIN_LENGTH="0"), "users", "list")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, "", "Error: PASSWORD_MIN_LENGTH must be a whole number of characters from 1 to 1024, "
               "not 0\n")


def test_the_list_is_read_by_the_first_password_set_not_at_start_nor_at_login(tmp_path):
    code = ("from jwtauthtest import create_app\n"
            "from jwtauthtest.passwords.policy import common_passwords\n"
            "from jwtauthtest.users import add_user\n"
            "loaded = common_passwords.cache_info\n"
            "app = create_app({'TESTING': True})\n"
            "print(loaded().currsize)\n"
            "with app.app_context(): add_user('bob', 'k7#pq-z2 and more')\n"
            "print(loaded().currsize)\n"
            "common_passwords.cache_clear()\n"
            "login = app.test_client().post('/auth', json={'username': 'bob', "
            "'password': 'k7#pq-z2 and more'})\n"
            "print(login.status_code, loaded().currsize)\n")
    result = run_python(subprocess_env(tmp_path), code)
    assert (result.returncode, result.stdout) == (0, "0\n1\n200 0\n"), result.stderr


# --- every path that sets a password --------------------------------------------------------

def stored(app):
    """Each user's name, hash and token cut-off."""
    with app.app_context():
        return {u.username: (u.password, u.tokens_valid_after)
                for u in db.session.scalars(select(User))}


@pytest.mark.parametrize("password,message", [("k7#pq-z\n", TOO_SHORT), ("Sunshine\n", COMMON),
                                              ("my bob password\n", CONTAINS)])
def test_useradd_refuses_and_stores_nothing(tmp_path, password, message):
    result = run_useradd(subprocess_env(tmp_path), ["--username", "Bob", "--password-stdin"],
                         password)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", f"Error: {message}\n")
    with closing(sqlite3.connect(instance_path(tmp_path) / "jwtauthtest.sqlite")) as connection:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)


@pytest.mark.parametrize("args,password,message", [
    (["add", "carol"], "k7#pq-z", TOO_SHORT),
    (["add", "carol"], "PASSWORD1", COMMON),
    (["add", "Carol"], "carol is my name", CONTAINS),
    (["passwd", USERNAME], "letmein", TOO_SHORT),
    (["passwd", USERNAME], "Iloveyou", COMMON),
    (["passwd", "ADMIN"], "my Admin password", CONTAINS),  # the stored name, however spelt
])
def test_users_add_and_passwd_refuse_and_store_nothing(app, runner, user, args, password,
                                                       message):
    before = stored(app)
    result = runner.invoke(args=["users", *args, "--password-stdin"], input=password + "\n")
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
    assert stored(app) == before


def test_users_add_and_passwd_accept_a_passphrase(app, runner, user):
    for args in (["add", "carol"], ["passwd", USERNAME]):
        result = runner.invoke(args=["users", *args, "--password-stdin"],
                               input="correct horse battery staple\n")
        assert result.exit_code == 0, result.output
    client = app.test_client()
    for name in ("carol", USERNAME):
        assert client.post("/auth", json={"username": name, "password":
                                          "correct horse battery staple"}).status_code == 200


PLAIN = ("username,password\n"
         "carol,correct horse battery staple\n"
         "dave,k7#pq-z\n"
         "erin,football\n"
         "frank,frank's password\n")
PLAIN_PROBLEMS = [f"line 3: {TOO_SHORT}", f"line 4: {COMMON}", f"line 5: {CONTAINS}"]


def test_import_of_plain_passwords_refuses_the_whole_file(app, runner, user, tmp_path):
    (tmp_path / "users.csv").write_text(PLAIN)
    before = stored(app)
    result = runner.invoke(args=["users", "import", str(tmp_path / "users.csv")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        *PLAIN_PROBLEMS, f"Error: 3 invalid line(s) in {tmp_path / 'users.csv'}; "
                         "nothing was imported"]
    assert stored(app) == before


def test_import_of_plain_passwords_skipping_the_invalid_lines(app, runner, user, tmp_path):
    (tmp_path / "users.csv").write_text(PLAIN)
    result = runner.invoke(args=["users", "import", str(tmp_path / "users.csv"),
                                 "--skip-invalid"])
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line.startswith("skipped")] == [
        f"skipped {problem}" for problem in PLAIN_PROBLEMS]
    assert "1 added, 0 updated, 3 skipped in" in result.output
    assert "hashes" not in result.output
    assert sorted(stored(app)) == [USERNAME, "carol"]


def test_imported_hashes_are_not_checked_and_the_summary_says_so(app, runner, tmp_path):
    weak = bcrypt.using(rounds=4).hash("pw")
    (tmp_path / "users.csv").write_text(f"username,password_hash\ncarol,{weak}\npw,{weak}\n")
    result = runner.invoke(args=["users", "import", str(tmp_path / "users.csv")])
    assert result.exit_code == 0, result.output
    summary = result.output.splitlines()[-1]
    assert summary.startswith(f"Imported {tmp_path / 'users.csv'} into ")
    assert summary.endswith(" s; 2 imported as hashes, not checked against the password policy")
    assert {name: password_hash for name, (password_hash, _) in stored(app).items()} == {
        "carol": weak, "pw": weak}
    assert app.test_client().post("/auth", json={"username": "pw", "password": "pw"}
                                  ).status_code == 200


def test_the_fixture_password_passes(app):
    assert problem(app, PASSWORD, USERNAME) is None
