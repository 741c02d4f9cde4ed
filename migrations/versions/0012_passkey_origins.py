"""Passkeys added with the password alone, and the sessions each passkey started.

Each passkey records whether its account had a second factor, and where it was added from;
each session, the passkey that signed in, if one did; each sign-in challenge, whether its
client had no address (those are capped). The second factor's count of wrong codes now starts
again after a day without one (last_failure_at), not at a right code.

A passkey added with the password alone is removed when the account is locked down (the
second factor turned on, a password change, an operator's logout or reset), and deleting a
passkey ends the sessions it started. Passkeys made before this revision count as added with
the second factor only where their user had turned it on before they were made.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("passkeys") as batch:
        batch.add_column(sa.Column("with_second_factor", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("added_address", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("added_user_agent", sa.String(length=256), nullable=True))
    passkeys = sa.table("passkeys", sa.column("user_id"), sa.column("created_at"),
                        sa.column("with_second_factor", sa.Boolean()))
    factors = sa.table("second_factors", sa.column("user_id"), sa.column("enabled_at"))
    op.execute(passkeys.update().where(sa.exists().where(
        factors.c.user_id == passkeys.c.user_id, factors.c.enabled_at.is_not(None),
        factors.c.enabled_at <= passkeys.c.created_at)).values(with_second_factor=sa.true()))
    with op.batch_alter_table("passkey_challenges") as batch:
        batch.add_column(sa.Column("without_address", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("token_families") as batch:
        batch.add_column(sa.Column("passkey_id", sa.String(), nullable=True))
        batch.create_index("ix_token_families_passkey_id", ["passkey_id"])
        batch.create_foreign_key("fk_token_families_passkey_id_passkeys", "passkeys",
                                 ["passkey_id"], ["id"], ondelete="CASCADE")
    with op.batch_alter_table("second_factors") as batch:
        batch.alter_column("failures_since", new_column_name="last_failure_at",
                           existing_type=sa.Float(), existing_nullable=True)


def downgrade():
    with op.batch_alter_table("second_factors") as batch:
        batch.alter_column("last_failure_at", new_column_name="failures_since",
                           existing_type=sa.Float(), existing_nullable=True)
    with op.batch_alter_table("token_families") as batch:
        batch.drop_constraint("fk_token_families_passkey_id_passkeys", type_="foreignkey")
        batch.drop_index("ix_token_families_passkey_id")
        batch.drop_column("passkey_id")
    with op.batch_alter_table("passkey_challenges") as batch:
        batch.drop_column("without_address")
    with op.batch_alter_table("passkeys") as batch:
        batch.drop_column("added_user_agent")
        batch.drop_column("added_address")
        batch.drop_column("with_second_factor")
