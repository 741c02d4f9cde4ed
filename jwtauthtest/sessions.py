"""Token families: a login's refresh-token chain, rotation with reuse detection, logout."""

import time

from sqlalchemy import delete, select, update

from . import tokens
from .database import db
from .models import TokenFamily, User


def load_token_owner(user_id: int, family_id: str | None,
                     issued_at: float) -> tuple[User | None, bool]:
    """The token's user, and whether the token is revoked, in one indexed query.

    A token is revoked when its family is gone (logout, reuse, purge) or began before
    the user's cut-off; a Flask-JWT token, which has no family, when issued before it.
    """
    if family_id is None:
        user = db.session.get(User, user_id)
        return user, user is not None and issued_at < user.tokens_valid_after
    row = db.session.execute(
        select(User, TokenFamily.created_at)
        .outerjoin(TokenFamily, (TokenFamily.id == family_id) & (TokenFamily.user_id == User.id))
        .where(User.id == user_id)).first()
    if row is None:
        return None, False
    user, session_started = row
    return user, session_started is None or session_started < user.tokens_valid_after


def start_session(user: User) -> dict[str, str]:
    """A new family for a login, and its first pair of tokens (committed)."""
    family = TokenFamily(id=tokens.new_id(), user_id=user.id, refresh_jti=tokens.new_id(),
                         expires_at=tokens.session_expires_at())
    db.session.add(family)
    db.session.commit()
    return token_pair(user.id, family.id, family.refresh_jti)


def rotate_session(user_id: int, family_id: str, presented_jti: str) -> dict[str, str] | None:
    """Spend the presented refresh token for a new pair, or None when it was already spent.

    The compare-and-set UPDATE makes the spend atomic: of two concurrent uses of one
    refresh token, exactly one wins. A loser is treated as theft: the family is deleted.
    """
    next_jti = tokens.new_id()
    spent = db.session.execute(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.refresh_jti == presented_jti)
        .values(refresh_jti=next_jti, expires_at=tokens.session_expires_at()))
    if spent.rowcount != 1:
        end_session(family_id)
        return None
    db.session.commit()
    return token_pair(user_id, family_id, next_jti)


def end_session(family_id: str) -> None:
    """Revoke every token of the family (committed)."""
    db.session.execute(delete(TokenFamily).where(TokenFamily.id == family_id))
    db.session.commit()


def purge_expired_sessions() -> int:
    """Delete the families none of whose tokens is valid any more; how many (committed)."""
    result = db.session.execute(delete(TokenFamily).where(TokenFamily.expires_at < time.time()))
    db.session.commit()
    return result.rowcount


def token_pair(user_id: int, family_id: str, refresh_jti: str) -> dict[str, str]:
    return {
        "access_token": tokens.encode_token(user_id, tokens.ACCESS, family_id),
        "refresh_token": tokens.encode_token(user_id, tokens.REFRESH, family_id, refresh_jti),
    }
