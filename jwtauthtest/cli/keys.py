"""``flask --app jwtauthtest keys list|rotate|retire``: the signing keys (keys/keyset.py)."""

import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from jwtauthtest.cli.common import require_current_schema
from jwtauthtest.database import db
from jwtauthtest.keys.keyset import key_set
from jwtauthtest.models import SigningKey
from jwtauthtest.tokens.listing import shown_time


@click.group("keys", cls=AppGroup)
@with_appcontext
def keys_cli() -> None:
    """Manage the keys that sign and verify tokens."""
    require_current_schema()


def utc(epoch: float) -> str:
    return f"{shown_time(epoch, for_people=True)} UTC"


def all_keys() -> list[SigningKey]:
    return list(db.session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


@keys_cli.command("list")
def list_command() -> None:
    """List the keys: id, algorithm, created, state (signing, verifying, retired; and which
    verifies Flask-JWT's tokens, which have no kid) under this configuration's algorithm."""
    keys = key_set()
    keys.refresh()
    signing, kidless = keys.signing_kid, keys.kidless_key()
    stored = all_keys()
    if not stored:
        click.echo("No keys yet: a starting server makes the first, or run `keys rotate`")
        return
    # The state as a server with this command's JWT_ALGORITHM sees it.
    rows = [("KID", "ALGORITHM", "CREATED", f"STATE (JWT_ALGORITHM={keys.algorithm})")]
    for key in stored:
        state = ("retired" if key.retired_at is not None else
                 "signing" if key.kid == signing else "verifying")
        if kidless is not None and key.kid == kidless.kid:
            state += " (and tokens without kid)"
        rows.append((key.kid, key.algorithm, utc(key.created_at), state))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths,
                                                                         strict=True)).rstrip())
    newer = newer_key_of_another_algorithm(stored, keys.algorithm, signing)
    if newer is not None:
        click.echo(f"Warning: {newer.kid} ({newer.algorithm}) is newer than any {keys.algorithm} "
                   f"key that signs: servers with JWT_ALGORITHM={newer.algorithm} sign with it; "
                   "run this command with the servers' configuration", err=True)


def newer_key_of_another_algorithm(stored: list[SigningKey], algorithm: str,
                                   signing_kid: str | None) -> SigningKey | None:
    """The newest key that can sign, if it is of another algorithm than the one this command
    assumes and younger than the key it assumes signs: the servers probably sign with it."""
    signers = [key for key in stored if key.retired_at is None and not key.verify_only]
    if not signers or signers[-1].algorithm == algorithm:
        return None
    assumed = next((key for key in signers if key.kid == signing_kid), None)
    if assumed is not None and assumed.created_at >= signers[-1].created_at:
        return None
    return signers[-1]


@keys_cli.command("rotate")
def rotate_command() -> None:
    """Make a new signing key; the others keep verifying until retired."""
    keys = key_set()
    kid = keys.create(keys.algorithm)
    click.echo(f"Made key {kid} ({keys.algorithm}): it signs new tokens, on every instance "
               f"within {current_app.config['JWT_KEY_REFRESH_SECONDS']} s; the older keys "
               "keep verifying")


@keys_cli.command("retire")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire it even while tokens it signed are valid.")
def retire_command(kid: str, force: bool) -> None:
    """Stop a key from verifying: the tokens it signed are refused."""
    keys = key_set()
    stored = {key.kid: key for key in all_keys()}
    key = stored.get(kid)
    if key is None:
        raise click.ClickException(f"no such key: {kid}")
    if key.retired_at is not None:
        raise click.ClickException(f"key {kid} is retired already")
    keys.refresh()
    if kid == keys.signing_kid and not force:
        raise click.ClickException(f"key {kid} signs new tokens: rotate first")
    later = [other.created_at for other in stored.values() if other.created_at > key.created_at]
    safe_at = min(later, default=time.time()) + token_lifetime()
    if safe_at > time.time() and not force:
        raise click.ClickException(
            f"tokens key {kid} signed can be valid until {utc(safe_at)}: retire it then, or "
            "now with --force (those tokens are then refused)")
    keys.retire(kid)
    click.echo(f"Retired key {kid}: the tokens it signed are refused, on every instance "
               f"within {current_app.config['JWT_KEY_REFRESH_SECONDS']} s")


def token_lifetime() -> float:
    """How long after a key stops signing a token it signed can still be accepted."""
    config = current_app.config
    return (max(config["JWT_EXPIRATION_DELTA"], config["JWT_REFRESH_EXPIRATION_DELTA"])
            + config["JWT_LEEWAY"]).total_seconds()
