"""The two WebAuthn ceremonies. Each begins with options holding a new challenge, stored as its
SHA-256 for CHALLENGE_SECONDS; the browser's answer names that challenge in its client data,
and is verified only after the challenge is spent, so that no answer counts twice. The
verification itself — origin, RP id, user presence and verification, signatures, sign
counts — is the ``webauthn`` library's.
"""

import hashlib
import json
import logging
import secrets
import time
from typing import Any

import webauthn
from sqlalchemy import (
    Boolean,
    Float,
    Integer,
    String,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from webauthn.helpers import (
    bytes_to_base64url,
    decode_credential_public_key,
    decoded_public_key_to_cryptography,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from werkzeug.exceptions import ServiceUnavailable

from jwtauthtest.database import db
from jwtauthtest.models import (
    MAX_ADDRESS_LENGTH,
    MAX_USER_AGENT_LENGTH,
    Passkey,
    PasskeyChallenge,
)
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passkeys.settings import CHALLENGE_SECONDS, RelyingParty
from jwtauthtest.passkeys.store import add_passkey
from jwtauthtest.tokens.sessions import storable

logger = logging.getLogger("jwtauthtest.passkeys")
NO_CHALLENGE = "The challenge is unknown, expired or spent: ask for new options"
REGISTERED_ALREADY = "This passkey is registered already"
MAX_CREDENTIAL_ID = 1023  # bytes (WebAuthn Level 3, 5.1)
# What the library may raise besides its own errors for an answer it can't read: malformed
# JSON (nested too deep, too), CBOR or keys; refused, never a 500.
UNREADABLE = (WebAuthnException, ValueError, TypeError, KeyError, IndexError, RecursionError)


class PasskeyRefused(Exception):
    """A ceremony's answer that is not accepted; nothing was stored."""


def registration_options(rp: RelyingParty, user_id: int, username: str) -> dict[str, Any]:
    """Options for navigator.credentials.create(): a discoverable credential, with user
    verification, that none of the user's passkeys may be created on again."""
    mine = db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)).all()
    handle = mine[0].user_handle if mine else bytes_to_base64url(secrets.token_bytes(32))
    options = webauthn.generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=username, user_display_name=username,
        user_id=webauthn.base64url_to_bytes(handle), timeout=CHALLENGE_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=webauthn.base64url_to_bytes(p.id))
                             for p in mine])
    remember_challenge(options.challenge, user_id, handle)
    return json.loads(webauthn.options_to_json(options))


def register(rp: RelyingParty, user_id: int, answer: object, name: str, *, session_id: str,
             address: str | None, user_agent: str | None) -> Passkey | None:
    """Store the passkey of a create() answer to this user's options (committed), with where
    it was added from; None, and nothing stored, if the session asking has ended meanwhile."""
    try:
        credential = parse_registration_credential_json(answer)
        challenge = same_origin_challenge(credential.response.client_data_json)
    except UNREADABLE as error:
        raise PasskeyRefused(f"Not a passkey's answer: {error}") from None
    handle = spend_challenge(challenge, user_id)
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=rp.origins, require_user_verification=True)
        # A key that can't verify anything would make every later sign-in with it fail.
        decoded_public_key_to_cryptography(
            decode_credential_public_key(verified.credential_public_key))
    except UNREADABLE as error:
        raise PasskeyRefused(str(error) or type(error).__name__) from None
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise PasskeyRefused(f"A credential id is at most {MAX_CREDENTIAL_ID} bytes")
    passkey_id = bytes_to_base64url(verified.credential_id)
    if db.session.get(Passkey, passkey_id) is not None:
        raise PasskeyRefused(REGISTERED_ALREADY)
    transports = sorted({t.value for t in credential.response.transports or []})
    try:
        stored = add_passkey(session_id, id=passkey_id, user_id=user_id, user_handle=handle,
                             name=name, sign_count=verified.sign_count,
                             public_key=bytes_to_base64url(verified.credential_public_key),
                             transports=json.dumps(transports),
                             added_address=storable(address, MAX_ADDRESS_LENGTH),
                             added_user_agent=storable(user_agent, MAX_USER_AGENT_LENGTH))
    except IntegrityError:  # registered by a request that went in since the check above
        db.session.rollback()
        raise PasskeyRefused(REGISTERED_ALREADY) from None
    return db.session.get(Passkey, passkey_id) if stored else None


def authentication_options(rp: RelyingParty, without_address: bool) -> dict[str, Any]:
    """Options for navigator.credentials.get() with no username: any passkey of this site.
    A client without an address is one of those WEBAUTHN_MAX_SIGN_IN_CHALLENGES bounds."""
    options = webauthn.generate_authentication_options(
        rp_id=rp.id, timeout=CHALLENGE_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED)
    remember_challenge(options.challenge, None, None,
                       rp.max_sign_in_challenges if without_address else None)
    return json.loads(webauthn.options_to_json(options))


