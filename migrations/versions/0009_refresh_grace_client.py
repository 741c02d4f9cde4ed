"""The client that made a session's last refresh, and a second spendable refresh token.

The grace serves the client that lost an answer, and no second holder of its token; the
second token is the one the lost answer carried, which a grace answer leaves spendable.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.add_column(sa.Column("rotated_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("alternate_refresh_jti", sa.String(length=32),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table("token_families") as batch:
        batch.drop_column("alternate_refresh_jti")
        batch.drop_column("rotated_by")
