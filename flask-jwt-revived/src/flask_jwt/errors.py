"""``JWTError``, the one exception Flask-JWT raises for a request it refuses, and its answer."""

import logging
from typing import Any

from flask import current_app, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

logger = logging.getLogger("flask_jwt")


def one_line(text: str) -> str:
    """The text with line breaks and other control characters escaped, for a log line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class JWTError(HTTPException):
    """A refused request: ``error`` is a short title, ``description`` says why, and
    ``status_code`` (401 unless given) and ``headers`` go into the answer.

    Beyond 0.3.2 it is a Werkzeug ``HTTPException`` whose ``response`` is the error
    handler's answer. Code that asks an exception for its response instead of calling the
    app's error handlers, as Flask-RESTful does inside its resources, answers the same JSON,
    whatever ``PROPAGATE_EXCEPTIONS`` says.
    """

    def __init__(self, error: str, description: str, status_code: int = 401,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.error = error
        self.code = status_code
        self.headers = headers
        self._answer: tuple[object, Response] | None = None  # (the request, its answer)

    def __reduce__(self) -> tuple:
        return type(self), (self.error, self.description, self.code, self.headers)

    @property
    def status_code(self) -> int:
        return self.code

    @status_code.setter
    def status_code(self, value: int) -> None:
        self.code = value

    @property
    def response(self) -> Response | None:
        # Built when asked for, once per request (Flask-RESTful asks twice): an error raised
        # again by a later request gets an answer of its own.
        if self._given is not None:
            return self._given
        if not has_request_context() or "jwt" not in current_app.extensions:
            return None
        current = request._get_current_object()
        if self._answer is None or self._answer[0] is not current:
            answer = current_app.extensions["jwt"]._jwt_error_callback(self)
            self._answer = (current, current_app.make_response(answer))
        return self._answer[1]

    @response.setter
    def response(self, value: Response | None) -> None:
        self._given = value  # HTTPException's own: a response given when raising

    def __repr__(self) -> str:
        return f"JWTError: {self.error}"

    def __str__(self) -> str:
        return f"{self.error}. {self.description}"


def _default_jwt_error_handler(error: JWTError) -> Any:
    """Logs the error (on one line: a description may quote what a client sent) and answers
    ``{"status_code", "error", "description"}`` with the error's status and headers."""
    logger.error("%s", one_line(str(error)))
    body = {"status_code": error.status_code, "error": error.error,
            "description": error.description}
    return jsonify(body), error.status_code, error.headers
