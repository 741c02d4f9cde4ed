"""Signing keys: a set with ids (``kid``), in the database so that every instance shares it.

The newest key of ``JWT_ALGORITHM`` that isn't retired signs; every key that isn't retired
verifies the tokens naming it. A token without ``kid`` (Flask-JWT's) verifies only with the
HMAC key made of ``JWT_SECRET_KEY``, while that key is in the set: retiring it, or replacing
``JWT_SECRET_KEY``, ends them. Private parts are stored encrypted with a key derived from
``SECRET_KEY``. Each process keeps the set in memory and reads it again at least every
``JWT_KEY_REFRESH_SECONDS``, and when a token names a key it doesn't know.
"""

import hmac
import logging
import threading
import time
from typing import Any

from cryptography.fernet import InvalidToken
from flask import Flask, current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from jwtauthtest.database import db
from jwtauthtest.entrypoints import starting_a_server
from jwtauthtest.keys.material import (
    ALGORITHMS,
    HMAC_ALGORITHMS,
    Key,
    load_key,
    new_key_material,
    storage_cipher,
)
from jwtauthtest.keys.verified import VerifiedTokens
from jwtauthtest.models import SigningKey
from jwtauthtest.secret import HOW_TO_MAKE_ONE, app_secret
from jwtauthtest.settings import (
    ConfigurationError,
    number_of_seconds,
    secret_bytes,
    whole_number,
)

EXTENSION_KEY = "jwtauthtest.keys"
logger = logging.getLogger("jwtauthtest.keys")
UNKNOWN_KID_REFRESH_S = 1.0  # a burst of made-up kids costs at most one query a second
_keys = SigningKey.__table__


