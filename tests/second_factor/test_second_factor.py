"""A second factor (issue 26): enrolment, logging in with a code or a recovery code, the
rules on drift, replay, throttling and challenges, and turning it off. The codes come from
pyotp at a time the test sets (second_factor/totp.py's clock)."""

import re
import threading
import time

import jwt as pyjwt
import pytest
from sqlalchemy import func, select

from jwtauthtest.database import db
from jwtauthtest.models import LoginChallenge, SecondFactor, TokenFamily
from jwtauthtest.second_factor import store
from jwtauthtest.settings import ConfigurationError

from account_api import INVALID_CREDENTIALS, bearer, change_password, password_login
from conftest import USERNAME, counted
from second_factor_api import (
    CHALLENGE,
    NO_CHALLENGE,
    NOW,
    WRONG_CODE,
    challenge_of,
    code_at,
    enrol,
    second_step,
)

pytest_plugins = ["second_factor_api"]

USED_ALREADY = {**WRONG_CODE,
                "description": "This code was used already: wait for the next code"}


@pytest.fixture
def enrolled(app_with):
    """An app whose user has a second factor; the codes of NOW's step were spent enrolling,
    so the tests log in with the next step's (within the drift allowed)."""
    app = app_with()
    client = app.test_client()
    app.secret, app.recovery_codes = enrol(client)
    return app


def test_enrolment_shows_the_secret_as_text_uri_and_svg_then_recovery_codes(app_with):
    app = app_with()
    client = app.test_client()
    token = password_login(client).get_json()["access_token"]
    started = client.post("/auth/second-factor/enrolment", headers=bearer(token))
    assert started.status_code == 201
    assert started.headers["Cache-Control"] == "no-store"
    body = started.get_json()
    assert sorted(body) == ["otpauth_uri", "qr_svg", "secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    assert body["otpauth_uri"] == (f"otpauth://totp/jwtauthtest:{USERNAME}?secret="
                                   f"{body['secret']}&issuer=jwtauthtest")
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].endswith("</svg>")
    assert "<script" not in body["qr_svg"] and "href" not in body["qr_svg"]
    assert client.get("/auth/second-factor", headers=bearer(token)).get_json() == \
        {"enabled": False, "pending": True, "recovery_codes_left": 0}
    confirmed = client.post("/auth/second-factor/enrolment/confirm", headers=bearer(token),
                            json={"code": code_at(body["secret"])})
    assert confirmed.status_code == 200
    codes = confirmed.get_json()["recovery_codes"]
    assert confirmed.get_json() == {"enabled": True, "recovery_codes": codes,
                                    "passkeys_removed": []}
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}", code) for code in codes)
    assert client.get("/auth/second-factor", headers=bearer(token)).get_json() == \
        {"enabled": True, "pending": False, "recovery_codes_left": 10}
    with app.app_context():  # encrypted at rest
        stored = db.session.get(SecondFactor, app.user_id).secret
        assert body["secret"] not in stored and stored.startswith("gAAAAA")


def test_a_wrong_first_code_leaves_it_off(app_with):
    client = app_with().test_client()
    token = password_login(client).get_json()["access_token"]
    secret = client.post("/auth/second-factor/enrolment",
                         headers=bearer(token)).get_json()["secret"]
    wrong = client.post("/auth/second-factor/enrolment/confirm", headers=bearer(token),
                        json={"code": code_at(secret, steps=5)})
    assert (wrong.status_code, wrong.get_json()) == (401, WRONG_CODE)
    assert password_login(client).status_code == 200  # still the password alone


def test_a_first_code_without_an_enrolment_is_409(app_with):
    client = app_with().test_client()
    token = password_login(client).get_json()["access_token"]
    response = client.post("/auth/second-factor/enrolment/confirm", headers=bearer(token),
                           json={"code": "123456"})
    assert response.get_json() == {"status_code": 409, "error": "Conflict", "description":
                                   "No enrolment waits for a code: start one first"}


