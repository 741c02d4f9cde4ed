"""An address's normal form, checked by email-validator without any DNS look-up, and the
key that tells two spellings of one address apart from two addresses."""

from email_validator import EmailNotValidError, validate_email

from jwtauthtest.models import MAX_EMAIL_LENGTH


class AddressError(ValueError):
    """Not an address that mail can be sent to; the message says why, in one line."""


def normal_address(text: str) -> str:
    """The address in its normal form (the domain in lower case, Unicode normalised), or
    AddressError."""
    if len(text) > MAX_EMAIL_LENGTH:
        raise AddressError(f"An e-mail address has at most {MAX_EMAIL_LENGTH} characters")
    try:
        # Never a DNS look-up: a request's time must not depend on someone's name server.
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise AddressError(f"Not an e-mail address: {error}") from None


def address_key(address: str) -> str:
    """What makes two addresses one: the normal form, case-folded. (Local parts are
    case-sensitive in theory, never in the mailboxes people have.)"""
    return address.casefold()
