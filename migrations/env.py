"""Alembic environment: migrate the app's database (run through Flask-Migrate)."""

import logging

import click
from alembic import context
from flask import current_app
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from jwtauthtest.entrypoints import starting_a_server
from jwtauthtest.schema import create_database, database_missing, unreachable
from jwtauthtest.secret import ConfigurationError

config = context.config
db = current_app.extensions["migrate"].db
logger = logging.getLogger("jwtauthtest.migrations")


def run_migrations_offline() -> None:
    context.configure(url=db.engine.url.render_as_string(hide_password=False),
                      target_metadata=db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    steps = []
    try:
        connection = db.engine.connect()
    except SQLAlchemyError as e:
        if not from_the_db_command():
            raise  # the app's own upgrade at start says it its way
        connection = connect_to_a_new_database(e)
    with connection:
        if connection.dialect.name == "sqlite":
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old
            # users table would cascade and delete every session. Back on at the end.
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.commit()  # (the statement began a transaction; Alembic starts its own)
        # Flask-Migrate's arguments include render_as_batch, which lets ALTERs run on
        # SQLite (it rebuilds the table for them).
        context.configure(connection=connection, target_metadata=db.metadata,
                          on_version_apply=lambda step, **_: steps.append(step),
                          **current_app.extensions["migrate"].configure_args)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()
        heads = context.get_context().get_current_heads()
    report(steps, heads)


def connect_to_a_new_database(error: SQLAlchemyError) -> Connection:
    """`flask db upgrade` on a PostgreSQL database that doesn't exist yet creates it, if the
    server lets the user; anything else is one line, not a traceback."""
    if not (database_missing(error) and click.get_current_context().command.name == "upgrade"):
        raise click.ClickException(unreachable(error)) from None
    try:
        create_database(db.engine.url)
    except ConfigurationError as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"Created the database {db.engine.url.render_as_string(hide_password=True)}")
    return db.engine.connect()


def report(steps: list, heads: tuple[str, ...]) -> None:
    """Say what was done: on stdout from `flask db upgrade`/`downgrade`, in the log when a
    starting server upgrades SQLite by itself."""
    database = db.engine.url.render_as_string(hide_password=True)
    lines = [f"{'Upgraded' if step.is_upgrade else 'Downgraded'} {database} from "
             f"{' '.join(step.source_revision_ids) or 'an empty database'} to "
             f"{' '.join(step.destination_revision_ids) or 'an empty database'}: "
             f"{(step.up_revision.doc or '').splitlines()[0]}" for step in steps]
    if from_the_db_command():
        for line in lines or [f"{database} is already at {' '.join(heads)}: nothing to do"]:
            click.echo(line)
    elif starting_a_server():  # (a command that upgrades SQLite says nothing of it)
        logger.setLevel(logging.INFO)
        for line in lines:
            logger.info(line)


def from_the_db_command() -> bool:
    """Run by `flask db upgrade` or `downgrade`, not by the app upgrading SQLite by itself."""
    command = click.get_current_context(silent=True)
    return command is not None and command.command.name in ("upgrade", "downgrade")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
