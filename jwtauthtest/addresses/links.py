"""Single-use links: a random URL-safe token mailed to a user, of which only its SHA-256 is
stored, valid until it expires, is spent or voided, or the user's cut-off moves (a password
change or reset, a disable); a reset link, also until the user's address changes. How many a
user may hold at once is the caller's word: one link to confirm an address (a newer one voids
it), several to reset the password (so that resets a stranger asks for do not void the one
the user asked for)."""

import hashlib
import secrets
import time

from sqlalchemy import delete, select

from jwtauthtest.database import db
from jwtauthtest.models import EmailLink, User

RESET = "reset"  # a password reset
CONFIRM = "confirm"  # an address to confirm: a sign-up's, or a new one


def new_link(user: User, purpose: str, lifetime: float, address: str | None = None,
             keep: int = 1) -> str:
    """A new link's token for the user, who holds at most KEEP live links of the purpose
    with it: the oldest beyond that are voided, and dead ones dropped. Uncommitted."""
    void_links(user, purpose, keep=keep - 1)
    token = secrets.token_urlsafe(32)
    db.session.add(EmailLink(user_id=user.id, purpose=purpose, digest=digest(token),
                             address=address, tokens_valid_after=user.tokens_valid_after,
                             expires_at=time.time() + lifetime))
    return token


def void_links(user: User, purpose: str, keep: int = 0) -> None:
    """Void the user's links of the purpose, but the KEEP newest live ones. Uncommitted."""
    doomed = delete(EmailLink).where(EmailLink.user_id == user.id, EmailLink.purpose == purpose)
    if keep > 0:
        kept = (select(EmailLink.digest)
                .where(EmailLink.user_id == user.id, EmailLink.purpose == purpose,
                       EmailLink.expires_at > time.time(),
                       EmailLink.tokens_valid_after == user.tokens_valid_after)
                .order_by(EmailLink.expires_at.desc()).limit(keep))
        doomed = doomed.where(EmailLink.digest.not_in(kept))
    db.session.execute(doomed)


def live_link(token: str, purpose: str) -> tuple[EmailLink, User] | None:
    """The link of this token and its user, if it is live: of this purpose, not expired,
    the user active and their cut-off where it was when the link was made; a reset link, still
    the user's address where it was mailed (a new address ends those sent to the old one)."""
    found = db.session.execute(
        select(EmailLink, User).join(User, User.id == EmailLink.user_id)
        .where(EmailLink.digest == digest(token), EmailLink.purpose == purpose)).first()
    if found is None:
        return None
    link, user = found
    if link.expires_at <= time.time() or not user.active \
            or user.tokens_valid_after != link.tokens_valid_after \
            or (purpose == RESET and link.address != user.email):
        return None
    return link, user


def spend_link(link: EmailLink) -> bool:
    """Spend a live link: False if another request spent it first. Uncommitted: the
    caller's change and the spending commit together."""
    return db.session.execute(delete(EmailLink).where(
        EmailLink.digest == link.digest)).rowcount == 1


def digest(token: str) -> str:
    """A token is random, 256 bits: a plain hash is as good as a slow one to store it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
