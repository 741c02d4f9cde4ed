"""``flask users import FILE``: many users from a CSV file, validated whole before any write."""

import csv
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

import click
from flask.cli import with_appcontext
from sqlalchemy import insert, select, update

from jwtauthtest.database import database_label, db, end_read_transaction
from jwtauthtest.models import User
from jwtauthtest.ops.audit import log_change
from jwtauthtest.passwords.costs import cost_problem
from jwtauthtest.passwords.hashing import password_context
from jwtauthtest.passwords.usernames import normalise_username, printable, username_key
from jwtauthtest.users import UserError, check_password, check_username, lock_down

HEADERS = ({"username", "password"}, {"username", "password_hash"})
MAX_HASH_LENGTH = 255
KEY_CHUNK = 500  # usernames per existence query, well under every database's parameter limit


@dataclass
class Row:
    line: int
    username: str
    secret: str  # a plain password or a hash, as the header says
    user_id: int | None = None  # set when the user exists and --update was given


@click.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--update", is_flag=True, help="Set new passwords for users who already exist.")
@click.option("--skip-invalid", is_flag=True, help="Import the valid lines, skipping the rest.")
@with_appcontext
def import_command(file: TextIO, update: bool, skip_invalid: bool) -> None:
    """Add users from a CSV file with the header username,password (plain passwords, hashed
    here) or username,password_hash (argon2, bcrypt, pbkdf2_sha256 or Django hashes)."""
    started = time.perf_counter()
    rows, problems, hashed = read_file(file)
    problems.update(match_existing(rows, update))
    end_read_transaction()  # hashing is slow; the writes start their own transaction
    for line, problem in sorted(problems.items()):
        click.echo(f"{'skipped ' if skip_invalid else ''}line {line}: {problem}", err=True)
    if problems and not skip_invalid:
        raise click.ClickException(
            f"{len(problems)} invalid line(s) in {file.name}; nothing was imported")
    rows = [row for row in rows if row.line not in problems]
    hashes = [row.secret for row in rows] if hashed else hash_all([row.secret for row in rows])
    added, updated, removed = store(rows, hashes)
    log_change("users_imported", file=file.name, added=added, updated=updated,
               passkeys_removed=removed)
    unchecked = (f"; {len(rows)} imported as hashes, not checked against the password policy"
                 if hashed else "")
    if removed:
        unchecked += f"; {removed} passkey(s) added with the password alone removed"
    click.echo(f"Imported {file.name} into {database_label()}: {added} added, {updated} updated, "
               f"{len(problems)} skipped in {time.perf_counter() - started:.1f} s{unchecked}")


def read_file(file: TextIO) -> tuple[list[Row], dict[int, str], bool]:
    """read_rows, with a file that isn't CSV in UTF-8 as one line for the operator."""
    reader = csv.reader(file)
    try:
        return read_rows(reader)
    except UnicodeDecodeError as e:
        raise click.ClickException(f"{file.name} is not UTF-8 text (it has the byte "
                                   f"{e.object[e.start]:#04x}): save it as UTF-8") from None
    except csv.Error as e:
        raise click.ClickException(f"{file.name} line {reader.line_num}: {e}") from None


def read_rows(reader: "csv._reader") -> tuple[list[Row], dict[int, str], bool]:
    """The valid rows, the problems by line number, and whether the file holds hashes."""
    header = next(reader, None)
    if header is None or {h.strip() for h in header} not in HEADERS or len(header) != 2:
        raise click.ClickException("the first line must be the header username,password or "
                           "username,password_hash")
    names = [h.strip() for h in header]
    hashed = "password_hash" in names
    rows: list[Row] = []
    problems: dict[int, str] = {}
    first_line: dict[str, int] = {}
    for fields in reader:
        if not fields:
            continue
        line = reader.line_num
        if len(fields) != 2:
            problems[line] = f"expected 2 fields, found {len(fields)}"
            continue
        values = dict(zip(names, fields, strict=True))
        username, secret = values["username"], values["password_hash" if hashed else "password"]
        problem = check_row(username, secret, hashed)
        key = username_key(username)
        if problem is None and key in first_line:
            problem = (f"duplicate username '{printable(username)}' (first on line "
                       f"{first_line[key]})")
        if problem is not None:
            problems[line] = problem
            continue
        first_line[key] = line
        rows.append(Row(line, normalise_username(username), secret))
    return rows, problems, hashed


def check_row(username: str, secret: str, hashed: bool) -> str | None:
    """What is wrong with a line: the checks of flask users add, or of the hash (a hash can't
    be checked against the password policy)."""
    try:
        check_username(username)
        if not hashed:
            check_password(secret, username)
    except UserError as e:
        return str(e)
    return check_hash(secret) if hashed else None


def check_hash(password_hash: str) -> str | None:
    if not password_hash:
        return "password hash must not be empty"
    if len(password_hash) > MAX_HASH_LENGTH:
        return f"password hash longer than {MAX_HASH_LENGTH} characters"
    context = password_context()
    scheme = context.identify(password_hash, required=False)
    if scheme is None:
        return "unknown password hash format"
    try:
        context.handler(scheme).from_string(password_hash)
    except ValueError:
        return f"malformed {scheme} hash"
    problem = cost_problem(context, password_hash)
    return f"password hash too costly to check: {problem}" if problem else None


def match_existing(rows: list[Row], update: bool) -> dict[int, str]:
    """Mark the rows whose user exists (with --update), or report them by line number."""
    by_key = {username_key(row.username): row for row in rows}
    keys = list(by_key)
    problems = {}
    for start in range(0, len(keys), KEY_CHUNK):
        found = db.session.execute(select(User.username_key, User.id)
                                   .where(User.username_key.in_(keys[start:start + KEY_CHUNK])))
        for key, user_id in found:
            row = by_key[key]
            if update:
                row.user_id = user_id
            else:
                problems[row.line] = f"user already exists: {printable(row.username)}"
    return problems


def hash_all(passwords: list[str]) -> list[str]:
    """Hash on every core (argon2 releases the GIL), with a progress bar and ETA on stderr
    (none when there is nothing to hash: every line was skipped)."""
    if not passwords:
        return []
    context = password_context()
    hashes = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool, \
            click.progressbar(length=len(passwords), label="Hashing passwords",
                              show_eta=True, file=sys.stderr) as bar:
        for password_hash in pool.map(context.hash, passwords):
            hashes.append(password_hash)
            bar.update(1)
    return hashes


def store(rows: list[Row], hashes: list[str]) -> tuple[int, int, int]:
    """Insert the new users and update the existing ones in one transaction: how many were
    added, updated, and passkeys removed by the updated users' lock-downs."""
    now = cut_off = time.time()
    new = [{"username": row.username, "username_key": username_key(row.username),
            "password": password_hash, "active": True, "created_at": now,
            "tokens_valid_after": 0.0}
           for row, password_hash in zip(rows, hashes, strict=True) if row.user_id is None]
    changed = [{"id": row.user_id, "password": password_hash, "tokens_valid_after": cut_off}
               for row, password_hash in zip(rows, hashes, strict=True)
               if row.user_id is not None]
    if new:
        db.session.execute(insert(User), new)
    removed = 0
    if changed:
        db.session.execute(update(User), changed)
        for row in changed:  # a new password locks the account down, as users passwd does
            removed += len(lock_down(row["id"]).passkeys)
    db.session.commit()
    return len(new), len(changed), removed
