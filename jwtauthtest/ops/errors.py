"""Every error as JSON in the contract's shape {"status_code", "error", "description"}."""

from flask import Flask, Response, current_app, jsonify, request
from flask_jwt import JWTError, request_json
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import Conflict, HTTPException, ServiceUnavailable

from jwtauthtest.database import db
from jwtauthtest.ops import metrics
from jwtauthtest.ops.audit import FAILURE, log_login, logged_this_login
from jwtauthtest.schema import database_problem, driver_message

REFRESH_REUSED = "Refresh token was already used; its session has been revoked"


def init_errors(app: Flask) -> None:
    # Also covers the 500 Flask makes of an unhandled exception (after logging it).
    app.register_error_handler(HTTPException, http_error_response)
    for unavailable in (DBAPIError, PoolTimeout):
        app.register_error_handler(unavailable, database_unavailable)
    app.register_error_handler(IntegrityError, concurrent_change)  # (a DBAPIError too)
    # JWTError's handler is Flask-JWT's, which calls jwt_error_response (jwt.py).


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
    current_app.logger.warning(database_problem(error))
    metrics.count("database_unavailable")
    db.session.rollback()
    return http_error_response(ServiceUnavailable("The database is unavailable; try again soon"))


def concurrent_change(error: IntegrityError) -> Response:
    """A constraint refused a write no view expected to fail: another request made the same
    change first (two registrations of one thing at once). The client's to retry; the
    database is fine."""
    current_app.logger.warning("A concurrent change refused a write: %s", driver_message(error))
    db.session.rollback()
    return http_error_response(Conflict("The request conflicts with a concurrent change; try "
                                        "again"))


REJECTIONS = {"Signature has expired": "expired", "Token has been revoked": "revoked",
              "User does not exist": "unknown_user", "Signature verification failed":
              "bad_signature", REFRESH_REUSED: "reused"}


def jwt_error_response(error: JWTError) -> tuple[Response, int, dict[str, str]]:
    """Flask-JWT's answer without its ERROR log line for every refusal; counted in the
    metrics, and a login refused for incomplete credentials is an audit event too."""
    description = error.description
    if request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"] and error.status_code == 401:
        description = refused_login(error)
    count_rejection(error)
    body = {"status_code": error.status_code, "error": error.error, "description": description}
    return jsonify(body), error.status_code, error.headers or {}


def refused_login(error: JWTError) -> str:
    """A refused login's description, which says what to send when the body had more than
    the two keys (Flask-JWT's says "Invalid credentials" alone); logged if it wasn't yet."""
    body = request_json()
    keys = (current_app.config["JWT_AUTH_USERNAME_KEY"],
            current_app.config["JWT_AUTH_PASSWORD_KEY"])
    if not logged_this_login():
        log_login(FAILURE, body.get(keys[0]) if isinstance(body, dict) else None,
                  "incomplete credentials")
    if error.description == "Invalid credentials" and isinstance(body, dict) \
            and not set(body) <= set(keys):
        return f"Invalid credentials: send exactly the keys {keys[0]} and {keys[1]}"
    return error.description


def count_rejection(error: JWTError) -> None:
    """A refused refresh, or a protected request refused for its token (for metrics; a
    refused login counts as a login)."""
    if (request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"]
            or error.status_code not in (401, 403) or error.error == "Invalid credentials"):
        return  # a login, a bad body, a wrong current password: not the token's fault
    reason = REJECTIONS.get(error.description, "invalid")
    if error.status_code == 403:
        reason = "csrf"  # a browser's cookie without the CSRF header or from a foreign origin
    elif error.error == "Authorization Required":
        reason = "missing"
    elif error.error == "Invalid JWT header":
        reason = "bad_header"
    elif error.description.startswith("Expected a"):
        reason = "wrong_type"
    if request.endpoint == "views.refresh" or reason == "reused":  # also a cookie's, at logout
        metrics.count("token_refreshes", outcome="reused" if reason == "reused" else "invalid")
    else:
        metrics.count("tokens_rejected", reason=reason)
