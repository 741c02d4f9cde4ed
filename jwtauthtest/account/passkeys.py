"""Passkeys' routes (issue 27): signing in with one, no username typed, and a user's own
registering, renaming and deleting them. All answer 404 while WEBAUTHN_RP_ID is unset."""

import re

from flask import Blueprint, Response, request
from sqlalchemy import update
from werkzeug.exceptions import BadRequest, NotFound

from jwtauthtest.addresses.notices import send_notice
from jwtauthtest.database import db
from jwtauthtest.jwt import (
    JWTError,
    current_identity,
    jwt_required,
    login_response,
    session_of_the_token,
)
from jwtauthtest.models import Passkey, TokenFamily, User
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import FAILURE, SUCCESS, log_change, log_login
from jwtauthtest.passkeys import ceremonies, store
from jwtauthtest.passkeys.settings import RelyingParty, relying_party
from jwtauthtest.throttle.attempts import address_attempt, passkey_attempt
from jwtauthtest.tokens.sessions import start_session
from jwtauthtest.users import record_login
from jwtauthtest.web.answers import private
from jwtauthtest.web.bodies import json_body
from jwtauthtest.web.cookies import cookie_transport_requested
from jwtauthtest.web.refusals import PasskeyNotRegistered, revoked_token

bp = Blueprint("passkeys", __name__)
PASSKEY_ID = re.compile(r"[A-Za-z0-9_-]{1,1400}")
MAX_NAME = 64


@bp.post("/auth/passkey/options")
def sign_in_options() -> Response:
    """A sign-in's options. Each stores a challenge: counted in the login throttle by the
    client's address; with no address, capped by WEBAUTHN_MAX_SIGN_IN_CHALLENGES instead."""
    rp = configured()
    with address_attempt():
        return private(ceremonies.authentication_options(rp, not request.remote_addr))


@bp.post("/auth/passkey")
def sign_in() -> Response:
    """A passkey's answer to the sign-in options: the usual token pair, the access token
    fresh; a passkey stands for both factors."""
    rp = configured()
    cookie_transport_requested()  # an unknown transport is 400 before anything is checked
    answer = json_body(("credential",))["credential"]
    with passkey_attempt(ceremonies.credential_named(answer)):
        try:
            passkey = ceremonies.authenticate(rp, answer)
        except ceremonies.PasskeyRefused as refused:
            log_login(FAILURE, None, "passkey refused")
            metrics.count("passkeys", event="refused")
            raise JWTError("Passkey refused", str(refused)) from None
    user = db.session.get(User, passkey.user_id)
    if user is None or not user.active or not record_login(user, None):
        log_login(FAILURE, user.username if user else None, "disabled")
        raise JWTError("Passkey refused", "This account cannot sign in")
    session = start_session(user, request.user_agent.string, request.remote_addr,
                            passkey_id=passkey.id)
    log_login(SUCCESS, user.username, "passkey")
    metrics.count("passkeys", event="signed_in")
    return login_response(session)


@bp.post("/auth/passkeys/options")
@jwt_required(fresh=True)
def registration_options() -> Response:
    return private(ceremonies.registration_options(configured(), current_identity.id,
                                                   current_identity.username))


@bp.post("/auth/passkeys")
@jwt_required(fresh=True)
def register() -> Response:
    """Store the passkey of a create() answer to this user's options: 201 with its details."""
    rp = configured()
    body = json_body(("credential", "name"))
    name = passkey_name(body["name"])
    try:
        passkey = ceremonies.register(
            rp, current_identity.id, body["credential"], name,
            session_id=session_of_the_token(), address=request.remote_addr,
            user_agent=request.user_agent.string)
    except ceremonies.PasskeyRefused as refused:
        raise PasskeyNotRegistered(str(refused)) from None
    if passkey is None:  # the account was locked down meanwhile: this session ended
        raise revoked_token()
    log_change("passkey_added", user_id=current_identity.id, passkey=passkey.id,
               address=request.remote_addr)
    metrics.count("passkeys", event="registered")
    send_notice(current_identity.id, "passkey_added", name=passkey.name)
    response = private(store.details(passkey))
    response.status_code = 201
    return response


@bp.get("/auth/passkeys")
@jwt_required()
def list_passkeys() -> Response:
    configured()
    return private({"passkeys": [store.details(passkey)
                                 for passkey in store.passkeys_of(current_identity.id)]})


@bp.patch("/auth/passkeys/<passkey_id>")
@jwt_required(fresh=True)
def rename(passkey_id: str) -> Response:
    configured()
    name = passkey_name(json_body(("name",))["name"])
    renamed = db.session.execute(update(Passkey).where(
        Passkey.id == known_id(passkey_id), Passkey.user_id == current_identity.id)
        .values(name=name))
    db.session.commit()
    if renamed.rowcount != 1:
        raise NotFound("You have no passkey with this id")
    return private(store.details(db.session.get(Passkey, passkey_id)))


@bp.delete("/auth/passkeys/<passkey_id>")
@jwt_required(fresh=True)
def remove(passkey_id: str) -> dict:
    """Delete one of the caller's passkeys; the sessions it signed in end, this one too if
    it did."""
    configured()
    ended = store.remove_passkey(current_identity.id, known_id(passkey_id))
    if ended is None:
        raise NotFound("You have no passkey with this id")
    log_change("passkey_removed", user_id=current_identity.id, passkey=passkey_id,
               sessions=ended, address=request.remote_addr)
    this_one = current_identity.family
    return {"status": "passkey removed", "ended": ended,
            "this_session_ended": this_one is not None and ended > 0
            and db.session.get(TokenFamily, this_one) is None}


def configured() -> RelyingParty:
    rp = relying_party()
    if rp is None:
        raise NotFound("Passkeys are off here (WEBAUTHN_RP_ID is not set)")
    return rp


def known_id(passkey_id: str) -> str:
    """The id of a path, if it could be a passkey's; 404 as for another user's otherwise."""
    if not PASSKEY_ID.fullmatch(passkey_id):
        raise NotFound("You have no passkey with this id")
    return passkey_id


def passkey_name(name: object) -> str:
    if not (isinstance(name, str) and 0 < len(name.strip()) <= MAX_NAME and name.isprintable()):
        raise BadRequest(f"A passkey's name must be 1 to {MAX_NAME} printable characters")
    return name.strip()
