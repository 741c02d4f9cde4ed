"""The counts that bound guessing of second-factor codes (issue 32): each code is
counted before it is checked, against its login challenge (five tries) and against the
user's day (SECOND_FACTOR_MAX_FAILURES, starting again only after a day without a wrong
code); the acts that need a fresh token; the secrets' key; and a password login racing the
second factor's enrolment. The TOTP codes come from pyotp at a time the test sets."""

import threading
import time

import jwt as pyjwt
import pyotp
import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import select, update

import jwtauthtest.account.second_factor
import jwtauthtest.jwt
import jwtauthtest.second_factor.challenges
from jwtauthtest.database import db
from jwtauthtest.keys.material import storage_cipher
from jwtauthtest.models import LoginChallenge, RecoveryCode, SecondFactor, TokenFamily, User
from jwtauthtest.second_factor import store, totp

from account_api import INVALID_CREDENTIALS, bearer, change_password, password_login
from second_factor_api import NO_CHALLENGE, WRONG_CODE, challenge_of, code_at, enrol, second_step

pytest_plugins = ["second_factor_api"]

DAY = 24 * 3600
FIFTH_WRONG_CODE = {**WRONG_CODE, "description": "The code is not right, five times: log in "
                    "with the password again"}
LOCKED = {"status_code": 429, "error": "Too Many Requests", "description":
          "Too many wrong codes today: use a recovery code, or ask an operator to reset the "
          "second factor"}
FRESH_REQUIRED = {"status_code": 401, "error": "Invalid token",
                  "description": "Fresh token required"}
NO_THROTTLE = {"RATELIMIT_ENABLED": False}  # the login throttle would answer 429 first


def answer(response):
    return response.status_code, response.get_json()


