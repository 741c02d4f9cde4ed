"""Our checks on the credentials of a POST /auth, made before anything is hashed (Flask-JWT
has checked that both are present, and strings without NUL or unpaired surrogates)."""

from werkzeug.exceptions import BadRequest

from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH
from jwtauthtest.passwords.usernames import MAX_USERNAME_LENGTH, is_text, normalise_username


def check_credentials(username: str, password: str) -> None:
    """Refuse, with 400, what no user can have: huge inputs cost an attacker more than us."""
    if not (is_text(username) and is_text(password)):
        raise BadRequest("Username and password must be text without NUL characters or "
                         "unpaired surrogates")
    if len(normalise_username(username)) > MAX_USERNAME_LENGTH:
        raise BadRequest(f"Username must be at most {MAX_USERNAME_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(f"Password must be at most {MAX_PASSWORD_LENGTH} characters")