class KeySet:
    def __init__(self, algorithm: str, secret: bytes, configured_secret: bytes,
                 refresh_seconds: float, remembered_tokens: int = 0) -> None:
        self.algorithm = algorithm
        self.configured_secret = configured_secret
        # What Flask-JWT signed with: JWT_ALGORITHM, or HS256 under an asymmetric one.
        self.kidless_algorithm = algorithm if algorithm in HMAC_ALGORITHMS else "HS256"
        self.fernet = storage_cipher(secret)
        self.refresh_seconds = refresh_seconds
        self._keys: dict[str, Key] = {}
        self._signing: Key | None = None
        self._kidless: Key | None = None
        self._next_refresh = 0.0
        self._next_unknown_refresh = 0.0
        self._unreadable: set[str] = set()
        self._lock = threading.Lock()
        self.verified = VerifiedTokens(remembered_tokens)  # forgotten at every read

    def verified_token(self, token: str) -> tuple[dict[str, Any], str | None] | None:
        """A token's claims and kid if it passed the full check since the set was last read
        and hasn't expired (keys/verified.py), else None."""
        self._refresh_if_due()
        return self.verified.get(token)

    def signing_key(self) -> Key:
        self._refresh_if_due()
        if self._signing is None:  # the database was away at start, or all were retired
            self.ensure_signing_key()
        assert self._signing is not None  # noqa: S101 (ensure_signing_key made one)
        return self._signing

    def current_key(self) -> Key | None:
        """The key that signs now, as last read (None before a first one is made)."""
        self._refresh_if_due()
        return self._signing

    @property
    def signing_kid(self) -> str | None:
        current = self.current_key()
        return current.kid if current is not None else None

    def verifying_key(self, kid: str) -> Key | None:
        self._refresh_if_due()
        key = self._keys.get(kid)
        if key is None and time.monotonic() >= self._next_unknown_refresh:
            self._next_unknown_refresh = time.monotonic() + UNKNOWN_KID_REFRESH_S
            self.refresh()  # a key another instance made since
            key = self._keys.get(kid)
        return key

    def kidless_key(self) -> Key | None:
        """The key that verifies tokens without ``kid``: the HMAC key of JWT_SECRET_KEY, if
        it is in the set (None once it is retired, or JWT_SECRET_KEY replaced)."""
        self._refresh_if_due()
        return self._kidless

    def live_keys(self) -> list[Key]:
        self._refresh_if_due()
        return sorted(self._keys.values(), key=lambda key: key.created_at)

    def _refresh_if_due(self) -> None:
        if time.monotonic() >= self._next_refresh:
            self.refresh()

    def refresh(self) -> None:
        """Read the keys that aren't retired: the one that signs, the one that verifies
        tokens without kid, and the rest (ensure_signing_key makes any that are missing)."""
        rows = db.session.execute(select(_keys).where(_keys.c.retired_at.is_(None))
                                  .order_by(_keys.c.created_at)).all()
        db.session.commit()
        loaded = [(self._load(row), row.verify_only) for row in rows]
        keys = {key.kid: key for key, _ in loaded if key is not None}
        signing = [key for key, verify_only in loaded if key is not None
                   and key.algorithm == self.algorithm and not verify_only]
        kidless = [key for key in keys.values() if key.algorithm == self.kidless_algorithm
                   and hmac.compare_digest(key.signing, self.configured_secret)]
        with self._lock:
            self._keys = keys
            self._signing = signing[-1] if signing else None
            self._kidless = kidless[0] if kidless else None
            self._next_refresh = time.monotonic() + self.refresh_seconds
        self.verified.forget_all()  # a key may be gone: its tokens get the full check again

    def _load(self, row: Any) -> Key | None:
        try:
            private = self.fernet.decrypt(row.private_key.encode())
        except InvalidToken:  # tokens it signed are refused; a new key signs if need be
            if row.kid not in self._unreadable:
                self._unreadable.add(row.kid)
                logger.warning("Signing key %s was stored with another SECRET_KEY: it neither "
                               "signs nor verifies here; set that SECRET_KEY back, or retire "
                               "it with `flask --app jwtauthtest keys retire %s --force`",
                               row.kid, row.kid)
            return None
        return load_key(row.kid, row.algorithm, private, row.created_at)

    def create(self, algorithm: str, secret: bytes | None = None, first_of: str | None = None,
               verify_only: bool = False) -> str:
        """Store a new key (for HMAC the given secret, else a random one); its kid."""
        kid, material = new_key_material(algorithm, secret)
        db.session.execute(insert(_keys).values(
            kid=kid, algorithm=algorithm, created_at=time.time(), first_of=first_of,
            verify_only=verify_only, private_key=self.fernet.encrypt(material).decode()))
        db.session.commit()
        self._next_refresh = 0.0
        return kid

    def ensure_signing_key(self) -> None:
        """A key to sign with, and under an asymmetric JWT_ALGORITHM the HMAC key of
        JWT_SECRET_KEY too, which only verifies Flask-JWT's tokens (so that a Flask-JWT
        deployment switches without logging anyone out). Each is made once per database;
        if that first key was retired since, a random one signs."""
        self.refresh()
        if self._signing is None:
            self._make_first(self.algorithm)
        if self.kidless_algorithm != self.algorithm:
            self._make_first(self.kidless_algorithm, verify_only=True)
        self.refresh()
        if self._signing is None:
            self.create(self.algorithm)
            self.refresh()

    def _make_first(self, algorithm: str, verify_only: bool = False) -> None:
        """The first key of the algorithm — for HMAC the configured secret itself, so that
        tokens still verify with it — unless one was made before (processes starting at once
        all try; the database's unique ``first_of`` lets one succeed)."""
        made = db.session.scalar(select(_keys.c.kid).where(_keys.c.first_of == algorithm))
        db.session.commit()
        if made is not None:
            return
        secret = self.configured_secret if algorithm in HMAC_ALGORITHMS else None
        try:
            self.create(algorithm, secret, first_of=algorithm, verify_only=verify_only)
        except IntegrityError:  # another process made it first
            db.session.rollback()

    def retire(self, kid: str) -> None:
        db.session.execute(update(_keys).where(_keys.c.kid == kid)
                           .values(retired_at=time.time()))
        db.session.commit()
        self._next_refresh = 0.0


def init_keys(app: Flask) -> None:
    algorithm = app.config["JWT_ALGORITHM"]
    if algorithm not in ALGORITHMS:
        raise ConfigurationError(f"JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}, "
                                 f"not {algorithm!r}")
    needed, secret = HMAC_ALGORITHMS.get(algorithm, 0), secret_bytes(app.config["JWT_SECRET_KEY"])
    if len(secret) < needed:  # RFC 7518 section 3.2: at least as long as the hash
        raise ConfigurationError(
            f"JWT_ALGORITHM {algorithm} needs a JWT_SECRET_KEY of at least {needed} bytes, not "
            f"{len(secret)}: e.g. {HOW_TO_MAKE_ONE}")
    refresh_seconds = number_of_seconds(app.config, "JWT_KEY_REFRESH_SECONDS")
    remembered = whole_number(app.config, "JWT_VERIFIED_TOKENS", "tokens")
    app.extensions[EXTENSION_KEY] = KeySet(
        algorithm, app_secret(app), secret_bytes(app.config["JWT_SECRET_KEY"]),
        float(refresh_seconds), remembered)


def prepare_signing_key(app: Flask) -> None:
    """A starting server reads the keys, making the first one if there is none (a database
    that is away or not upgraded yet is read at the first login instead)."""
    if not starting_a_server():
        return  # commands other than `keys` never need one
    with app.app_context():
        try:
            key_set().ensure_signing_key()
        except SQLAlchemyError:
            db.session.rollback()


def key_set() -> KeySet:
    return current_app.extensions[EXTENSION_KEY]
