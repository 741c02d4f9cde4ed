"""Every error as JSON in the contract's shape {"status_code", "error", "description"}."""

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from . import metrics
from .database import db
from .schema import SCHEMA_OUTDATED, driver_message, schema_missing

REFRESH_REUSED = "Refresh token was already used; its session has been revoked"


class JWTError(Exception):
    """The one error of the JWT layer (Flask-JWT's): answered with its status, 401 unless
    said otherwise. Also importable as jwtauthtest.jwt.JWTError."""

    def __init__(self, error: str, description: str, status_code: int = 401,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers or {}


def init_errors(app: Flask) -> None:
    # Also covers the 500 Flask makes of an unhandled exception (after logging it).
    app.register_error_handler(HTTPException, http_error_response)
    for unavailable in (DBAPIError, PoolTimeout):
        app.register_error_handler(unavailable, database_unavailable)
    app.register_error_handler(JWTError, jwt_error_response)


def http_error_response(error: HTTPException) -> Response:
    response = jsonify({"status_code": error.code, "error": error.name,
                        "description": error.description})
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keep Allow, Retry-After, ...
            response.headers[name] = value
    return response


def database_unavailable(error: DBAPIError | PoolTimeout) -> Response:
    """Any error from the database: unreachable, its connections all busy, (SQLite) locked
    past the busy timeout, or without the tables this code needs yet: 503, not 500."""
    if schema_missing(error):
        current_app.logger.warning("%s (%s)", SCHEMA_OUTDATED, driver_message(error))
    else:
        current_app.logger.warning("Database unavailable: %s", driver_message(error))
    metrics.count("database_unavailable")
    db.session.rollback()
    return http_error_response(ServiceUnavailable("The database is unavailable; try again soon"))


REJECTIONS = {"Signature has expired": "expired", "Token has been revoked": "revoked",
              "User does not exist": "unknown_user", "Signature verification failed":
              "bad_signature", REFRESH_REUSED: "reused"}


def jwt_error_response(error: JWTError) -> tuple[Response, int, dict[str, str]]:
    count_rejection(error)
    body = {"status_code": error.status_code, "error": error.error,
            "description": error.description}
    return jsonify(body), error.status_code, error.headers


def count_rejection(error: JWTError) -> None:
    """A refused refresh, or a protected request refused for its token (for metrics; a
    refused login counts as a login)."""
    if request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"]:
        return
    reason = REJECTIONS.get(error.description, "invalid")
    if error.error == "Authorization Required":
        reason = "missing"
    elif error.error == "Invalid JWT header":
        reason = "bad_header"
    elif error.description.startswith("Expected a"):
        reason = "wrong_type"
    if request.endpoint == "views.refresh":
        metrics.count("token_refreshes", outcome="reused" if reason == "reused" else "invalid")
    else:
        metrics.count("tokens_rejected", reason=reason)
