"""Password hashing: the one CryptContext used by the app and every command, and password
checks that take the same time whatever the stored hash, the user or the outcome."""

import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from flask import Flask, current_app
from passlib.context import CryptContext

from jwtauthtest.passwords.costs import (
    MAX_SHA_CRYPT_PASSWORD,
    cost_problem,
    hash_kind,
    too_long_for,
)
from jwtauthtest.settings import whole_number

EXTENSION_KEY = "jwtauthtest.passwords"
MAX_PASSWORD_LENGTH = 1024
TIMING_SAMPLES = 3  # checks timed per kind of stored hash (VerificationTime)
# Hashes these schemes made still verify, and are rewritten as argon2id on the next login.
LEGACY_SCHEMES = ["bcrypt", "pbkdf2_sha256", "django_pbkdf2_sha256", "sha512_crypt",
                  "sha256_crypt"]


class Verification(NamedTuple):
    matches: bool
    outdated: bool  # a match whose hash should be rewritten with the current parameters


class Passwords:
    def __init__(self, context: CryptContext) -> None:
        self.context = context
        self.dummy_hash = dummy_hash(context)
        self.time = VerificationTime(context)


class VerificationTime:
    """Every password check lasts as long as the slowest kind of stored hash known to this
    process needs (the current parameters' at least): a faster check waits out the rest.

    Each kind of hash (scheme and cost parameters) is timed once, with the longest password
    it costs most for: at start for the kinds stored then, else when first met.
    """

    def __init__(self, context: CryptContext) -> None:
        self.context = context
        self.floor = 0.0  # seconds
        self._timed: set[str] = set()
        self._lock = threading.Lock()

    def time_kinds(self, password_hashes: Iterable[str]) -> None:
        for password_hash in password_hashes:
            kind = hash_kind(password_hash)
            with self._lock:
                if kind in self._timed:
                    continue
                self._timed.add(kind)
            if cost_problem(self.context, password_hash) is None:
                self.floor = max(self.floor, self._time_one(password_hash))

    def _time_one(self, password_hash: str) -> float:
        """The slowest of a few checks: one sample, taken in a quiet moment, would set the
        floor below what the kind costs when the machine is busy."""
        slowest_password = "x" * MAX_SHA_CRYPT_PASSWORD
        durations = []
        for _ in range(TIMING_SAMPLES):
            started = time.perf_counter()
            try:
                self.context.verify(slowest_password, password_hash)
            except (ValueError, TypeError):
                pass
            durations.append(time.perf_counter() - started)
        return max(durations)

    @contextmanager
    def equalised(self, password_hash: str) -> Iterator[None]:
        self.time_kinds([password_hash])
        started = time.perf_counter()
        yield
        remaining = self.floor - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)


def dummy_hash(context: CryptContext) -> str:
    """An argon2 hash of the current parameters that no password matches: a random salt
    and a random digest. Verifying against it costs what a real verification costs,
    and making it costs nothing (no hashing at start, nor at the first unknown user)."""
    handler = context.handler("argon2")
    return handler(salt=secrets.token_bytes(handler.default_salt_size),
                   checksum=secrets.token_bytes(handler.checksum_size),
                   use_defaults=True).to_string()


def init_passwords(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Passwords(CryptContext(
        schemes=["argon2", *LEGACY_SCHEMES],
        deprecated="auto",
        argon2__type="ID",
        argon2__memory_cost=whole_number(app.config, "ARGON2_MEMORY_COST", "KiB", 8),
        argon2__time_cost=whole_number(app.config, "ARGON2_TIME_COST", "passes", 1),
        argon2__parallelism=whole_number(app.config, "ARGON2_PARALLELISM", "lanes", 1),
    ))


def time_stored_hashes(app: Flask, password_hashes: Iterable[str]) -> None:
    """Time the current parameters and each kind of hash stored now (servers, at start)."""
    passwords = app.extensions[EXTENSION_KEY]
    passwords.time.time_kinds([passwords.dummy_hash, *password_hashes])


def _passwords() -> Passwords:
    return current_app.extensions[EXTENSION_KEY]


def password_context() -> CryptContext:
    return _passwords().context


def hash_password(password: str) -> str:
    return password_context().hash(password)


def verify_password(password: str, password_hash: str) -> Verification:
    """Check a password in the time the slowest stored kind of hash takes. A hash past its
    scheme's cost limits, or a password too long for a SHA-crypt hash, never matches."""
    passwords = _passwords()
    context = passwords.context
    with passwords.time.equalised(password_hash):
        if cost_problem(context, password_hash) or too_long_for(context, password, password_hash):
            return Verification(False, False)
        try:
            matches = context.verify(password, password_hash)
        except (ValueError, TypeError):  # an unrecognised hash, or one its scheme refuses
            return Verification(False, False)
        return Verification(matches, matches and context.needs_update(password_hash))


def spend_verification_time(password: str) -> None:
    """Cost what a real verification costs, when there is no user to verify against."""
    verify_password(password, _passwords().dummy_hash)
