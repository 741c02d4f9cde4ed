"""A second factor: authenticator-app secrets, recovery codes, and login challenges.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "second_factors",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("secret", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("enabled_at", sa.Float(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures_since", sa.Float(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("used_at", sa.Float(), nullable=True))
    op.create_table(
        "login_challenges",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("tokens_valid_after", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False, index=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    op.drop_table("login_challenges")
    op.drop_table("recovery_codes")
    op.drop_table("second_factors")
