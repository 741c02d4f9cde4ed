"""The one check of a JSON request body: an object with exactly the keys of one of the
shapes the view takes — ``Request body must have exactly the keys ...`` (``the key ...``)
otherwise — and, where the view asks, every value text of at most 256 characters.
(Flask-JWT's login body is the extension's own.)"""

from typing import Any

from flask import request
from flask_jwt import request_json
from werkzeug.exceptions import BadRequest

from jwtauthtest.passwords.usernames import is_text

MAX_TEXT = 256


def json_body(*shapes: tuple[str, ...], text_values: bool = False) -> dict[str, Any]:
    """The request's JSON object, if its keys are exactly those of one of the shapes; with
    text_values, each value a string of text (no NUL, no unpaired surrogate) of at most 256
    characters. 400, naming what to send, otherwise."""
    data = request_json()
    if not isinstance(data, dict):
        raise BadRequest(not_an_object())
    if not any(sorted(data) == sorted(shape) for shape in shapes):
        keys = "key" if len(shapes) == 1 and len(shapes[0]) == 1 else "keys"
        raise BadRequest(f"Request body must have exactly the {keys} {described(shapes)}")
    if text_values:
        if not all(isinstance(value, str) and len(value) <= MAX_TEXT for value in data.values()):
            raise BadRequest(f"Each value must be a string of at most {MAX_TEXT} characters")
        if not all(is_text(value) for value in data.values()):
            raise BadRequest("Values must be text without NUL characters or unpaired "
                             "surrogates")
    return data


def not_an_object() -> str:
    """Why a body is not a JSON object: said as ``POST /auth`` says it, since a body sent
    without its content type is the usual mistake (curl's ``-d`` sends a form's)."""
    if request.get_data(cache=True) and not request.is_json:
        return "Request body must be JSON, sent with Content-Type: application/json"
    return "Request body must be a JSON object"


def described(shapes: tuple[tuple[str, ...], ...]) -> str:
    """``a and b``, ``a and b, or c and d``; a shape that adds keys to the first: ``a and
    b, or those and c``."""
    first, *others = shapes
    named = [" and ".join(first)]
    for shape in others:
        more = [key for key in shape if key not in first]
        named.append(" and ".join(["those", *more]) if set(first) <= set(shape)
                     else " and ".join(shape))
    return ", or ".join(named)
