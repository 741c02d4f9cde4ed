"""E-mail links known by their digest alone: a user may hold several live reset links.

A reset asked for by someone else must not void the link the user asked for, so the one row
per user and purpose (the primary key) goes; the rows stay. Downgrading keeps each user's
newest link of each purpose and deletes the others.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OLDER_THAN_ANOTHER = sa.text("""
DELETE FROM email_links WHERE EXISTS (
    SELECT 1 FROM email_links AS newer
    WHERE newer.user_id = email_links.user_id AND newer.purpose = email_links.purpose
    AND (newer.expires_at > email_links.expires_at
         OR (newer.expires_at = email_links.expires_at AND newer.digest > email_links.digest)))
""")


def upgrade():
    with op.batch_alter_table("email_links") as batch:
        batch.drop_constraint("pk_email_links", type_="primary")
        batch.drop_constraint("uq_email_links_digest", type_="unique")
        batch.create_primary_key("pk_email_links", ["digest"])
        batch.create_index("ix_email_links_user_id", ["user_id"])


def downgrade():
    op.execute(OLDER_THAN_ANOTHER)
    with op.batch_alter_table("email_links") as batch:
        batch.drop_index("ix_email_links_user_id")
        batch.drop_constraint("pk_email_links", type_="primary")
        batch.create_primary_key("pk_email_links", ["user_id", "purpose"])
        batch.create_unique_constraint("uq_email_links_digest", ["digest"])
