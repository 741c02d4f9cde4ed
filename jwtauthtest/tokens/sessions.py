"""Token families: a login's refresh-token chain, rotation with reuse detection, logout."""

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, delete, false, or_, select, update

from jwtauthtest.database import db, fetch_first
from jwtauthtest.models import MAX_ADDRESS_LENGTH, MAX_USER_AGENT_LENGTH, TokenFamily, User
from jwtauthtest.tokens import claims


@dataclass(frozen=True)
class Identity:
    """Who a verified, unrevoked token speaks for: ``current_identity`` in a view, with the
    session (token family) and token id when the token has them (ours do, Flask-JWT's not)."""

    id: int
    username: str
    family: str | None = None
    token_id: str | None = None


@dataclass(frozen=True)
class Session:
    """What a login started: the authentication handler's identity, which the token
    handlers turn into an access token and a refresh token."""

    id: int  # the user's, as Flask-JWT's default handlers expect
    username: str
    family: str
    refresh_jti: str
    # Whether its access token passes jwt_required(fresh=True): not after a password change
    # of a user with a second factor, which asked for no code.
    fresh: bool = True
    # More for the login's answer to say (a recovery code's login: recovery_codes_left).
    extra: Mapping[str, Any] = field(default_factory=dict)


_users, _families = User.__table__, TokenFamily.__table__
# Built and compiled once, and run without the ORM: this is every protected request's
# query (the ORM would cost about 310 us a request on SQLite; see database.fetch_first).
TOKEN_OWNER = (
    select(_users.c.id, _users.c.username, _users.c.active, _users.c.tokens_valid_after,
           _families.c.id.label("family_found"))
    .select_from(_users.outerjoin(_families, and_(_families.c.id == bindparam("family_id"),
                                                  _families.c.user_id == _users.c.id)))
    .where(_users.c.id == bindparam("user_id")))


def load_token_owner(user_id: int, family_id: str | None, earliest_issue: float,
                     token_id: str | None = None) -> tuple[Identity | None, bool]:
    """The token's active user (None if deleted or disabled), and whether the token is
    revoked, in one query by primary keys.

    A token is revoked when its family is gone (logout, reuse, password change,
    disable, purge); a Flask-JWT token, which has no family, when it may have been
    issued before the user's cut-off.
    """
    row = fetch_first(TOKEN_OWNER, {"user_id": user_id, "family_id": family_id})
    if row is None:
        return None, False
    _, username, active, tokens_valid_after, family_found = row
    if not active:
        return None, False
    if family_id is None:
        revoked = earliest_issue < tokens_valid_after
    else:
        revoked = family_found is None
    return Identity(user_id, username, family_id, token_id), revoked


def start_session(user: User, user_agent: str | None = None, address: str | None = None,
                  passkey_id: str | None = None) -> Session:
    """A new family for a login (committed), noting the client's user agent and address for
    the user's list of sessions, and the passkey that signed in, if one did (the session
    ends with it). Past MAX_SESSIONS_PER_USER, the user's oldest sessions end."""
    family = TokenFamily(id=claims.new_id(), user_id=user.id, refresh_jti=claims.new_id(),
                         expires_at=claims.session_expires_at(),
                         user_agent=storable(user_agent, MAX_USER_AGENT_LENGTH),
                         address=storable(address, MAX_ADDRESS_LENGTH), passkey_id=passkey_id)
    db.session.add(family)
    db.session.flush()
    newest = (select(TokenFamily.id).where(TokenFamily.user_id == user.id)
              .order_by(TokenFamily.created_at.desc())
              .limit(current_app.config["MAX_SESSIONS_PER_USER"]))
    db.session.execute(delete(TokenFamily).where(TokenFamily.user_id == user.id,
                                                 TokenFamily.id.not_in(newest)))
    db.session.commit()
    return Session(user.id, user.username, family.id, family.refresh_jti)


ROTATED, GRACE, REUSED, REVOKED = "rotated", "grace", "reused", "revoked"


def client_digest(address: str | None, user_agent: str | None) -> str:
    """Which client made a request, as a refresh records it: its address and user agent."""
    client = f"{address or ''}\0{user_agent or ''}".encode("utf-8", "replace")
    return hashlib.sha256(client).hexdigest()[:32]


def spendable(presented_jti: str) -> ColumnElement[bool]:
    """The session's refresh token, or the other one a grace answer left spendable."""
    return or_(TokenFamily.refresh_jti == presented_jti,
               TokenFamily.alternate_refresh_jti == presented_jti)


def in_grace(presented_jti: str, client: str, now: float) -> ColumnElement[bool]:
    """The refresh token the session's last refresh spent, presented again by the client that
    spent it, within JWT_REFRESH_REUSE_GRACE: a lost answer."""
    grace = current_app.config["JWT_REFRESH_REUSE_GRACE"].total_seconds()
    if grace <= 0:
        return false()
    return and_(TokenFamily.previous_refresh_jti == presented_jti,
                TokenFamily.rotated_at >= now - grace, TokenFamily.rotated_by == client)


