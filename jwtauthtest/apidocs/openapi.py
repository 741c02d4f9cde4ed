"""The OpenAPI 3.1 description of every endpoint, served at GET /openapi.json."""

from collections.abc import Mapping
from typing import Any

from jwtauthtest.apidocs.email import email_operations
from jwtauthtest.apidocs.introspection import introspection_operations
from jwtauthtest.apidocs.parts import (
    COMPONENTS,
    CSRF_REFUSED,
    JSON,
    NO_NUL,
    SECURED_OR_COOKIE,
    THROTTLED,
    TRANSPORT,
    UNAVAILABLE,
    error,
    ok,
    protected,
    ref,
    tokens_issued,
)
from jwtauthtest.apidocs.passkeys import passkey_operations
from jwtauthtest.apidocs.second_factor import SECOND_FACTOR_REQUIRED, second_factor_operations
from jwtauthtest.apidocs.verify import verify_operation
from jwtauthtest.passwords.hashing import MAX_PASSWORD_LENGTH
from jwtauthtest.passwords.usernames import MAX_USERNAME_LENGTH


def login_operation(config: Mapping[str, Any]) -> dict[str, Any]:
    credentials = {
        "type": "object", "additionalProperties": False,
        "required": [config["JWT_AUTH_USERNAME_KEY"], config["JWT_AUTH_PASSWORD_KEY"]],
        "properties": {
            config["JWT_AUTH_USERNAME_KEY"]: {"type": "string", "minLength": 1,
                                              "maxLength": MAX_USERNAME_LENGTH,
                                              "pattern": NO_NUL},
            config["JWT_AUTH_PASSWORD_KEY"]: {"type": "string", "minLength": 1,
                                              "maxLength": MAX_PASSWORD_LENGTH,
                                              "pattern": NO_NUL}}}
    return {
        "summary": "Log in: trade a username and password for tokens",
        "parameters": [TRANSPORT],
        "requestBody": {"required": True, "content": {JSON: {"schema": credentials}}},
        "responses": {
            "200": tokens_issued("Logged in; a new session"),
            "400": error("The body is not a JSON object, or a value is not text or too long, "
                         "or an unknown or disabled transport"),
            "401": SECOND_FACTOR_REQUIRED,
            "403": error("A cookie login from an origin not allowed"),
            "413": error(f"The body is larger than {config['MAX_CONTENT_LENGTH']} bytes"),
            "429": THROTTLED,
            "503": UNAVAILABLE,
        }}


def password_change_operation(config: Mapping[str, Any]) -> dict[str, Any]:
    password = {"type": "string", "maxLength": MAX_PASSWORD_LENGTH, "pattern": NO_NUL}
    new_password = {**password, "minLength": config["PASSWORD_MIN_LENGTH"],
                    "description": "Not a common password, nor containing the username"}
    code = {"type": "string", "maxLength": 256, "pattern": NO_NUL}
    passwords = {"current_password": password, "new_password": new_password}
    body = {"oneOf": [
        {"type": "object", "additionalProperties": False, "required": list(passwords),
         "properties": passwords},
        *({"type": "object", "additionalProperties": False,
           "required": [*passwords, key], "properties": {**passwords, key: code},
           "description": f"With {description}: for a user with a second factor whose token "
                          "is not fresh; the new tokens are fresh"}
          for key, description in (("code", "a code from the authenticator app"),
                                   ("recovery_code", "a recovery code")))]}
    return {**protected(
        "Change your password: every session of yours ends, passkeys added with the password "
        "alone are removed, and a new session starts",
        tokens_issued("Changed; the tokens of a new session"),
        {"400": error("The body is not a JSON object of one of these shapes, the new "
                      "password breaks a rule of the password policy (named), or an unknown "
                      "or disabled transport"),
         "401": error("A refused token, or one that is not fresh from a user with a second "
                      "factor who sent no code; or the current password or the code is not "
                      "right"),
         "409": error("A code from a user without a second factor"),
         "413": error(f"The body is larger than {config['MAX_CONTENT_LENGTH']} bytes"),
         "403": error("A cookie transport from an origin not allowed"),
         "429": THROTTLED}),
        "parameters": [TRANSPORT],
        "requestBody": {"required": True, "content": {JSON: {"schema": body}}}}


