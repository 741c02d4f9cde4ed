"""The JSON answers that no cache may keep: tokens (RFC 6749 section 5.1), and a user's
account data (who they are, their sessions' addresses)."""

from typing import Any

from flask import Response, jsonify

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def private(body: dict[str, Any]) -> Response:
    """A JSON answer no cache may keep: tokens, or a user's account data."""
    response = jsonify(body)
    response.headers.update(NO_STORE)
    return response