def rotate_session(user_id: int, family_id: str, presented_jti: str,
                   client: str) -> tuple[dict[str, str] | None, str]:
    """Spend the presented refresh token for a new pair; the pair (None if refused) and
    what happened: ROTATED, GRACE, REUSED or REVOKED.

    Each step is one compare-and-set UPDATE, so of two concurrent uses of one refresh token
    exactly one wins. The token the last refresh spent, presented again once within the grace
    by the same client (a reload, a dropped connection), is GRACE: it gets a new refresh token,
    and the one the lost answer carried stays spendable instead, in case that answer still
    lands (a ``keepalive`` request's cookie can arrive last); once either is spent, the other
    is reuse. So a second holder of the token rides along for one refresh at most before the
    session ends. Any other spent token is theft: the session ends (REUSED). A session ended
    meanwhile (logout, password change) is just REVOKED.
    """
    now = time.time()
    next_jti = claims.new_id()
    used_now = {"expires_at": claims.session_expires_at(), "last_used_at": now}
    rotated = db.session.execute(
        update(TokenFamily).where(TokenFamily.id == family_id, spendable(presented_jti))
        .values(refresh_jti=next_jti, alternate_refresh_jti=None,
                previous_refresh_jti=presented_jti, rotated_at=now, rotated_by=client,
                **used_now))
    db.session.commit()
    if rotated.rowcount == 1:
        return token_pair(user_id, family_id, next_jti), ROTATED
    graced = db.session.execute(
        update(TokenFamily).where(TokenFamily.id == family_id,
                                  in_grace(presented_jti, client, now))
        .values(refresh_jti=next_jti, alternate_refresh_jti=TokenFamily.refresh_jti,
                previous_refresh_jti=None, **used_now))  # (SET reads the row as it was)
    db.session.commit()
    if graced.rowcount == 1:
        return token_pair(user_id, family_id, next_jti), GRACE
    return None, REUSED if end_session(family_id) else REVOKED


def may_end(family_id: str, presented_jti: str, client: str) -> bool:
    """Whether a browser's refresh-token cookie may log its session out: a token that could
    be spent, or one the grace would take. (Any other is reuse, as at a refresh.)"""
    return db.session.scalar(
        select(TokenFamily.id).where(TokenFamily.id == family_id, or_(
            spendable(presented_jti), in_grace(presented_jti, client, time.time())))) is not None


def is_spendable(family_id: str, presented_jti: str) -> bool:
    """Whether a refresh would rotate this refresh token (its session's current one, or the
    other a grace answer left), read only: a token the grace would take is spent already."""
    return db.session.scalar(
        select(TokenFamily.id).where(TokenFamily.id == family_id, spendable(presented_jti),
                                     TokenFamily.expires_at >= time.time())) is not None


def end_sessions(user_id: int, but: str | None = None, started_with: str | None = None) -> int:
    """End the user's live sessions — every one, but ``but``, or those the passkey
    ``started_with`` signed in — their tokens refused from the next request on; how many
    (uncommitted: part of the caller's change)."""
    which = [TokenFamily.user_id == user_id, TokenFamily.expires_at >= time.time()]
    if but is not None:
        which.append(TokenFamily.id != but)
    if started_with is not None:
        which.append(TokenFamily.passkey_id == started_with)
    return db.session.execute(delete(TokenFamily).where(*which)).rowcount


def end_users_session(user_id: int, family_id: str) -> bool:
    """End one of the user's sessions (committed); False if the user has none of that id."""
    ended = db.session.execute(delete(TokenFamily).where(
        TokenFamily.id == family_id, TokenFamily.user_id == user_id,
        TokenFamily.expires_at >= time.time()))
    db.session.commit()
    return ended.rowcount == 1


def end_session(family_id: str) -> bool:
    """Revoke every token of the family (committed); False if it had ended already."""
    ended = db.session.execute(delete(TokenFamily).where(TokenFamily.id == family_id))
    db.session.commit()
    return ended.rowcount == 1


def storable(text: str | None, max_length: int) -> str | None:
    """Client-supplied text as we keep it: printable characters only (PostgreSQL refuses
    NUL), cut to the column's length."""
    if text is None:
        return None
    return "".join(c for c in text if c.isprintable())[:max_length] or None


def purge_expired_sessions() -> int:
    """Delete the families none of whose tokens is valid any more; how many (committed)."""
    result = db.session.execute(delete(TokenFamily).where(TokenFamily.expires_at < time.time()))
    db.session.commit()
    return result.rowcount


def token_pair(user_id: int, family_id: str, refresh_jti: str) -> dict[str, str]:
    return {
        "access_token": claims.encode_token(user_id, claims.ACCESS, family_id),
        "refresh_token": claims.encode_token(user_id, claims.REFRESH, family_id, refresh_jti),
    }
