"""Flask-JWT for this app, as the tutorial wired it: ``authenticate``, ``identity`` and
``jwt = JWT(...)``, with our token lifecycle (sessions, refresh tokens, revocation) plugged
into Flask-JWT's own handlers. The extension is ``flask_jwt``, the distribution in
``flask-jwt-revived/``.
"""

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from flask_jwt import JWT, JWTError, current_identity, verify_jwt
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

from jwtauthtest.database import db, end_read_transaction
from jwtauthtest.keys import signing
from jwtauthtest.models import User
from jwtauthtest.ops.audit import CHALLENGED, FAILURE, SUCCESS, log_login
from jwtauthtest.ops.errors import error_response
from jwtauthtest.passwords.credentials import check_credentials
from jwtauthtest.passwords.hashing import hash_password, spend_verification_time, verify_password
from jwtauthtest.schema import database_problem
from jwtauthtest.second_factor import store as second_factor
from jwtauthtest.second_factor.challenges import ask_for_second_factor
from jwtauthtest.tokens import claims
from jwtauthtest.tokens.sessions import (
    Identity,
    Session,
    load_token_owner,
    purge_expired_sessions,
    start_session,
)
from jwtauthtest.users import find_user, record_login, rewrite_hash
from jwtauthtest.web.answers import private
from jwtauthtest.web.bearer import bearer_token
from jwtauthtest.web.cookies import (
    cookie_token_response,
    cookie_transport_requested,
    refresh_token_from_cookie,
)
from jwtauthtest.web.refusals import (
    PasswordAccepted,
    Refused,
    no_such_user,
    not_fresh,
    revoked_token,
)
from jwtauthtest.web.state import request_state

COOKIE_ENDPOINTS = ("views.refresh", "views.logout")
FORWARD_AUTHENTICATION = "verify.verify"  # services/verify.py's view: it takes Bearer too
WRONG_TYPE = {claims.ACCESS: "Expected an access token, got a refresh token",
              claims.REFRESH: "Expected a refresh token, got an access token"}

__all__ = ["JWT", "JWTError", "authenticate", "current_identity", "identity", "jwt",
           "jwt_required", "login_response", "refresh_token_required", "session_of_the_token",
           "token_is_fresh"]


def authenticate(username: str, password: str) -> Session | None:
    """The authentication handler: the session these credentials start, or None.

    Every password check takes as long as the slowest stored kind of hash needs, and
    unknown users cost one check too, so response times don't tell which usernames exist,
    which kind of hash a user has, or (for a disabled user) whether the password was right.

    The login is recorded (and an outdated hash rewritten) only if the user's row is
    still as verified; starting the session commits both.
    """
    check_credentials(username, password)
    cookie_transport_requested()  # an unknown transport is 400 before any password check
    user = find_user(username)
    end_read_transaction()  # the slow verification comes before a possible write
    if user is None:
        spend_verification_time(password)
        reason = "unknown user"
    else:
        verified = verify_password(password, user.password)
        if not verified.matches:
            reason = "bad password"
        elif not user.active:  # before any rehash, which would make this answer slower
            reason = "disabled"
        elif user.confirm_by is not None:  # a sign-up: told only with the right password
            log_login(FAILURE, username, "address not confirmed")
            raise PasswordAccepted("Address not confirmed", "Follow the link sent to your "
                                   "e-mail address to confirm it, then log in")
        else:
            new_hash = hash_password(password) if verified.outdated else None
            if second_factor.is_on(user.id):
                raise second_factor_challenge(user, username, new_hash)
            if record_login(user, new_hash):
                session = start_session(user, request.user_agent.string, request.remote_addr)
                log_login(SUCCESS, username, "rehashed" if new_hash else "ok")
                return session
            reason = "changed during login"  # password changed, disabled or deleted meanwhile
    log_login(FAILURE, username, reason)
    return None


def second_factor_challenge(user: User, username: str, new_hash: str | None) -> JWTError:
    """For a user with a second factor, a right password earns a challenge, not tokens (the
    401 to raise); an outdated hash is rewritten now, while the password is at hand."""
    if new_hash is not None:
        rewrite_hash(user, new_hash)
    challenge = ask_for_second_factor(user)
    log_login(CHALLENGED, username, "second factor required")
    return challenge


def identity(payload: dict[str, Any]) -> Identity:
    """The identity handler: the active user a verified token speaks for.

    Refuses (Flask-JWT's answers, with why) a token of the wrong type for the view, one whose
    user is gone or disabled, and one revoked (its session ended, or it predates the user's
    last password change or disable).
    """
    expected = request_state().token_type
    if claims.token_type(payload) != expected:
        raise Refused("Invalid token", WRONG_TYPE[expected], "wrong_type")
    user_id = claims.user_id(payload)
    if user_id is None:
        raise no_such_user()  # no such row can exist
    owner, revoked = load_token_owner(user_id, payload.get("fam"),
                                      claims.earliest_issue(payload), payload.get("jti"))
    if owner is None:  # deleted or disabled
        raise no_such_user()
    if revoked:
        raise revoked_token()
    request_state().fresh = claims.is_fresh(payload)
    return owner


