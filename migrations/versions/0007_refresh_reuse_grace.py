"""The refresh token a session's last refresh spent, and when: a lost answer is not a theft.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.add_column(sa.Column("previous_refresh_jti", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rotated_at", sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.drop_column("rotated_at")
        batch.drop_column("previous_refresh_jti")