def not_a_code(secret):
    """Six digits that are none of the codes within two steps of NOW."""
    near = {code_at(secret, steps) for steps in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


def enrolled_app(app_with, **config):
    """An app whose user has a second factor (NOW's code spent enrolling): its secret and
    recovery codes on app.secret and app.recovery_codes."""
    app = app_with(**config)
    app.secret, app.recovery_codes = enrol(app.test_client())
    return app


def refreshed(client, refresh_token):
    """The non-fresh access token of a refresh."""
    response = client.post("/auth/refresh", headers=bearer(refresh_token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def stale_token(client, secret, steps=1):
    """A non-fresh access token of a login with a code: its session's first refresh."""
    tokens = second_step(client, challenge_of(client), code=code_at(secret, steps))
    assert tokens.status_code == 200, tokens.get_json()
    return refreshed(client, tokens.get_json()["refresh_token"])


class Evaluations:
    """Counts the codes checked against a secret from now on (store.matching_step's calls,
    from any thread)."""

    def __init__(self, monkeypatch):
        self.count = 0
        self.lock = threading.Lock()
        check = store.matching_step

        def counted(factor, code):
            with self.lock:
                self.count += 1
            return check(factor, code)

        monkeypatch.setattr(store, "matching_step", counted)


def all_at_once(calls):
    """Each call in a thread of its own, released together; their results, in order."""
    together = threading.Barrier(len(calls), timeout=30)
    results = [None] * len(calls)

    def run(index, call):
        together.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def day_count(app):
    """The user's wrong codes counted today (second_factors.failures)."""
    with app.app_context():
        return db.session.get(SecondFactor, app.user_id).failures


def set_day_count(app, failures):
    with app.app_context():
        db.session.execute(update(SecondFactor).where(SecondFactor.user_id == app.user_id)
                           .values(failures=failures, last_failure_at=time.time()))
        db.session.commit()


def challenge_tries(app, challenge):
    """login_challenges.failures of a challenge; None once it is gone."""
    with app.app_context():
        return db.session.scalar(select(LoginChallenge.failures).where(
            LoginChallenge.digest == jwtauthtest.second_factor.challenges.digest(challenge)))


def test_parallel_wrong_codes_on_one_challenge_have_five_checked(app_with, monkeypatch):
    """Sixteen requests find the challenge live, then all count their tries at once."""
    app = enrolled_app(app_with, **NO_THROTTLE)
    challenge, wrong = challenge_of(app.test_client()), not_a_code(app.secret)
    look_up, all_found = jwtauthtest.account.second_factor.challenged_user, threading.Barrier(16)

    def found_together(challenge):
        user = look_up(challenge)
        db.session.commit()  # (its connection back to the pool, which holds fifteen)
        all_found.wait(timeout=30)
        return user

    seen, check = [], store.matching_step

    def checked(factor, code):
        """The challenge's stored tries, as each code is checked."""
        seen.append(db.session.scalar(select(LoginChallenge.failures).where(
            LoginChallenge.digest == jwtauthtest.second_factor.challenges.digest(challenge))))
        return check(factor, code)

    monkeypatch.setattr(jwtauthtest.account.second_factor, "challenged_user", found_together)
    monkeypatch.setattr(store, "matching_step", checked)
    results = all_at_once([lambda: answer(second_step(app.test_client(), challenge,
                                                      code=wrong))] * 16)
    assert len(seen) == 5  # codes checked
    assert all(tries is None or 1 <= tries <= 5 for tries in seen), seen
    assert sorted(results, key=repr) == sorted(
        [(401, WRONG_CODE)] * 4 + [(401, FIFTH_WRONG_CODE)] + [(401, NO_CHALLENGE)] * 11,
        key=repr)
    assert challenge_tries(app, challenge) is None  # ended by its fifth wrong code
    assert day_count(app) == 5


def test_parallel_wrong_codes_at_the_days_last_try_have_one_checked(app_with, monkeypatch):
    app = enrolled_app(app_with, SECOND_FACTOR_MAX_FAILURES=20, **NO_THROTTLE)
    client = app.test_client()
    challenges = [challenge_of(client) for _ in range(10)]
    set_day_count(app, 19)
    evaluations = Evaluations(monkeypatch)
    wrong = not_a_code(app.secret)
    results = all_at_once([
        lambda challenge=challenge: answer(second_step(app.test_client(), challenge,
                                                       code=wrong))
        for challenge in challenges])
    assert evaluations.count == 1
    assert sorted(results, key=repr) == sorted([(401, WRONG_CODE)] + [(429, LOCKED)] * 9,
                                               key=repr)
    assert day_count(app) == 20
    tries = {challenge: challenge_tries(app, challenge) for challenge in challenges}
    assert [tries[challenge] for challenge, result in zip(challenges, results, strict=True)
            if result == (429, LOCKED)] == [0] * 9  # a 429 costs its challenge no try
    assert [tries[challenge] for challenge, result in zip(challenges, results, strict=True)
            if result == (401, WRONG_CODE)] == [1]


@pytest.fixture
def wall_clock(monkeypatch):
    """A function moving time.time (the day's count's clock, not the TOTP's) that many
    seconds ahead of the real time; it keeps running meanwhile."""
    real, offset = time.time, {"s": 0.0}
    monkeypatch.setattr(time, "time", lambda: real() + offset["s"])

    def move_to(seconds):
        offset["s"] = seconds

    return move_to


def wrong_code_at_login(app):
    client = app.test_client()
    return answer(second_step(client, challenge_of(client), code=not_a_code(app.secret)))


def test_wrong_codes_less_than_a_day_apart_keep_adding_up_across_days(app_with, monkeypatch,
                                                                      wall_clock):
    """One wrong code a day, just under a day apart, would otherwise never be stopped."""
    app = enrolled_app(app_with, SECOND_FACTOR_MAX_FAILURES=3, **NO_THROTTLE)
    evaluations = Evaluations(monkeypatch)
    for hours, failures in ((0, 1), (23, 2), (46, 3)):
        wall_clock(hours * 3600)
        assert wrong_code_at_login(app) == (401, WRONG_CODE)
        assert day_count(app) == failures
    wall_clock(47 * 3600)  # 47 hours after the first: still no quiet day
    client = app.test_client()
    locked = second_step(client, challenge_of(client), code=code_at(app.secret, 1))
    assert answer(locked) == (429, LOCKED)
    assert evaluations.count == 3
    assert day_count(app) == 3


def test_a_day_without_a_wrong_code_starts_the_count_again(app_with, monkeypatch, wall_clock):
    app = enrolled_app(app_with, SECOND_FACTOR_MAX_FAILURES=3, **NO_THROTTLE)
    for _ in range(3):
        assert wrong_code_at_login(app) == (401, WRONG_CODE)
    evaluations = Evaluations(monkeypatch)
    wall_clock(DAY - 60)
    assert wrong_code_at_login(app) == (429, LOCKED)
    assert (evaluations.count, day_count(app)) == (0, 3)
    wall_clock(DAY + 1)
    assert wrong_code_at_login(app) == (401, WRONG_CODE)
    assert evaluations.count == 1
    assert day_count(app) == 1


def test_a_right_code_gives_back_its_try_and_does_not_start_the_count_again(app_with):
    """The owner's sign-ins between a password holder's guesses leave the count as it was."""
    app = enrolled_app(app_with, SECOND_FACTOR_MAX_FAILURES=3, **NO_THROTTLE)
    client = app.test_client()
    assert wrong_code_at_login(app) == (401, WRONG_CODE)
    assert day_count(app) == 1
    assert second_step(client, challenge_of(client),
                       code=code_at(app.secret, 1)).status_code == 200
    assert day_count(app) == 1
    assert wrong_code_at_login(app) == (401, WRONG_CODE)
    assert day_count(app) == 2


def test_a_challenge_expiring_during_the_request_is_refused_and_its_code_not_counted(
        app_with, monkeypatch, wall_clock):
    """The challenge is live when looked up, expired when its try is to be counted."""
    app = enrolled_app(app_with, SECOND_FACTOR_CHALLENGE_SECONDS=60, **NO_THROTTLE)
    client = app.test_client()
    challenge = challenge_of(client)
    looked_up = jwtauthtest.account.second_factor.challenged_user

    def then_expired(challenge):
        user = looked_up(challenge)
        wall_clock(61)
        return user

    monkeypatch.setattr(jwtauthtest.account.second_factor, "challenged_user", then_expired)
    evaluations = Evaluations(monkeypatch)
    response = second_step(client, challenge, code=not_a_code(app.secret))
    assert answer(response) == (401, NO_CHALLENGE)
    assert evaluations.count == 0
    assert day_count(app) == 0
    assert challenge_tries(app, challenge) == 0


def stored(app):
    """Every row of the tables the acts on a second factor could change."""
    with app.app_context():
        return {model.__tablename__: sorted(
            (tuple(row) for row in db.session.execute(select(model.__table__))), key=repr)
            for model in (User, SecondFactor, RecoveryCode, TokenFamily, LoginChallenge)}


def turn_off_or_renew(app, method, path):
    """An enrolled user's non-fresh token, and the act with a right recovery code."""
    app.secret, app.recovery_codes = enrol(app.test_client())
    token = stale_token(app.test_client(), app.secret)
    return lambda client: client.open(path, method=method, headers=bearer(token),
                                      json={"recovery_code": app.recovery_codes[0]})


def start_enrolment(app):
    """A user without a second factor: a non-fresh token of a password login."""
    token = refreshed(app.test_client(),
                      password_login(app.test_client()).get_json()["refresh_token"])
    return lambda client: client.post("/auth/second-factor/enrolment", headers=bearer(token))


def confirm_enrolment(app):
    """An enrolment started with a fresh token, confirmed with the same session's non-fresh
    one and a right code."""
    client = app.test_client()
    tokens = password_login(client).get_json()
    secret = client.post("/auth/second-factor/enrolment",
                         headers=bearer(tokens["access_token"])).get_json()["secret"]
    token = refreshed(client, tokens["refresh_token"])
    return lambda client: client.post("/auth/second-factor/enrolment/confirm",
                                      headers=bearer(token), json={"code": code_at(secret)})


@pytest.mark.parametrize("act", [
    lambda app: turn_off_or_renew(app, "DELETE", "/auth/second-factor"),
    lambda app: turn_off_or_renew(app, "POST", "/auth/second-factor/recovery-codes"),
    start_enrolment,
    confirm_enrolment,
], ids=["turn off", "new recovery codes", "start enrolment", "confirm enrolment"])
def test_acts_on_the_second_factor_refuse_a_token_that_is_not_fresh(app_with, act):
    app = app_with()
    request = act(app)
    before = stored(app)
    response = request(app.test_client())
    assert answer(response) == (401, FRESH_REQUIRED)
    assert stored(app) == before


def test_secrets_are_encrypted_under_secret_key_not_jwt_secret_key(app_with):
    secret_key = "secret-key-7c1e9a4f2b8d6e0a3c5f9b1d7e2a4c8f"
    jwt_secret_key = "jwt-secret-key-2d8f4a6c0e1b3d5f7a9c2e4b6d8f0a1c"
    app = app_with(SECRET_KEY=secret_key, JWT_SECRET_KEY=jwt_secret_key)
    secret, _ = enrol(app.test_client())
    with app.app_context():
        stored_secret = db.session.get(SecondFactor, app.user_id).secret.encode()
    assert storage_cipher(secret_key.encode(), b"second factors").decrypt(stored_secret) == \
        secret.encode()
    with pytest.raises(InvalidToken):
        storage_cipher(jwt_secret_key.encode(), b"second factors").decrypt(stored_secret)


def test_a_wrong_code_with_a_password_change_counts_in_the_day(app_with):
    app = enrolled_app(app_with)
    client = app.test_client()
    token = stale_token(client, app.secret)
    assert day_count(app) == 0
    refused = change_password(client, token, code=not_a_code(app.secret))
    assert answer(refused) == (401, WRONG_CODE)
    assert day_count(app) == 1


def test_a_password_change_with_a_code_is_429_unchecked_once_the_day_is_spent(
        app_with, clock, monkeypatch):
    app = enrolled_app(app_with, SECOND_FACTOR_MAX_FAILURES=3)
    client = app.test_client()
    token = stale_token(client, app.secret)
    set_day_count(app, 3)
    evaluations = Evaluations(monkeypatch)
    clock["t"] += 30  # the next step's code: right, and unspent
    refused = change_password(client, token, code=code_at(app.secret, 2))
    assert answer(refused) == (429, LOCKED)
    assert evaluations.count == 0
    assert day_count(app) == 3
    assert client.get("/hello", headers=bearer(token)).status_code == 200  # nothing ended
    assert password_login(client).status_code == 401  # the old password still asks for a code


def test_a_password_login_racing_the_enrolment_is_refused(app_with, monkeypatch):
    """The login checked that no second factor was on, then the second factor was turned on
    before it wrote its session: it must not keep a password-only session."""
    app = app_with()
    client = app.test_client()
    tokens = password_login(client).get_json()  # the session that enrols
    racing, checked, go_on = {}, threading.Event(), threading.Event()
    record = jwtauthtest.jwt.record_login

    def paused(user, new_hash):
        checked.set()
        assert go_on.wait(timeout=30)
        return record(user, new_hash)

    monkeypatch.setattr(jwtauthtest.jwt, "record_login", paused)
    login = threading.Thread(target=lambda: racing.update(
        response=answer(password_login(app.test_client()))))
    login.start()
    try:
        assert checked.wait(timeout=30)
        token = tokens["access_token"]
        secret = client.post("/auth/second-factor/enrolment",
                             headers=bearer(token)).get_json()["secret"]
        confirmed = client.post("/auth/second-factor/enrolment/confirm", headers=bearer(token),
                                json={"code": pyotp.TOTP(secret).at(totp.clock())})
        assert confirmed.status_code == 200, confirmed.get_json()
    finally:
        go_on.set()
        login.join(timeout=30)
    assert racing["response"] == (401, INVALID_CREDENTIALS)
    with app.app_context():
        sessions = db.session.scalars(select(TokenFamily.id)).all()
    assert sessions == [session_of(tokens["access_token"])]


def session_of(token):
    return pyjwt.decode(token, options={"verify_signature": False})["fam"]
