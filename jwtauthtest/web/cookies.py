"""Browser clients (issue 16): the refresh token in an HttpOnly cookie, out of reach of the
page's scripts, and the CSRF defence every request authenticated by that cookie passes — a
double-submit token and an Origin check — with CORS for browser apps on other origins."""

import hmac
import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from werkzeug.exceptions import BadRequest

from jwtauthtest.settings import ConfigurationError
from jwtauthtest.web.answers import private
from jwtauthtest.web.refusals import CHALLENGE_HEADER, CrossSiteRefused
from jwtauthtest.web.state import REFRESH, request_state

REFRESH_COOKIE = "__Host-refresh_token"  # __Host-: Secure, this host only, Path=/
CSRF_COOKIE = "__Host-csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TRANSPORT_PARAMETER = "transport"


def init_browser(app: Flask) -> None:
    app.config["CORS_ORIGINS"] = parse_origins(app.config["CORS_ORIGINS"])
    if app.config["CORS_ORIGINS"]:
        # Exact patterns: flask-cors reads a string with "[" or "*" as a regular expression.
        exact = [re.compile(re.escape(origin) + r"\Z") for origin in app.config["CORS_ORIGINS"]]
        CORS(app, origins=exact, supports_credentials=True,
             allow_headers=["Authorization", "Content-Type", CSRF_HEADER],
             expose_headers=[CHALLENGE_HEADER], max_age=600)


def parse_origins(value: object) -> list[str]:
    """A list of origins, or a string of them separated by spaces or commas (the
    environment's FLASK_CORS_ORIGINS); each exactly scheme://host[:port]."""
    origins = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(origins, (list, tuple)) or not all(isinstance(o, str) for o in origins):
        raise ConfigurationError(f"CORS_ORIGINS must be a list of origins, not {value!r}")
    for origin in origins:
        parts = urlsplit(origin)
        if (parts.scheme not in ("http", "https") or not parts.netloc or "*" in origin
                or f"{parts.scheme}://{parts.netloc}" != origin):
            raise ConfigurationError(f"CORS_ORIGINS: {origin!r} is not an origin such as "
                                     "https://app.example.com (no path, no trailing slash)")
    return list(origins)


def cookie_transport_requested() -> bool:
    """Whether this login asks for its refresh token in a cookie; 400 for an unknown
    transport, or the cookie one when JWT_COOKIE_TRANSPORT is off."""
    transport = request.args.get(TRANSPORT_PARAMETER)
    if transport is None:
        return False
    if transport != "cookie":
        raise BadRequest("The only transport is cookie")
    if not current_app.config["JWT_COOKIE_TRANSPORT"]:
        raise BadRequest("Cookie transport is disabled (JWT_COOKIE_TRANSPORT)")
    check_origin(required=False)  # a browser always sends one with a POST
    return True


def refresh_token_from_cookie() -> str | None:
    """The refresh-token cookie of a request that passes the CSRF checks, or None when
    there is no such cookie (or JWT_COOKIE_TRANSPORT is off: cookies set before are ignored)."""
    token = request.cookies.get(REFRESH_COOKIE)
    if token is None or not current_app.config["JWT_COOKIE_TRANSPORT"]:
        return None
    check_origin(required=True)
    csrf_cookie = request.cookies.get(CSRF_COOKIE, "")
    csrf_header = request.headers.get(CSRF_HEADER, "")
    if not csrf_cookie or not hmac.compare_digest(csrf_cookie.encode("utf-8", "replace"),
                                                  csrf_header.encode("utf-8", "replace")):
        raise forbidden(f"The {CSRF_HEADER} header must repeat the {CSRF_COOKIE} cookie")
    request_state().by_cookie = True
    request_state().token_type = REFRESH  # what the cookie holds, for logout too
    return token


def authenticated_by_cookie() -> bool:
    return request_state().by_cookie


def check_origin(required: bool) -> None:
    """A browser names the page's origin on every POST and DELETE: it must be ours or one
    of CORS_ORIGINS (a page elsewhere could otherwise spend the cookie)."""
    origin = request.headers.get("Origin")
    if origin is None:
        if not required:
            return
        raise forbidden("A request authenticated by a cookie needs an Origin header")
    if origin != own_origin() and origin not in current_app.config["CORS_ORIGINS"]:
        raise forbidden("Origin not allowed")


def own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def forbidden(description: str) -> CrossSiteRefused:
    return CrossSiteRefused(description)


def cookie_token_response(access_token: str, refresh_token: str, new_login: bool,
                          **extra: object) -> Response:
    """The access token (and the CSRF token, and ``extra``) in the body, for the page to keep
    in memory; the refresh token in its HttpOnly cookie. A login gets a new CSRF token, a
    refresh keeps it."""
    csrf_token = secrets.token_urlsafe(32) if new_login else request.cookies[CSRF_COOKIE]
    response = private({"access_token": access_token, "csrf_token": csrf_token, **extra})
    max_age = int(current_app.config["JWT_REFRESH_EXPIRATION_DELTA"].total_seconds())
    for name, value, httponly in ((REFRESH_COOKIE, refresh_token, True),
                                  (CSRF_COOKIE, csrf_token, False)):
        response.set_cookie(name, value, max_age=max_age, path="/", secure=True,
                            httponly=httponly, samesite="Strict")
    return response


def clear_session_cookies(response: Response) -> Response:
    """Logout, or a reused refresh token: the browser forgets both cookies."""
    for name, httponly in ((REFRESH_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=True, httponly=httponly,
                               samesite="Strict")
    return response
