"""E-mail: users' addresses, single-use links, requests for mail, and the outbox.

The links reset a password or confirm an address; a request for mail names an address
looked up later, by the sender.

A user's address is unique once confirmed (email_key, its case-folded form, is set then); a
sign-up not confirmed yet has a deadline (confirm_by), after which it is deleted.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# SQLite's table is made anew: its ids must stay never reused (0002's AUTOINCREMENT).
USERS_TABLE = {"sqlite_autoincrement": True}
EMAIL = sa.String(length=320)


def upgrade():
    with op.batch_alter_table("users", table_kwargs=USERS_TABLE) as batch:
        batch.add_column(sa.Column("email", EMAIL, nullable=True))
        batch.add_column(sa.Column("email_key", EMAIL, nullable=True))
        batch.add_column(sa.Column("email_verified", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("confirm_by", sa.Float(), nullable=True))
        batch.create_unique_constraint("uq_users_email_key", ["email_key"])
        batch.create_index("ix_users_confirm_by", ["confirm_by"])
    op.create_table(
        "email_links",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("purpose", sa.String(length=16), primary_key=True),
        sa.Column("digest", sa.String(length=64), nullable=False, unique=True),
        sa.Column("address", EMAIL, nullable=True),
        sa.Column("tokens_valid_after", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "mail_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", EMAIL, nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("recipient", EMAIL, nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("next_try_at", sa.Float(), nullable=False, index=True),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_until", sa.Float(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
    )


def downgrade():
    op.drop_table("mail_outbox")
    op.drop_table("mail_requests")
    op.drop_table("email_links")
    with op.batch_alter_table("users", table_kwargs=USERS_TABLE) as batch:
        batch.drop_index("ix_users_confirm_by")
        batch.drop_constraint("uq_users_email_key", type_="unique")
        batch.drop_column("confirm_by")
        batch.drop_column("email_verified")
        batch.drop_column("email_key")
        batch.drop_column("email")
