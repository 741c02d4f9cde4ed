"""The pieces the OpenAPI document (apidocs/openapi.py) is built of: responses, parameters, security
requirements, and the shared components."""

from typing import Any

JSON = "application/json"
NO_NUL = "^[^\\u0000]*$"  # PostgreSQL cannot store NUL; /auth refuses it with 400
NO_STORE_HEADERS = {"Cache-Control": {"description": "`no-store`: no cache may keep the tokens",
                                      "schema": {"const": "no-store"}},
                    "Pragma": {"description": "`no-cache`, for HTTP/1.0 caches",
                               "schema": {"const": "no-cache"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {JSON: {"schema": ref("Error")}}}
    if headers:
        response["headers"] = headers
    return response


def ok(description: str, schema: dict[str, Any], media_type: str = JSON) -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def tokens_issued(description: str) -> dict[str, Any]:
    """Both tokens in the body; or, for ``?transport=cookie``, the refresh token in the
    ``__Host-refresh_token`` cookie (web/cookies.py)."""
    schema = {"oneOf": [ref("Tokens"), ref("BrowserTokens")]}
    return {**ok(description, schema), "headers": NO_STORE_HEADERS}


UNAVAILABLE = error("The database is unreachable")
UNAUTHORIZED = error("No token, a malformed or refused token, a revoked token, a token of the "
                     "wrong type, or a deleted or disabled user",
                     {"WWW-Authenticate": {"description": "Sent when there is no token",
                                           "schema": {"type": "string"}}})
SECURED = [{"JWT": []}]
SECURED_OR_COOKIE = [{"JWT": []}, {"RefreshCookie": [], "CSRF": []}]
CSRF_REFUSED = error("Authenticated by the refresh-token cookie, without an X-CSRF-Token "
                     "header repeating the CSRF cookie, or from an origin not allowed")
TRANSPORT = {"name": "transport", "in": "query", "required": False,
             "schema": {"const": "cookie"},
             "description": "`cookie`: the refresh token in an HttpOnly cookie, not the body"}


def protected(summary: str, success: dict[str, Any], more: dict[str, Any] | None = None,
              status: str = "200") -> dict[str, Any]:
    """An operation that needs an access token: its success, and the refusals every such
    operation may answer, with more."""
    return {"summary": summary, "security": SECURED,
            "responses": {status: success, "401": UNAUTHORIZED, "503": UNAVAILABLE,
                          **(more or {})}}


THROTTLED = error("Too many failed logins from this address or for this username",
                  {"Retry-After": {"description": "Seconds to wait",
                                   "schema": {"type": "integer"}}})

COMPONENTS = {
    "securitySchemes": {
        "JWT": {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`JWT <token>`: an access token, or a refresh token "
                               "for /auth/refresh"},
        "RefreshCookie": {"type": "apiKey", "in": "cookie",
                          "name": "__Host-refresh_token",
                          "description": "Set by a login with ?transport=cookie"},
        "CSRF": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                 "description": "The __Host-csrf_token cookie's value, with the "
                                "page's Origin header"},
        "Client": {"type": "http", "scheme": "basic",
                   "description": "A client's client_id and client_secret (`flask clients "
                                  "add`), each form-urlencoded first (RFC 6749 2.3.1)"}},
    "schemas": {
        "Error": {"type": "object", "required": ["status_code", "error", "description"],
                  "properties": {"status_code": {"type": "integer"},
                                 "error": {"type": "string"},
                                 "description": {"type": "string"}}},
        "Tokens": {"type": "object", "required": ["access_token", "refresh_token"],
                   "properties": {"access_token": {"type": "string"},
                                  "refresh_token": {"type": "string"}}},
        "BrowserTokens": {"type": "object", "required": ["access_token", "csrf_token"],
                          "properties": {"access_token": {"type": "string"},
                                         "csrf_token": {"type": "string"}}},
        "Session": {"type": "object",
                    "required": ["id", "created_at", "last_used_at", "user_agent",
                                 "address", "current"],
                    "properties": {
                        "id": {"type": "string"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "last_used_at": {"type": ["string", "null"],
                                         "format": "date-time",
                                         "description": "The last refresh"},
                        "user_agent": {"type": ["string", "null"],
                                       "description": "The login's"},
                        "address": {"type": ["string", "null"],
                                    "description": "The login's client address"},
                        "current": {"type": "boolean",
                                    "description": "The session of this token"}}},
        "Identity": {"type": "object", "required": ["id", "username", "email",
                                                    "email_verified"],
                     "properties": {"id": {"type": "integer"},
                                    "username": {"type": "string"},
                                    "email": {"type": ["string", "null"]},
                                    "email_verified": {"type": "boolean"}}},
    },
}
