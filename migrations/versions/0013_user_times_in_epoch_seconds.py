"""Users' creation and last login in epoch seconds, as every other time is.

The two were the only DateTime columns (naive, in UTC); the rows keep their moments.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = ("created_at", "last_login_at")
# SQLite's table is made anew: its ids must stay never reused (0002's AUTOINCREMENT).
USERS_TABLE = {"sqlite_autoincrement": True}


def epoch(moment):
    return None if moment is None else moment.replace(tzinfo=timezone.utc).timestamp()


def naive(seconds):
    return None if seconds is None else \
        datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def convert(old_type, new_type, kind, change):
    """Each column into a new one of new_type, with change applied to every value."""
    with op.batch_alter_table("users", table_kwargs=USERS_TABLE) as batch:
        for name in COLUMNS:
            batch.add_column(sa.Column(f"{name}_{kind}", new_type, nullable=True))
    users = sa.table("users", sa.column("id", sa.Integer()),
                     *(sa.column(name, old_type) for name in COLUMNS),
                     *(sa.column(f"{name}_{kind}", new_type) for name in COLUMNS))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, *(users.c[name] for name in COLUMNS)))
    for row in rows.all():
        connection.execute(users.update().where(users.c.id == row.id).values(
            **{f"{name}_{kind}": change(getattr(row, name)) for name in COLUMNS}))
    with op.batch_alter_table("users", table_kwargs=USERS_TABLE) as batch:
        for name in COLUMNS:
            batch.drop_column(name)
            batch.alter_column(f"{name}_{kind}", new_column_name=name,
                               existing_type=new_type, existing_nullable=True)


def upgrade():
    convert(sa.DateTime(), sa.Float(), "epoch", epoch)


def downgrade():
    convert(sa.Float(), sa.DateTime(), "naive", naive)