def authenticate(rp: RelyingParty, answer: object) -> Passkey:
    """The passkey whose get() answer this is, its sign count moved on (committed)."""
    try:
        credential = parse_authentication_credential_json(answer)
        challenge = same_origin_challenge(credential.response.client_data_json)
    except UNREADABLE as error:
        raise PasskeyRefused(f"Not a passkey's answer: {error}") from None
    spend_challenge(challenge, None)
    passkey = db.session.get(Passkey, bytes_to_base64url(credential.raw_id))
    if passkey is None:
        raise PasskeyRefused("This passkey is not registered here")
    handle = credential.response.user_handle
    if handle is None:  # a sign-in with no username must say whose passkey it is
        raise PasskeyRefused("The passkey's answer has no user handle")
    if bytes_to_base64url(handle) != passkey.user_handle:
        raise PasskeyRefused("This passkey belongs to another account")
    expected = {"credential": credential, "expected_challenge": challenge,
                "expected_rp_id": rp.id, "expected_origin": rp.origins,
                "credential_public_key": webauthn.base64url_to_bytes(passkey.public_key),
                "require_user_verification": True}
    try:
        verified = webauthn.verify_authentication_response(
            **expected, credential_current_sign_count=passkey.sign_count)
    except UNREADABLE as error:
        if passkey.sign_count and signed_by_the_passkey(expected):
            log_change("passkey_sign_count_backwards", user_id=passkey.user_id,
                       passkey=passkey.id, stored=passkey.sign_count)
            raise PasskeyRefused("The passkey's sign count did not go up: a copy of the "
                                 "passkey, or an older answer of it; sign in again") from None
        raise PasskeyRefused(str(error) or type(error).__name__) from None
    moved = db.session.execute(update(Passkey).where(
        Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=time.time()))
    db.session.commit()
    if moved.rowcount != 1:  # another sign-in with it went first
        raise PasskeyRefused(NO_CHALLENGE)
    return passkey


def credential_named(answer: object) -> str:
    """The credential id a sign-in answer names, unverified, spelt as stored (base64url
    without padding); "" when it names none that can be read."""
    raw_id = answer.get("rawId") if isinstance(answer, dict) else None
    if not isinstance(raw_id, str) or len(raw_id) > 2 * MAX_CREDENTIAL_ID:
        return ""
    try:
        return bytes_to_base64url(webauthn.base64url_to_bytes(raw_id))
    except ValueError:  # (binascii.Error is one)
        return ""


def signed_by_the_passkey(expected: dict[str, Any]) -> bool:
    """Whether an answer refused for its sign count is otherwise genuine (so the count
    really went backwards) — asked of the library again, with no count to compare."""
    try:
        webauthn.verify_authentication_response(**expected, credential_current_sign_count=0)
    except UNREADABLE:
        return False
    return True


def same_origin_challenge(client_data_json: bytes) -> bytes:
    """The challenge the browser's client data names; an answer made in a frame of another
    site (crossOrigin) is refused."""
    client_data = parse_client_data_json(client_data_json)
    if client_data.cross_origin:
        raise PasskeyRefused("Passkeys are not used from frames of other sites here")
    return client_data.challenge


def remember_challenge(challenge: bytes, user_id: int | None, handle: str | None,
                       capped_at: int | None = None) -> None:
    """Store a ceremony's challenge (committed). With ``capped_at`` (a sign-in's, from a
    client with no address), only while fewer than that many such challenges are live, else
    503: a bound on what such clients can make us store. (Counted and inserted in one
    statement; on PostgreSQL, requests racing each other may pass it by as many as run at
    once, which bounds the storage as well.)"""
    now = time.time()
    db.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at <= now))
    row = select(cast(literal(hashlib.sha256(challenge).hexdigest()), String),
                 cast(literal(user_id), Integer), cast(literal(handle), String),
                 cast(literal(now + CHALLENGE_SECONDS), Float),
                 cast(literal(capped_at is not None), Boolean))
    if capped_at is not None:
        live = select(func.count()).select_from(PasskeyChallenge).where(
            PasskeyChallenge.without_address.is_(True), PasskeyChallenge.expires_at > now)
        row = row.where(live.scalar_subquery() < capped_at)
    stored = db.session.execute(insert(PasskeyChallenge).from_select(
        ["digest", "user_id", "user_handle", "expires_at", "without_address"], row)
        .returning(PasskeyChallenge.digest)).first()
    db.session.commit()
    if stored is None:
        logger.warning("Passkey sign-in options refused: WEBAUTHN_MAX_SIGN_IN_CHALLENGES (%d) "
                       "sign-ins from clients without an address are under way", capped_at)
        raise ServiceUnavailable("Too many passkey sign-ins are under way; try again in a "
                                 "minute", retry_after=60)


def spend_challenge(challenge: bytes, user_id: int | None) -> str | None:
    """Spend a live challenge of this ceremony (a registration's of this user, a sign-in's of
    no one); the user handle it offered. Raises PasskeyRefused if there is none."""
    owner = (PasskeyChallenge.user_id.is_(None) if user_id is None
             else PasskeyChallenge.user_id == user_id)
    spent = db.session.execute(delete(PasskeyChallenge).where(
        PasskeyChallenge.digest == hashlib.sha256(challenge).hexdigest(), owner,
        PasskeyChallenge.expires_at > time.time()).returning(PasskeyChallenge.user_handle)).first()
    db.session.commit()
    if spent is None:
        raise PasskeyRefused(NO_CHALLENGE)
    return spent.user_handle
