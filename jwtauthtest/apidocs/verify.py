"""Forward authentication's operation in the OpenAPI document (services/verify.py)."""

from typing import Any

from jwtauthtest.apidocs.parts import NO_STORE_HEADERS, SECURED, UNAVAILABLE, error

NOT_STORED = {**NO_STORE_HEADERS, "Cache-Control": {
    "description": "`no-store`: no cache, a proxy's least of all, may keep the decision",
    "schema": {"const": "no-store"}}}


def verify_operation() -> dict[str, Any]:
    return {
        "summary": "For a reverse proxy: is the request's token live, and whose is it",
        "description": "The Authorization header as the client sent it to the proxy: "
                       "`JWT <access token>`, or (here only) `Bearer <access token>`. "
                       "The proxy lets the request through on 200, setting the two headers "
                       "on the upstream request, and refuses it otherwise.",
        "security": SECURED,
        "responses": {
            "200": {"description": "A live access token; no body", "headers": {
                "X-Auth-User": {"required": True, "schema": {"type": "string"},
                                "description": "The username, percent-encoded UTF-8 "
                                               "(RFC 3986)"},
                "X-Auth-User-Id": {"required": True,
                                   "schema": {"type": "integer", "minimum": 1},
                                   "description": "The user's id: what to key on"},
                **NOT_STORED}},
            "401": error("No token, a malformed or refused token, a revoked token, a refresh "
                         "token, or a deleted or disabled user", {
                             "WWW-Authenticate": {
                                 "required": True, "schema": {"type": "string"},
                                 "description": "The schemes taken here, JWT and Bearer"},
                             **NOT_STORED}),
            "503": UNAVAILABLE,
        }}
