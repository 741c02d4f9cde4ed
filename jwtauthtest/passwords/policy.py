"""What a new password must be (OWASP ASVS 5.0 6.2, NIST SP 800-63B): long enough, not too
long, not a common password, not the username; no composition rules."""

import unicodedata
from functools import cache
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path

from flask import Flask, current_app

from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH
from jwtauthtest.passwords.usernames import is_text
from jwtauthtest.settings import whole_number

# A shorter name is refused only as the whole password: "a" or "jo" is in most passphrases.
MIN_CONTAINED_USERNAME = 3


def init_password_policy(app: Flask) -> None:
    """A PASSWORD_MIN_LENGTH that can't be a length refuses to start."""
    whole_number(app.config, "PASSWORD_MIN_LENGTH", "characters", 1, MAX_PASSWORD_LENGTH)


def password_problem(password: str, username: str) -> str | None:
    """Why this user can't be given this password, in one line, or None.
    Uses ``app.config["PASSWORD_MIN_LENGTH"]``."""
    return length_problem(password) or guessable_problem(password, username)


def password_refusal(password: str, username: str) -> str | None:
    """password_problem as a sentence, for an answer's description."""
    problem = password_problem(password, username)
    return problem and problem[0].upper() + problem[1:]


def length_problem(password: str) -> str | None:
    if not password:
        return "password must not be empty"
    if not is_text(password):
        return "password must not contain NUL characters or unpaired surrogates"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must be at most {MAX_PASSWORD_LENGTH} characters"
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return f"password must be at least {min_length} characters (PASSWORD_MIN_LENGTH)"
    return None


def guessable_problem(password: str, username: str) -> str | None:
    """The username in it, or a common password: what an attacker tries first."""
    folded_password, folded_username = folded(password), folded(username)
    if folded_password == folded_username:
        return "password must not be the username"
    if len(folded_username) >= MIN_CONTAINED_USERNAME and folded_username in folded_password:
        return "password must not contain the username"
    common = common_passwords()
    if folded_password in common:
        return f"password is one of the {len(common):,} most common passwords"
    return None


def folded(text: str) -> str:
    """The text as compared: NFKC with case folded (``Ｐassword``, ``PASSWORD``: password)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (the pinned zxcvbn package), case
    folded: read by the first password checked in a process, never at start (about 20 ms)."""
    package = find_spec("zxcvbn")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("jwtauthtest needs the zxcvbn package: pipenv sync")
    # Its module file alone: importing zxcvbn.frequency_lists runs the package's __init__,
    # whose matching.py ranks all six of its lists (two to three times the time, 18 MiB not 8).
    path = Path(package.submodule_search_locations[0], "frequency_lists.py")
    spec = spec_from_file_location("jwtauthtest._zxcvbn_frequency_lists", path)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"zxcvbn's list of common passwords is missing: {path}")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(folded(word) for word in module.FREQUENCY_LISTS["passwords"])