def sessions_operations() -> dict[str, Any]:
    return {
        "/auth/sessions": {
            "get": protected("Your live sessions, oldest first",
                             ok("The sessions", {"type": "object", "required": ["sessions"],
                                                 "properties": {"sessions": {
                                                     "type": "array",
                                                     "items": ref("Session")}}})),
            "delete": protected(
                "End all your sessions but this token's (a fresh token is required)",
                ok("Ended", {"type": "object", "required": ["status", "ended"],
                             "properties": {"status": {"const": "other sessions ended"},
                                            "ended": {"type": "integer", "minimum": 0}}}),
                {"401": error("A refused token, or one that is not fresh")})},
        "/auth/sessions/{session_id}": {"delete": {
            **protected("End one of your sessions: all its tokens are revoked",
                        ok("Ended", {"type": "object", "required": ["status"],
                                     "properties": {"status": {"const": "session ended"}}}),
                        {"404": error("You have no session with this id")}),
            "parameters": [{"name": "session_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}]}},
    }


def openapi_document(config: Mapping[str, Any]) -> dict[str, Any]:
    """The document for this app's configuration (login rule, body keys, size limit)."""
    paths = {
        "/auth/refresh": {"post": {**protected(
            "Spend a refresh token (in the Authorization header, or a browser's cookie) for a "
            "new pair", tokens_issued("The new pair"), {"403": CSRF_REFUSED}),
            "security": SECURED_OR_COOKIE}},
        "/auth/logout": {"post": {**protected(
            "End the session of the access token (or of a browser's refresh-token cookie, "
            "which is cleared): all its tokens are revoked",
            ok("Logged out", {"type": "object", "required": ["status"],
                              "properties": {"status": {"const": "logged out"}}}),
            {"400": error("A Flask-JWT token: it has no session to end"),
             "403": CSRF_REFUSED}),
            "security": SECURED_OR_COOKIE}},
        "/auth/password": {"post": password_change_operation(config)},
        **sessions_operations(),
        **second_factor_operations(),
        **passkey_operations(),
        **email_operations(),
        **introspection_operations(config),
    }
    if config["JWT_AUTH_URL_RULE"]:
        paths[config["JWT_AUTH_URL_RULE"]] = {"post": login_operation(config)}
    if config.get("METRICS_ENABLED"):
        paths["/metrics"] = {"get": {
            "summary": "Prometheus metrics, added up across the worker processes",
            "responses": {"200": ok("The metrics", {"type": "string"},
                                    "text/plain; version=0.0.4; charset=utf-8")}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "jwtauthtest", "version": "1.0.0",
                 "description": "Flask-JWT's tutorial API: trade a username and password for "
                                "tokens, call protected views with `Authorization: JWT <token>`."},
        "paths": {
            **paths,
            "/hello": {"get": protected("The tutorial's protected view",
                                        ok("Hello world!", {"const": "Hello world!"},
                                           "text/html"))},
            "/me": {"get": protected("The token's user", ok("The user", ref("Identity")))},
            "/auth/verify": {"get": verify_operation()},
            "/.well-known/jwks.json": {"get": {
                "summary": "The public keys that verify our tokens (none with an HMAC "
                           "algorithm)",
                "responses": {"200": ok("An RFC 7517 key set", {
                    "type": "object", "required": ["keys"],
                    "properties": {"keys": {"type": "array", "items": {"type": "object"}}}})}}},
            "/healthz": {"get": {
                "summary": "Whether the app can reach and write its database",
                "responses": {"200": ok("Healthy", {
                    "type": "object", "required": ["status"],
                    "properties": {"status": {"const": "ok"}}}), "503": UNAVAILABLE}}},
            "/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": ok("The OpenAPI document", {"type": "object"})}}},
            "/docs": {"get": {"summary": "This document, rendered by Swagger UI",
                              "responses": {"200": ok("A page", {"type": "string"},
                                                      "text/html")}}},
            "/account": {"get": {"summary": "A page to sign in, see and end your sessions, "
                                            "change your password and sign out",
                                 "responses": {"200": ok("A page", {"type": "string"},
                                                         "text/html")}}},
        },
        "components": COMPONENTS,
    }
