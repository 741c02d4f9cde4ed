"""The tables: users, token_families (login sessions), throttle counters, signing keys,
the second factor's (second_factors, recovery_codes, login_challenges), passkeys with their
ceremonies' challenges, and e-mail's (email_links, mail_requests, mail_outbox)."""

import time

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, validates

from jwtauthtest.database import db
from jwtauthtest.passwords import hashing
from jwtauthtest.passwords.usernames import MAX_USERNAME_LENGTH, normalise_username, username_key

MAX_USER_AGENT_LENGTH = 256
MAX_ADDRESS_LENGTH = 64
MAX_EMAIL_LENGTH = 320  # RFC 3696's 64 + 1 + 255


class User(db.Model):
    __tablename__ = "users"
    # Ids are never reused (SQLite would reuse the highest deleted one), so a deleted
    # user's old token can never speak for a newer user.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(MAX_USERNAME_LENGTH))
    # Unique, so the database itself refuses "Admin" (or "Аdmin", with a Cyrillic А) beside
    # "admin"; kept in step by the validator below, and the column logins are looked up by.
    username_key: Mapped[str] = mapped_column(String, unique=True)
    # The passlib hash; the plain password is never stored.
    password: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Epoch seconds: Flask-JWT tokens (which have no session) issued before this are
    # refused (password change, disable).
    tokens_valid_after: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    created_at: Mapped[float | None] = mapped_column(Float, default=time.time)  # epoch seconds
    last_login_at: Mapped[float | None] = mapped_column(Float)
    # One address, confirmed or not; email_key, its case-folded form, only once confirmed:
    # the database keeps confirmed addresses unique, and resets look them up by it.
    email: Mapped[str | None] = mapped_column(String(MAX_EMAIL_LENGTH))
    email_key: Mapped[str | None] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    confirm_by: Mapped[float | None] = mapped_column(Float, index=True)  # a sign-up's deadline

    @validates("username")
    def _normalise(self, _key: str, username: str) -> str:
        self.username_key = username_key(username)
        return normalise_username(username)

    def hash_password(self, password: str) -> None:
        self.password = hashing.hash_password(password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username!r}>"


class TokenFamily(db.Model):
    """One login session: the refresh token that may be used next, and when it expires.

    Its tokens carry its id in their ``fam`` claim. Deleting the row revokes all of
    them at once (logout, a reused refresh token); expired rows are purged.
    """

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_jti: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    last_used_at: Mapped[float | None] = mapped_column(Float)  # the last refresh
    # The refresh token the last refresh spent, when, and by which client: presented again
    # within JWT_REFRESH_REUSE_GRACE by that client, it is a lost answer, not a theft
    # (sessions.rotate_session).
    previous_refresh_jti: Mapped[str | None] = mapped_column(String(32))
    rotated_at: Mapped[float | None] = mapped_column(Float)
    rotated_by: Mapped[str | None] = mapped_column(String(32))  # sessions.client_digest
    # After a grace answer, the refresh token the lost answer carried: spendable instead of
    # refresh_jti (whichever of the two the client kept), until one of them is spent.
    alternate_refresh_jti: Mapped[str | None] = mapped_column(String(32))
    # Of the login, for the user to recognise the session (GET /auth/sessions).
    user_agent: Mapped[str | None] = mapped_column(String(MAX_USER_AGENT_LENGTH))
    address: Mapped[str | None] = mapped_column(String(MAX_ADDRESS_LENGTH))
    # The passkey that signed in, if one did: deleting it ends the session.
    passkey_id: Mapped[str | None] = mapped_column(
        ForeignKey("passkeys.id", ondelete="CASCADE"), index=True)


class ThrottleCounter(db.Model):
    """One fixed-window counter of login attempts (RATELIMIT_STORAGE_URI "database://").

    Shared by every process using the database and kept across restarts; changed only by
    single atomic statements (see throttle/counters.py). Rows whose window has passed are purged.
    """

    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    hits: Mapped[int]
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds


