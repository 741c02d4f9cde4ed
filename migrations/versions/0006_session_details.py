"""What a user sees of their sessions: last use, and the login's user agent and address.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.add_column(sa.Column("last_used_at", sa.Float(), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("address", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.drop_column("address")
        batch.drop_column("user_agent")
        batch.drop_column("last_used_at")