def test_enrolment_needs_a_fresh_token_and_is_refused_while_on(enrolled):
    client = enrolled.test_client()
    refreshed = client.post("/auth/refresh", headers=bearer(login_with_code(
        client, code_at(enrolled.secret, 1))["refresh_token"]))
    stale = refreshed.get_json()["access_token"]
    response = client.post("/auth/second-factor/enrolment", headers=bearer(stale))
    assert (response.status_code, response.get_json()["description"]) == \
        (401, "Fresh token required")
    fresh = login_with_code(client, enrolled.recovery_codes[0], recovery=True)["access_token"]
    response = client.post("/auth/second-factor/enrolment", headers=bearer(fresh))
    assert response.get_json() == {"status_code": 409, "error": "Conflict", "description":
                                   "A second factor is already on: turn it off first"}


def login_with_code(client, code, recovery=False):
    response = second_step(client, challenge_of(client),
                           **{"recovery_code" if recovery else "code": code})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_right_password_gets_a_challenge_not_tokens(enrolled):
    client = enrolled.test_client()
    response = password_login(client)
    assert response.status_code == 401
    assert response.get_json() == {
        "status_code": 401, "error": "Second factor required", "description":
        "The password is right; send a code from your authenticator app, or a recovery code, "
        "with the Second-Factor-Challenge header's challenge to POST /auth/second-factor"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", response.headers[CHALLENGE])
    with enrolled.app_context():
        assert db.session.scalar(select(func.count()).select_from(TokenFamily)) == 1  # enrol's
        assert db.session.scalar(select(func.count()).select_from(LoginChallenge)) == 1


def test_a_wrong_password_gets_exactly_todays_answer(enrolled):
    response = password_login(enrolled.test_client(), "wrong")
    assert (response.status_code, response.get_json()) == (401, INVALID_CREDENTIALS)
    assert CHALLENGE not in response.headers


def test_the_code_earns_the_usual_pair_with_a_fresh_access_token(enrolled):
    client = enrolled.test_client()
    tokens = login_with_code(client, code_at(enrolled.secret, 1))
    assert sorted(tokens) == ["access_token", "refresh_token"]
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["fresh"] is True and claims["type"] == "access"
    hello = client.get("/hello", headers=bearer(tokens["access_token"]))
    assert (hello.status_code, hello.get_data(as_text=True)) == (200, "Hello world!")


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_of_drift_is_accepted(app_with, clock, steps):
    app = app_with()
    client = app.test_client()
    clock["t"] = NOW - 300  # enrol ten steps earlier, so that NOW's window is unspent
    secret, _ = enrol(client, clock["t"])
    clock["t"] = NOW
    assert second_step(client, challenge_of(client), code=code_at(secret, steps)).status_code \
        == 200


@pytest.mark.parametrize("steps", [-2, 2, 3])
def test_two_steps_of_drift_are_refused(enrolled, steps):
    client = enrolled.test_client()
    response = second_step(client, challenge_of(client), code=code_at(enrolled.secret, steps))
    assert (response.status_code, response.get_json()) == (401, WRONG_CODE)


def test_a_code_accepted_once_is_refused_again_and_so_are_older_ones(enrolled):
    """Refused saying so (what a newcomer typing the code again must learn), and counted as
    a wrong code."""
    client = enrolled.test_client()
    login_with_code(client, code_at(enrolled.secret, 1))
    for code in (code_at(enrolled.secret, 1), code_at(enrolled.secret, 0),
                 code_at(enrolled.secret, -1)):
        response = second_step(client, challenge_of(client), code=code)
        assert (response.status_code, response.get_json()) == (401, USED_ALREADY)
    with enrolled.app_context():
        assert db.session.get(SecondFactor, enrolled.user_id).failures == 3


def test_a_code_used_already_at_an_act_says_so_too(enrolled):
    client = enrolled.test_client()
    tokens = login_with_code(client, code_at(enrolled.secret, 1))
    response = client.post("/auth/second-factor/recovery-codes",
                           headers=bearer(tokens["access_token"]),
                           json={"code": code_at(enrolled.secret, 1)})
    assert (response.status_code, response.get_json()) == (401, USED_ALREADY)


def test_ten_wrong_codes_a_minute_then_429(enrolled):
    client = enrolled.test_client()
    first, second = challenge_of(client), challenge_of(client)  # a challenge takes five
    for challenge, wrong in ((first, 5), (second, 4)):
        for _ in range(wrong):
            assert second_step(client, challenge, code="000000").status_code == 401
    live = challenge_of(client)
    assert second_step(client, second, code="000000").status_code == 401  # the tenth
    response = second_step(client, live, code=code_at(enrolled.secret, 1))
    assert response.status_code == 429
    assert response.get_json() == {"status_code": 429, "error": "Too Many Requests",
                                   "description": "Too many failed logins"}
    assert password_login(client).status_code == 429  # the password waits too


def test_the_fifth_wrong_code_ends_the_challenge(enrolled):
    client = enrolled.test_client()
    challenge = challenge_of(client)
    for _ in range(4):
        assert second_step(client, challenge, code="000000").get_json() == WRONG_CODE
    fifth = second_step(client, challenge, code="000000")
    assert fifth.get_json() == {**WRONG_CODE, "description": "The code is not right, five "
                                "times: log in with the password again"}
    response = second_step(client, challenge, code=code_at(enrolled.secret, 1))
    assert (response.status_code, response.get_json()) == (401, NO_CHALLENGE)


def test_of_requests_racing_with_one_challenge_one_wins_and_spends_one_code(enrolled):
    challenge = challenge_of(enrolled.test_client())
    together = threading.Barrier(4, timeout=10)
    statuses = []

    def attempt(code):
        together.wait()
        statuses.append(second_step(enrolled.test_client(), challenge,
                                    recovery_code=code).status_code)

    threads = [threading.Thread(target=attempt, args=(code,))
               for code in enrolled.recovery_codes[:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 401, 401, 401]
    with enrolled.app_context():
        assert store.recovery_codes_left(enrolled.user_id) == 9


@pytest.mark.parametrize("body", [{"challenge": "\ud800" * 43, "code": "123456"},
                                  {"challenge": "x" * 43, "recovery_code": "\udc00"},
                                  {"challenge": "x" * 43, "code": "12\x0056"}])
def test_values_that_are_not_text_are_400(enrolled, body):
    response = enrolled.test_client().post("/auth/second-factor", json=body)
    assert response.get_json() == {"status_code": 400, "error": "Bad Request", "description":
                                   "Values must be text without NUL characters or unpaired "
                                   "surrogates"}


def test_turning_it_on_ends_the_other_sessions(app_with):
    client = app_with().test_client()
    earlier = password_login(client).get_json()["refresh_token"]  # say, the attacker's
    enrol(client)
    refreshed = client.post("/auth/refresh", headers=bearer(earlier))
    assert (refreshed.status_code, refreshed.get_json()["description"]) == \
        (401, "Token has been revoked")


def stale_token(client, secret):
    """A non-fresh access token of a login with a code: its session's first refresh."""
    tokens = login_with_code(client, code_at(secret, 1))
    stale = client.post("/auth/refresh", headers=bearer(tokens["refresh_token"]))
    return stale.get_json()["access_token"]


def is_fresh(token):
    return pyjwt.decode(token, options={"verify_signature": False})["fresh"]


def test_a_password_change_with_a_stale_token_and_no_code_is_refused(enrolled):
    """Someone with the password and any session of the user can't change the password and
    lock the owner out: a code, or a fresh token, is needed too."""
    client = enrolled.test_client()
    token = stale_token(client, enrolled.secret)
    refused = change_password(client, token)
    assert (refused.status_code, refused.get_json()) == (401, {
        "status_code": 401, "error": "Invalid token", "description": "Fresh token required"})
    assert client.get("/hello", headers=bearer(token)).status_code == 200  # nothing ended
    assert password_login(client).status_code == 401  # the old password still asks for a code


def test_a_password_change_with_a_stale_token_and_a_code_is_fresh(enrolled, clock):
    client = enrolled.test_client()
    token = stale_token(client, enrolled.secret)
    clock["t"] += 30  # the next step's code
    changed = change_password(client, token, code=code_at(enrolled.secret, 2))
    assert changed.status_code == 200, changed.get_json()
    new_token = changed.get_json()["access_token"]
    assert is_fresh(new_token) is True  # both factors were proven
    assert client.delete("/auth/sessions", headers=bearer(new_token)).status_code == 200
    assert client.get("/hello", headers=bearer(token)).status_code == 401  # sessions ended
    assert password_login(client, "a brand new long password").status_code == 401  # a code


def test_a_password_change_with_a_recovery_code_spends_it(enrolled):
    client = enrolled.test_client()
    token = stale_token(client, enrolled.secret)
    code = enrolled.recovery_codes[0]
    assert change_password(client, token, recovery_code=code).status_code == 200
    with enrolled.app_context():
        assert store.recovery_codes_left(enrolled.user_id) == 9


@pytest.mark.parametrize("wrong", [{"code": "000000"}, {"recovery_code": "aaaaa-aaaaa"}])
def test_a_password_change_with_a_wrong_code_changes_nothing(enrolled, clock, wrong):
    client = enrolled.test_client()
    token = stale_token(client, enrolled.secret)
    refused = change_password(client, token, **wrong)
    assert (refused.status_code, refused.get_json()) == (401, WRONG_CODE)
    assert client.get("/hello", headers=bearer(token)).status_code == 200
    clock["t"] += 30
    assert second_step(client, challenge_of(client),
                       code=code_at(enrolled.secret, 2)).status_code == 200  # old password


def test_a_password_change_checks_the_password_before_the_code(enrolled):
    client = enrolled.test_client()
    token = stale_token(client, enrolled.secret)
    refused = client.post("/auth/password", headers=bearer(token), json={
        "current_password": "not it", "new_password": "a brand new long password",
        "code": "000000"})
    assert refused.get_json()["description"] == "The current password is not right"
    with enrolled.app_context():  # the code was not checked, so not counted
        assert db.session.get(SecondFactor, enrolled.user_id).failures == 0


def test_a_password_change_with_a_fresh_token_needs_no_code_and_is_not_fresh(enrolled):
    client = enrolled.test_client()
    token = login_with_code(client, code_at(enrolled.secret, 1))["access_token"]
    changed = change_password(client, token)
    assert changed.status_code == 200
    assert is_fresh(changed.get_json()["access_token"]) is False  # no code just now


def test_a_password_change_with_a_right_code_is_given_back_to_the_throttle(app_with, clock,
                                                                           caplog):
    """The spent code is committed before the throttle writes (SQLite has one writer): else
    the change waited out the busy timeout and stayed counted as a failed login."""
    app = app_with(RATELIMIT_LOGIN_FAILURES="1 per minute")
    client = app.test_client()
    secret, _ = enrol(client)
    token = stale_token(client, secret)
    clock["t"] += 30
    assert change_password(client, token, code=code_at(secret, 2)).status_code == 200
    assert "Throttle storage failed" not in caplog.text
    assert password_login(client, "a brand new long password").status_code == 401  # not 429


def test_a_code_without_a_second_factor_is_409(app_with):
    client = app_with().test_client()
    token = password_login(client).get_json()["access_token"]
    response = change_password(client, token, code="123456")
    assert (response.status_code, response.get_json()["description"]) == \
        (409, "No second factor is on: send no code")


def test_a_challenge_can_be_spent_once(enrolled):
    client = enrolled.test_client()
    challenge = challenge_of(client)
    assert second_step(client, challenge, code=code_at(enrolled.secret, 1)).status_code == 200
    response = second_step(client, challenge, recovery_code=enrolled.recovery_codes[0])
    assert (response.status_code, response.get_json()) == (401, NO_CHALLENGE)


def test_a_challenge_expires(app_with):
    app = app_with(SECOND_FACTOR_CHALLENGE_SECONDS=1)
    client = app.test_client()
    secret, _ = enrol(client)
    challenge = challenge_of(client)
    time.sleep(1.05)
    response = second_step(client, challenge, code=code_at(secret, 1))
    assert (response.status_code, response.get_json()) == (401, NO_CHALLENGE)


def test_a_password_change_since_the_challenge_refuses_it(enrolled):
    client = enrolled.test_client()
    challenge = challenge_of(client)
    enrolled.test_cli_runner().invoke(args=["users", "passwd", USERNAME, "--password-stdin"],
                                      input="a brand new password\n")
    response = second_step(client, challenge, code=code_at(enrolled.secret, 1))
    assert (response.status_code, response.get_json()) == (401, NO_CHALLENGE)


@pytest.mark.parametrize("challenge", ["", "x" * 43, "x" * 44, "ü" * 43])
def test_a_made_up_challenge_is_refused(enrolled, challenge):
    response = second_step(enrolled.test_client(), challenge,
                           code=code_at(enrolled.secret, 1))
    assert (response.status_code, response.get_json()) == (401, NO_CHALLENGE)


def test_a_recovery_code_works_once_and_says_how_many_are_left(enrolled):
    client = enrolled.test_client()
    spelled = enrolled.recovery_codes[3].upper().replace("-", " ")  # as typed from paper
    tokens = login_with_code(client, spelled, recovery=True)
    assert sorted(tokens) == ["access_token", "recovery_codes_left", "refresh_token"]
    assert tokens["recovery_codes_left"] == 9
    response = second_step(client, challenge_of(client),
                           recovery_code=enrolled.recovery_codes[3])
    assert (response.status_code, response.get_json()) == (401, WRONG_CODE)


@pytest.mark.parametrize("body,description", [
    ({"challenge": "c"}, "Request body must have exactly the keys challenge and code, or "
                         "challenge and recovery_code"),
    ({"challenge": "c", "code": "1", "recovery_code": "2"},
     "Request body must have exactly the keys challenge and code, or challenge and "
     "recovery_code"),
    ({"challenge": "c", "code": 123456}, "Each value must be a string of at most 256 "
                                         "characters"),
    ({"challenge": "x" * 5000, "code": "123456"}, "Each value must be a string of at most 256 "
                                                  "characters"),
])
def test_a_malformed_second_step_is_400(enrolled, body, description):
    response = enrolled.test_client().post("/auth/second-factor", json=body)
    assert response.get_json() == {"status_code": 400, "error": "Bad Request",
                                   "description": description}


def test_new_recovery_codes_need_a_code_and_end_the_old_ones(enrolled):
    client = enrolled.test_client()
    token = login_with_code(client, code_at(enrolled.secret, 1))["access_token"]
    refused = client.post("/auth/second-factor/recovery-codes", headers=bearer(token),
                          json={"code": "123456"})
    assert (refused.status_code, refused.get_json()) == (401, WRONG_CODE)
    response = client.post("/auth/second-factor/recovery-codes", headers=bearer(token),
                           json={"recovery_code": enrolled.recovery_codes[0]})
    assert response.status_code == 200
    codes = response.get_json()["recovery_codes"]
    assert len(codes) == 10 and not set(codes) & set(enrolled.recovery_codes)
    old = second_step(client, challenge_of(client), recovery_code=enrolled.recovery_codes[1])
    assert old.get_json() == WRONG_CODE
    assert login_with_code(client, codes[0], recovery=True)["recovery_codes_left"] == 9


def test_turning_it_off_needs_a_code_and_ends_every_session(enrolled):
    client = enrolled.test_client()
    token = login_with_code(client, code_at(enrolled.secret, 1))["access_token"]
    off = client.delete("/auth/second-factor", headers=bearer(token),
                        json={"recovery_code": enrolled.recovery_codes[0]})
    assert (off.status_code, off.get_json()) == (200, {"status": "second factor off",
                                                       "ended": 2, "passkeys_removed": []})
    hello = client.get("/hello", headers=bearer(token))
    assert (hello.status_code, hello.get_json()["description"]) == (401, "Token has been revoked")
    assert password_login(client).status_code == 200  # the password alone again


def test_the_operator_sees_and_resets_it(enrolled, caplog):
    runner = enrolled.test_cli_runner()
    status = runner.invoke(args=["users", "second-factor", "status", USERNAME])
    assert (status.exit_code, status.output) == (
        0, f"'{USERNAME}': second factor on, 10 recovery code(s) left\n")
    reset = runner.invoke(args=["users", "second-factor", "reset", USERNAME, "--yes"])
    assert reset.exit_code == 0
    assert reset.output.startswith(f"Reset the second factor of '{USERNAME}' in ")
    assert reset.output.endswith("; ended 1 session(s)\n")
    assert 'second_factor_reset username="admin" sessions=1' in caplog.text
    status = runner.invoke(args=["users", "second-factor", "status", USERNAME, "--json"])
    assert status.output == '{"enabled": false, "pending": false, "recovery_codes_left": 0}\n'
    assert password_login(enrolled.test_client()).status_code == 200
    unknown = runner.invoke(args=["users", "second-factor", "reset", "nobody", "--yes"])
    assert (unknown.exit_code, unknown.output) == (1, "Error: no such user: nobody\n")


def test_under_another_secret_key_no_code_matches_until_a_reset(enrolled, make_app):
    other = make_app(SECRET_KEY="another-secret-key-" + "z" * 40)
    client = other.test_client()
    response = second_step(client, challenge_of(client), code=code_at(enrolled.secret, 1))
    assert response.get_json() == WRONG_CODE
    assert other.test_cli_runner().invoke(
        args=["users", "second-factor", "reset", USERNAME, "--yes"]).exit_code == 0
    assert password_login(client).status_code == 200


@pytest.mark.parametrize("setting,value,message", [
    ("SECOND_FACTOR_ISSUER", "", "SECOND_FACTOR_ISSUER must be a name without ':', such as "
                                 "'Example API', not ''"),
    ("SECOND_FACTOR_ISSUER", "a:b", "SECOND_FACTOR_ISSUER must be a name without ':', such "
                                    "as 'Example API', not 'a:b'"),
    ("SECOND_FACTOR_CHALLENGE_SECONDS", 301, "SECOND_FACTOR_CHALLENGE_SECONDS must be a whole "
                                             "number of seconds from 1 to 300, not 301"),
    ("SECOND_FACTOR_MAX_FAILURES", 0, "SECOND_FACTOR_MAX_FAILURES must be a whole number of "
                                      "wrong codes a day, at least 1, not 0"),
])
def test_bad_second_factor_settings_are_refused(make_app, setting, value, message):
    with pytest.raises(ConfigurationError, match=f"^{re.escape(message)}$"):
        make_app(**{setting: value})


def audit_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "jwtauthtest.audit"]


def test_each_step_is_an_audit_event_and_a_metric(app_with, caplog):
    app = app_with(METRICS_ENABLED=True)
    client = app.test_client()
    before = {event: counted(app, "second_factor", event=event)
              for event in ("enrolled", "verified", "failed", "recovery_used", "removed")}
    secret, recovery_codes = enrol(client)
    challenge = challenge_of(client)
    second_step(client, challenge, code="000000")
    second_step(client, challenge, code=code_at(secret, 1))
    token = login_with_code(client, recovery_codes[0], recovery=True)["access_token"]
    client.delete("/auth/second-factor", headers=bearer(token),
                  json={"recovery_code": recovery_codes[1]})
    lines = audit_lines(caplog)
    for expected in (
            f'second_factor_enrolled user_id={app.user_id} sessions=0 passkeys_removed=0 '
            'address="127.0.0.1"',
            'login outcome="challenged" username="admin" address="127.0.0.1" '
            'reason="second factor required"',
            'login outcome="failure" username="admin" address="127.0.0.1" '
            'reason="wrong second factor"',
            'login outcome="success" username="admin" address="127.0.0.1" '
            'reason="second factor"',
            'login outcome="success" username="admin" address="127.0.0.1" '
            'reason="recovery code"',
            f'recovery_code_used user_id={app.user_id} left=9 address="127.0.0.1"',
            f'second_factor_removed user_id={app.user_id} sessions=3 passkeys_removed=0 '
            'address="127.0.0.1"'):
        assert expected in lines, (expected, lines)
    assert not any(secret in line or recovery_codes[0] in line for line in caplog.messages)
    after = {event: counted(app, "second_factor", event=event) - before[event]
             for event in before}
    assert after == {"enrolled": 1, "verified": 1, "failed": 1, "recovery_used": 1,
                     "removed": 1}


def test_a_reset_not_confirmed_changes_nothing(enrolled):
    runner = enrolled.test_cli_runner()
    answer = runner.invoke(args=["users", "second-factor", "reset", USERNAME], input="n\n")
    assert answer.exit_code == 1 and answer.output.endswith("Aborted!\n")
    assert password_login(enrolled.test_client()).status_code == 401  # still asks for a code


def test_a_days_worth_of_wrong_codes_stops_codes_but_not_recovery_codes(app_with, caplog,
                                                                         monkeypatch):
    app = app_with(SECOND_FACTOR_MAX_FAILURES=3)
    client = app.test_client()
    secret, recovery_codes = enrol(client)
    challenge = challenge_of(client)
    for _ in range(3):
        assert second_step(client, challenge, code="000000").get_json() == WRONG_CODE
    assert any(r.levelname == "WARNING" and r.getMessage().startswith(
        f"second_factor_locked user_id={app.user_id} ") for r in caplog.records)
    locked = second_step(client, challenge, code=code_at(secret, 1))
    assert locked.get_json() == {"status_code": 429, "error": "Too Many Requests",
                                 "description": "Too many wrong codes today: use a recovery "
                                 "code, or ask an operator to reset the second factor"}
    assert second_step(client, challenge, recovery_code=recovery_codes[0]).status_code == 200
    a_day_later = time.time() + 24 * 3600 + 1
    monkeypatch.setattr(time, "time", lambda: a_day_later)  # every clock but the TOTP's
    assert second_step(client, challenge_of(client), code=code_at(secret, 1)).status_code == 200


def test_a_right_code_does_not_start_the_days_count_again(app_with):
    """The owner's own sign-ins would otherwise give a password holder another day's worth of
    guesses each."""
    client = app_with(SECOND_FACTOR_MAX_FAILURES=3).test_client()
    secret, _ = enrol(client)
    challenge = challenge_of(client)
    for _ in range(2):
        assert second_step(client, challenge, code="000000").get_json() == WRONG_CODE
    assert second_step(client, challenge, code=code_at(secret, 1)).status_code == 200
    challenge = challenge_of(client)
    assert second_step(client, challenge, code="000000").get_json() == WRONG_CODE  # third
    locked = second_step(client, challenge, code=code_at(secret, 2))
    assert (locked.status_code, locked.get_json()["description"]) == (429, (
        "Too many wrong codes today: use a recovery code, or ask an operator to reset the "
        "second factor"))