jwt = JWT(authentication_handler=authenticate, identity_handler=identity)


@jwt.jwt_payload_handler
def access_token_claims(session: Session) -> dict[str, Any]:
    """A login's access token: fresh, unless the session says otherwise (a refresh's
    tokens are not)."""
    return {**claims.claims(session.id, claims.ACCESS, session.family), "fresh": session.fresh}


@jwt.jwt_encode_handler
def encode(session: Session) -> bytes:
    """Signed with the key set's signing key, and named by its kid (keys/keyset.py)."""
    return signing.sign(jwt.jwt_payload_callback(session)).encode("utf-8")


jwt.jwt_decode_handler(claims.decode_token)


@jwt.auth_response_handler
def tokens_of_a_login(access_token: bytes, session: Session) -> Response:
    """Both tokens of the new session, and what else the session has to say, not to be
    cached — the refresh token in a cookie if the client asked (``?transport=cookie``);
    expired sessions go meanwhile."""
    refresh_token = claims.encode_token(session.id, claims.REFRESH, session.family,
                                        session.refresh_jti)
    try:
        purge_expired_sessions()  # now and then is enough; a login is a good moment
    except SQLAlchemyError as e:  # the login itself succeeded; the command can purge
        db.session.rollback()
        current_app.logger.warning("Purging expired sessions failed: %s", database_problem(e))
    if cookie_transport_requested():
        return cookie_token_response(access_token.decode("utf-8"), refresh_token,
                                     new_login=True, **session.extra)
    return private({"access_token": access_token.decode("utf-8"),
                    "refresh_token": refresh_token, **session.extra})


def login_response(session: Session, **extra: Any) -> Response:
    """The answer of every way of signing in — a password (Flask-JWT's resource), with a
    code, with a passkey, a password change: the session's tokens, and ``extra`` keys."""
    session = replace(session, extra=extra) if extra else session
    return jwt.auth_response_callback(jwt.jwt_encode_callback(session), session)


token_in_header = jwt.request_callback  # Flask-JWT's: the Authorization header's


@jwt.request_handler
def token_of_the_request() -> str | None:
    """The Authorization header's token (at /auth/verify, a Bearer token too); without one, at
    /auth/refresh and /auth/logout, the refresh token of a browser's cookie, once the request
    passes the CSRF checks."""
    if request.endpoint == FORWARD_AUTHENTICATION:  # what proxies' clients send
        return bearer_token() or token_in_the_header()
    if "Authorization" in request.headers or request.endpoint not in COOKIE_ENDPOINTS:
        return token_in_the_header()
    return refresh_token_from_cookie()  # (which says the token is a refresh token)


def token_in_the_header() -> str | None:
    """Flask-JWT's answer to another scheme (Bearer, Basic) is kept, with the header that
    names the one to use, as the answer to no token has."""
    try:
        return token_in_header()
    except JWTError as refused:
        if refused.description == "Unsupported authorization type":
            realm = current_app.config["JWT_DEFAULT_REALM"]
            refused.headers = {"WWW-Authenticate": f'JWT realm="{realm}"'}
        raise


jwt.jwt_error_handler(error_response)


def session_of_the_token() -> str:
    """The session (token family) of the request's token, for a view that acts on sessions;
    400 for a Flask-JWT token, which has none (and never stands for every session)."""
    family = current_identity.family
    if family is None:
        raise BadRequest("This token has no session to end (it was issued by Flask-JWT); it "
                         "stays valid until it expires")
    return family


def token_is_fresh() -> bool:
    """Whether the request's verified token is a fresh access token."""
    return request_state().fresh


def jwt_required(realm: str | None = None, fresh: bool = False,
                 token_type: str = claims.ACCESS) -> Callable:
    """Flask-JWT's ``jwt_required()``; with ``fresh=True`` (for sensitive acts) only for an
    access token of a password login less than JWT_FRESH_DELTA old."""

    def wrapper(view: Callable) -> Callable:
        @wraps(view)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            request_state().token_type = token_type  # read by the identity handler
            verify_jwt(realm)
            if fresh and not token_is_fresh():
                raise not_fresh()
            return view(*args, **kwargs)

        return decorator

    return wrapper


# Flask-JWT has one kind of token; ours are access and refresh tokens, told apart by their
# ``type`` claim: ``/auth/refresh`` wants the latter.
refresh_token_required = jwt_required(token_type=claims.REFRESH)
