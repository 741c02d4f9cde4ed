"""HTTP errors as JSON in the contract's shape, never an HTML page."""

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


def init_errors(app: Flask) -> None:
    # Also covers the 500 Flask makes of an unhandled exception (after logging it).
    app.register_error_handler(HTTPException, http_error_response)


def http_error_response(error: HTTPException) -> Response:
    response = jsonify({"status_code": error.code, "error": error.name,
                        "description": error.description})
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep Allow, Retry-After, ...
            response.headers[name] = value
    return response
