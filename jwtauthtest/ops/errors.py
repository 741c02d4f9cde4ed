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
    # Also covers the 500 Flask makes of an unhandled exception (after logging it), and
    # JWTError, a Werkzeug exception too (jwt.py gives Flask-JWT this handler as well).
    app.register_error_handler(HTTPException, error_response)
    for unavailable in (DBAPIError, PoolTimeout):
        app.register_error_handler(unavailable, database_unavailable)
    app.register_error_handler(IntegrityError, concurrent_change)  # (a DBAPIError too)


def error_response(error: HTTPException) -> Response:
    """Every refusal's answer, ``{"status_code", "error", "description"}``: a JWTError's
    ``error`` is its own title, a Werkzeug exception's its name; the headers go with it (a
    JWTError's WWW-Authenticate, Retry-After, Allow). Refused tokens are counted in the
    metrics, and a login refused before the app's handlers saw it is an audit event."""
    title = error.error if isinstance(error, JWTError) else error.name
    description = error.description
    if isinstance(error, JWTError) and error.code == 401 \
            and request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"]:
        description = refused_login(error)
    count_rejection(error)
    response = jsonify({"status_code": error.code, "error": title, "description": description})
    response.status_code = error.code or 500
    headers = (error.headers or {}).items() if isinstance(error, JWTError) else \
        error.get_headers()
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def database_unavailable(error: DBAPIError | PoolTimeout) -> Response:
    """Any error from the database: unreachable, its connections all busy, (SQLite) locked
    past the busy timeout, or without the tables this code needs yet: 503, not 500."""
    current_app.logger.warning(database_problem(error))
    metrics.count("database_unavailable")
    db.session.rollback()
    return error_response(ServiceUnavailable("The database is unavailable; try again soon"))


def concurrent_change(error: IntegrityError) -> Response:
    """A constraint refused a write no view expected to fail: another request made the same
    change first (two registrations of one thing at once). The client's to retry; the
    database is fine."""
    current_app.logger.warning("A concurrent change refused a write: %s", driver_message(error))
    db.session.rollback()
    return error_response(Conflict("The request conflicts with a concurrent change; try "
                                        "again"))


# Why Flask-JWT's own refusals refused, by their titles (the contract's): ours say it
# themselves (web.refusals.Refused.reason).
EXTENSION_REASONS = {"Authorization Required": "missing", "Invalid JWT header": "bad_header"}


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


def count_rejection(error: HTTPException) -> None:
    """A refused refresh, or a protected request refused for its token (for metrics; a
    refused login counts as a login), by the refusal's reason."""
    reason = getattr(error, "reason", None)
    if reason is None and type(error) is JWTError:
        reason = EXTENSION_REASONS.get(error.error)
    if reason is None or request.endpoint == current_app.config["JWT_AUTH_ENDPOINT"]:
        return  # not a token's refusal: a bad body, a wrong password or code, a conflict
    if request.endpoint == "views.refresh" or reason == "reused":  # also a cookie's, at logout
        metrics.count("token_refreshes", outcome="reused" if reason == "reused" else "invalid")
    else:
        metrics.count("tokens_rejected", reason=reason)