class SigningKey(db.Model):
    """A key that signs and verifies tokens (keys/keyset.py): its id is the tokens' ``kid``."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    # The PEM private key or the HMAC secret, encrypted with a key derived from SECRET_KEY.
    private_key: Mapped[str] = mapped_column(String)
    created_at: Mapped[float] = mapped_column(Float, index=True)  # epoch seconds
    retired_at: Mapped[float | None] = mapped_column(Float)  # no longer verifies from then on
    # The algorithm this key was made first of (keys.KeySet.ensure_signing_key), once per
    # database: processes starting at once agree on one first key, and one retired is not
    # made again. The first key of an HMAC algorithm is JWT_SECRET_KEY itself.
    first_of: Mapped[str | None] = mapped_column(String(16), unique=True)
    # The HMAC key of JWT_SECRET_KEY made beside an asymmetric first key: it verifies
    # Flask-JWT's tokens (no kid) and never signs, whatever JWT_ALGORITHM says.
    verify_only: Mapped[bool] = mapped_column(default=False, server_default=false())


class SecondFactor(db.Model):
    """A user's authenticator app (second_factor/): the TOTP secret, and the last time step a
    code was accepted for, so that no code is accepted twice."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    # Encrypted with a key derived from SECRET_KEY, as the signing keys are.
    secret: Mapped[str] = mapped_column(String)
    created_at: Mapped[float] = mapped_column(Float)  # epoch seconds
    enabled_at: Mapped[float | None] = mapped_column(Float)  # None until a first code
    last_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Wrong codes counted since the count last started again, which it does once a day has
    # passed since last_failure_at (the last wrong code, or the try that started the count):
    # at SECOND_FACTOR_MAX_FAILURES, codes are refused until then (recovery codes still
    # work). Each try is counted before its code is checked, and given back if it was right.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure_at: Mapped[float | None] = mapped_column(Float)


class RecoveryCode(db.Model):
    """A single-use recovery code, stored as an HMAC keyed from SECRET_KEY (the codes are
    random, so a fast keyed hash is enough; argon2 would cost seconds for ten)."""

    __tablename__ = "recovery_codes"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    used_at: Mapped[float | None] = mapped_column(Float)


class LoginChallenge(db.Model):
    """A right password of a user with a second factor, waiting for its code: the SHA-256
    of the challenge handed out, spent once, within SECOND_FACTOR_CHALLENGE_SECONDS."""

    __tablename__ = "login_challenges"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's cut-off when the password was checked: a password change, a disable or a
    # reset since then refuses the challenge.
    tokens_valid_after: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # wrong codes


class Passkey(db.Model):
    """A WebAuthn credential (passkeys/): its public key, the last sign count its
    authenticator reported, and what the user sees of it."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String, primary_key=True)  # the credential id, base64url
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user handle the authenticator keeps beside it (random, one per user), base64url.
    user_handle: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String)  # COSE, base64url
    sign_count: Mapped[int] = mapped_column(BigInteger)  # 32 bits unsigned, in WebAuthn
    transports: Mapped[str] = mapped_column(String(256))  # a JSON list, e.g. ["internal"]
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    # Whether the account had a second factor when it was added: one added with the password
    # alone goes when the account is locked down (passkeys/store.py).
    with_second_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where it was added from, for its owner to recognise it.
    added_address: Mapped[str | None] = mapped_column(String(MAX_ADDRESS_LENGTH))
    added_user_agent: Mapped[str | None] = mapped_column(String(MAX_USER_AGENT_LENGTH))


class PasskeyChallenge(db.Model):
    """A WebAuthn ceremony's challenge (its SHA-256), spent once: a registration's bound to
    its user (and the user handle offered), a sign-in's to no one."""

    __tablename__ = "passkey_challenges"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_handle: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    # A sign-in's from a client with no address (a proxy on a unix socket): no count by
    # address bounds those, so WEBAUTHN_MAX_SIGN_IN_CHALLENGES does.
    without_address: Mapped[bool] = mapped_column(default=False, server_default=false())


class EmailLink(db.Model):
    """A single-use link a user was sent, known by its token's SHA-256 (addresses/links.py)."""

    __tablename__ = "email_links"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "reset", "confirm"
    address: Mapped[str | None] = mapped_column(String(MAX_EMAIL_LENGTH))  # one to confirm
    # The user's cut-off when it was made: a password change or a disable voids it.
    tokens_valid_after: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class MailRequest(db.Model):
    """A message asked for, its address not looked up yet: the sender does that later."""

    __tablename__ = "mail_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "reset", "address", "sign_up"
    address: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))  # as typed
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[float] = mapped_column(Float, default=time.time)


class MailMessage(db.Model):
    """A message in the outbox (mail/): deleted once the mail server has accepted it."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255))  # the same on every try
    recipient: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(String)  # text and HTML, encrypted (a link is a key)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
    next_try_at: Mapped[float] = mapped_column(Float, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_until: Mapped[float | None] = mapped_column(Float)  # a sender's, while it sends
    last_error: Mapped[str | None] = mapped_column(String(255))
