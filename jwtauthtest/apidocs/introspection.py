"""Token introspection in the OpenAPI document (services/introspection.py)."""

from typing import Any

from jwtauthtest.apidocs.parts import NO_STORE_HEADERS, UNAVAILABLE, error, ok

FORM = "application/x-www-form-urlencoded"
NO_CACHE = {"Cache-Control": NO_STORE_HEADERS["Cache-Control"]}
ACTIVE = {"type": "object", "additionalProperties": False,
          "required": ["active", "sub", "username", "token_type", "exp", "iat"],
          "properties": {
              "active": {"const": True},
              "sub": {"type": "string", "description": "The user's id"},
              "username": {"type": "string"},
              "token_type": {"enum": ["access_token", "refresh_token"]},
              "exp": {"type": "integer"}, "iat": {"type": "integer"},
              "jti": {"type": "string", "description": "Not in a Flask-JWT token's answer"},
              "iss": {"type": "string", "description": "With JWT_ISSUER"},
              "aud": {"type": ["string", "array"], "items": {"type": "string"},
                      "description": "With JWT_AUDIENCE"}}}
INACTIVE = {"type": "object", "additionalProperties": False, "required": ["active"],
            "properties": {"active": {"const": False}}}
REQUEST = {"type": "object", "required": ["token"], "properties": {
    "token": {"type": "string", "description": "An access token or a refresh token"},
    "token_type_hint": {"type": "string", "description": "`access_token` or `refresh_token`: "
                        "which kind to check first; any other is ignored"}}}


def refused(description: str, **headers: str) -> dict[str, Any]:
    return error(description, {**NO_CACHE, **{name: {"description": text, "schema": {
        "type": "string"}} for name, text in headers.items()}})


def introspection_operations(config: Any) -> dict[str, Any]:
    return {"/auth/introspect": {"post": {
        "summary": "Whether a token is live, and whose it is (RFC 7662), for a client made "
                   "with `flask clients add`; asking changes nothing",
        "security": [{"Client": []}],
        "requestBody": {"required": True, "content": {FORM: {"schema": REQUEST}}},
        "responses": {
            "200": {**ok("`active` true with the token's user, kind and times; for any other "
                         "token (expired, revoked, spent, not ours) `active` false alone",
                         {"oneOf": [ACTIVE, INACTIVE]}), "headers": NO_CACHE},
            "400": refused("`invalid_request`: no token parameter, or more than one"),
            "401": refused("`invalid_client`: no client credentials, or not a client's",
                           **{"WWW-Authenticate": "`Basic realm=\"introspection\"`"}),
            "413": refused(f"The body is larger than {config['MAX_CONTENT_LENGTH']} bytes"),
            "429": refused("Too many introspections by this client, or failed client "
                           "authentications from this address",
                           **{"Retry-After": "Seconds to wait"}),
            "503": UNAVAILABLE}}}}
