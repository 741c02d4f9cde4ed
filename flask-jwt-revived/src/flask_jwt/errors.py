"""``JWTError``, the one exception Flask-JWT raises for a request it refuses, and its answer."""

import logging
from typing import Any

from flask import current_app, has_app_context, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

logger = logging.getLogger("flask_jwt")


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

    @property
    def status_code(self) -> int:
        return self.code

    @status_code.setter
    def status_code(self, value: int) -> None:
        self.code = value

    @property
    def response(self) -> Response | None:
        # Built when first asked for, inside the request that raised the error.
        if self._answer is None and has_app_context() and "jwt" in current_app.extensions:
            answer = current_app.extensions["jwt"]._jwt_error_callback(self)
            self._answer = current_app.make_response(answer)
        return self._answer

    @response.setter
    def response(self, value: Response | None) -> None:
        self._answer = value

    def __repr__(self) -> str:
        return f"JWTError: {self.error}"

    def __str__(self) -> str:
        return f"{self.error}. {self.description}"


def _default_jwt_error_handler(error: JWTError) -> Any:
    """Logs the error and answers ``{"status_code", "error", "description"}`` with the
    error's status and headers."""
    logger.error(error)
    body = {"status_code": error.status_code, "error": error.error,
            "description": error.description}
    return jsonify(body), error.status_code, error.headers
