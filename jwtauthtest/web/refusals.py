"""The answers that refuse a request, as exceptions, in the contract's JSON shape
``{"status_code", "error", "description"}`` (ops/errors.py writes them):

- Flask-JWT's ``JWTError`` for what refuses a token or credentials; ``Refused`` is one that
  says why in a word the metrics count by (``reason``), and ``PasswordAccepted`` the 401 that
  asks a user with a second factor for a code;
- Werkzeug's exceptions for everything else (a body that isn't right, a conflict, too many
  requests, the database away), and their subclasses below where the answer's ``error`` is
  not the status's standard phrase.
"""

from flask_jwt import JWTError
from werkzeug.exceptions import BadRequest, Forbidden

CHALLENGE_HEADER = "Second-Factor-Challenge"  # the challenge of PasswordAccepted's answer
FRESH_REQUIRED = "Fresh token required"


class Refused(JWTError):
    """A token refused (401, or 403 for a cookie's CSRF checks), with why: ``expired``,
    ``revoked``, ``bad_signature``, ``wrong_type``, ``reused``, ..."""

    def __init__(self, error: str, description: str, reason: str, status_code: int = 401,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error, description, status_code, headers)
        self.reason = reason

    def __reduce__(self) -> tuple:
        return type(self), (self.error, self.description, self.reason, self.code,
                            self.headers)


def no_such_user() -> Refused:
    """A verified token whose user is gone or disabled (Flask-JWT's words)."""
    return Refused("Invalid JWT", "User does not exist", "unknown_user")


def revoked_token() -> Refused:
    return Refused("Invalid token", "Token has been revoked", "revoked")


def not_fresh() -> Refused:
    """A token that is not fresh where a sensitive act needs one."""
    return Refused("Invalid token", FRESH_REQUIRED, "invalid")


class PasswordAccepted(JWTError):
    """A 401 that follows a right password, asking for a second factor: not a failure."""


class CrossSiteRefused(Forbidden):
    """A request authenticated by the refresh cookie that fails the CSRF or Origin checks."""

    reason = "csrf"


class PasskeyNotRegistered(BadRequest):
    """A passkey's registration answer that is not accepted (400 ``Passkey refused``)."""

    name = "Passkey refused"
