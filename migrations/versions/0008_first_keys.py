"""Which key was made first of each algorithm, and which keys only verify.

So that a first key's kid need not be derived from the configured secret (that made every
token an offline oracle for a guessable one); the key that only verifies is the HMAC key of
JWT_SECRET_KEY made beside an asymmetric one, for Flask-JWT's tokens.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("first_of", sa.String(length=16), nullable=True))
        batch.create_unique_constraint("uq_signing_keys_first_of", ["first_of"])
        batch.add_column(sa.Column("verify_only", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    # The oldest key of each algorithm is the one a start made first (later ones were made
    # by `keys rotate`, or after a forced retirement).
    keys = sa.table("signing_keys", sa.column("kid"), sa.column("algorithm"),
                    sa.column("created_at"), sa.column("first_of"))
    connection = op.get_bind()
    oldest: dict[str, str] = {}
    for kid, algorithm in connection.execute(
            sa.select(keys.c.kid, keys.c.algorithm).order_by(keys.c.created_at)):
        oldest.setdefault(algorithm, kid)
    for algorithm, kid in oldest.items():
        connection.execute(keys.update().where(keys.c.kid == kid).values(first_of=algorithm))


def downgrade():
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("verify_only")
        batch.drop_constraint("uq_signing_keys_first_of", type_="unique")
        batch.drop_column("first_of")
