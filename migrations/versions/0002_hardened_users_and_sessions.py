"""Case-insensitive unique usernames, disable, token cut-off, timestamps, token families.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def username_key(username):
    # Frozen copy of jwtauthtest.models.username_key as of this revision.
    normalised = unicodedata.normalize("NFKC", username)
    return unicodedata.normalize("NFKC", normalised.casefold())


def upgrade():
    # The tutorial's model indexed username; uniqueness now lives on username_key.
    if any(index["name"] == "ix_users_username"
           for index in sa.inspect(op.get_bind()).get_indexes("users")):
        op.drop_index("ix_users_username", table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("username_key", sa.String(), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.add_column(sa.Column("tokens_valid_after", sa.Float(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("created_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_login_at", sa.DateTime(), nullable=True))
    fill_username_keys()
    # Rebuilt on SQLite (as every ALTER here is) with AUTOINCREMENT: ids are never reused.
    with op.batch_alter_table("users", recreate="auto",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("username", existing_type=sa.String(), type_=sa.String(150),
                           nullable=False)
        batch.alter_column("password", existing_type=sa.String(), type_=sa.String(255),
                           nullable=False)
        batch.alter_column("username_key", existing_type=sa.String(), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])

    op.create_table(
        "token_families",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("refresh_jti", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_token_families_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_token_families"),
    )
    op.create_index("ix_token_families_user_id", "token_families", ["user_id"])
    op.create_index("ix_token_families_expires_at", "token_families", ["expires_at"])


def fill_username_keys():
    """Normalise existing usernames; refuse to go on if two become one."""
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("username_key", sa.String))
    owners = {}
    for user_id, username in connection.execute(
            sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        owners.setdefault(username_key(username), []).append((user_id, username))
    clashes = [names for names in owners.values() if len(names) > 1]
    if clashes:
        listed = "; ".join(", ".join(f"{name!r} (id {uid})" for uid, name in names)
                           for names in clashes)
        raise RuntimeError("these usernames differ only in case or Unicode form and must be "
                           f"renamed or deleted before upgrading: {listed}")
    for key, [(user_id, username)] in owners.items():
        connection.execute(users.update().where(users.c.id == user_id).values(
            username=unicodedata.normalize("NFKC", username), username_key=key))


def downgrade():
    op.drop_table("token_families")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        for column in ("last_login_at", "created_at", "tokens_valid_after", "active",
                       "username_key"):
            batch.drop_column(column)
