"""Clients in the database: adding one (its secret shown once), listing, removing, and
checking the credentials an introspection comes with.

The secret is 32 random bytes, so a keyed hash is as good as a password hash here and far
cheaper: an HMAC-SHA-256 under a key derived from SECRET_KEY, of the client id and the
secret, compared in constant time. Replacing SECRET_KEY leaves every secret unmatched: the
clients are then added again.
"""

import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Row, delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from jwtauthtest.clients.model import MAX_NAME_LENGTH, Client
from jwtauthtest.database import db
from jwtauthtest.keys.material import derive_key
from jwtauthtest.passwords.usernames import printable
from jwtauthtest.schema import database_problem
from jwtauthtest.secret import app_secret
from jwtauthtest.users import UserError

EXTENSION_KEY = "jwtauthtest.clients"
ID_BYTES, SECRET_BYTES = 16, 32  # random bytes; sent as base64url without padding
ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{22}")  # what token_urlsafe(ID_BYTES) gives
LAST_USED_STEP = 60  # seconds: a client's last use is written at most once a minute
UNKNOWN, WRONG_SECRET = "unknown client", "wrong secret"
NOT_AN_ID = "not a client id"  # no id add_client makes looks like it: nothing to look up
logger = logging.getLogger("jwtauthtest.clients")


class ClientError(UserError):
    """A client operation refused: one line for the operator."""


@dataclass(frozen=True)
class Checked:
    """What checking a client's credentials found: the client's id, or why not."""

    client_id: str | None
    refusal: str | None = None


def init_clients(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = derive_key(app_secret(app), b"client secrets")


def secret_digest(client_id: str, secret: str) -> str:
    """The stored form of a client's secret, bound to its id."""
    message = f"{client_id}:{secret}".encode("utf-8", "surrogatepass")
    return hmac.new(current_app.extensions[EXTENSION_KEY], message, hashlib.sha256).hexdigest()


def check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable() \
            or name != name.strip():
        raise ClientError(f"a client's name must be 1 to {MAX_NAME_LENGTH} printable "
                          f"characters, without spaces around them, not '{printable(name)}'")


def add_client(name: str) -> tuple[Client, str]:
    """A new client (committed) and its secret, which is nowhere else from now on."""
    check_name(name)
    if find_client(name) is not None:
        raise ClientError(f"client already exists: {printable(name)}")
    client_id, secret = secrets.token_urlsafe(ID_BYTES), secrets.token_urlsafe(SECRET_BYTES)
    client = Client(id=client_id, name=name, secret_digest=secret_digest(client_id, secret))
    db.session.add(client)
    try:
        db.session.commit()
    except IntegrityError:  # added by someone else since find_client
        db.session.rollback()
        raise ClientError(f"client already exists: {printable(name)}") from None
    return client, secret


def has_id_shape(value: str) -> bool:
    """Whether the value could be a client_id we made: 22 base64url characters. A secret
    (43 of them) sent in its place has not, so it may be logged as one."""
    return ID_SHAPE.fullmatch(value) is not None


def find_client(name: str) -> Client | None:
    return db.session.scalar(select(Client).where(Client.name == name))


def all_clients() -> list[Client]:
    return list(db.session.scalars(select(Client).order_by(Client.created_at, Client.name)))


def remove_client(name: str) -> Client:
    """Remove the client (committed): its credentials are refused from the next request on."""
    client = find_client(name)
    if client is None:
        raise ClientError(f"no such client: {printable(name)}")
    db.session.execute(delete(Client).where(Client.id == client.id))
    db.session.commit()
    return client


def check_client(client_id: str, secret: str) -> Checked:
    """Whether these are a client's credentials, by one query on its id, or none for an id
    that hasn't the shape of those add_client makes (NUL, which PostgreSQL refuses, or a
    secret sent in the id's place, among them); its last use is noted when it is more than a
    minute old."""
    shaped = has_id_shape(client_id)
    row = stored_secret(client_id) if shaped else None
    presented = secret_digest(client_id, secret)  # for any id sent: the same work
    if not shaped:
        return Checked(None, NOT_AN_ID)
    if row is None:
        return Checked(None, UNKNOWN)
    if not hmac.compare_digest(presented, row.secret_digest):
        return Checked(None, WRONG_SECRET)
    now = time.time()
    if row.last_used_at is None or row.last_used_at < now - LAST_USED_STEP:
        note_use(client_id, now)
    return Checked(client_id)


def stored_secret(client_id: str) -> Row | None:
    """The client's secret digest and last use, if there is such a client."""
    return db.session.execute(select(Client.secret_digest, Client.last_used_at)
                              .where(Client.id == client_id)).first()


def note_use(client_id: str, now: float) -> None:
    """The client's last use, unless another request noted it within the minute; a database
    that refuses the write (a standby's) costs the note, not the introspection."""
    try:
        db.session.execute(update(Client).where(
            Client.id == client_id,
            or_(Client.last_used_at.is_(None), Client.last_used_at < now - LAST_USED_STEP))
            .values(last_used_at=now))
        db.session.commit()
    except SQLAlchemyError as e:
        db.session.rollback()
        logger.warning("Could not note client %s's last use: %s", client_id,
                       database_problem(e))
