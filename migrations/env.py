"""Alembic environment: migrate the app's database (run through Flask-Migrate)."""

from alembic import context
from flask import current_app

config = context.config
db = current_app.extensions["migrate"].db


def run_migrations_offline() -> None:
    context.configure(url=db.engine.url.render_as_string(hide_password=False),
                      target_metadata=db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old
            # users table would cascade and delete every session. Back on at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()  # (the statement began a transaction; Alembic starts its own)
        # Flask-Migrate's arguments include render_as_batch, which lets ALTERs run on
        # SQLite (it rebuilds the table for them).
        context.configure(connection=connection, target_metadata=db.metadata,
                          **current_app.extensions["migrate"].configure_args)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
