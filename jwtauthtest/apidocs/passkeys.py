"""Passkeys' routes in the OpenAPI document (account/passkeys.py)."""

from typing import Any

from jwtauthtest.apidocs.parts import (
    THROTTLED,
    TRANSPORT,
    UNAVAILABLE,
    error,
    ok,
    protected,
    request_body,
    tokens_issued,
)

OFF = error("Passkeys are off here (WEBAUTHN_RP_ID is not set), or no such passkey of yours")
ANSWER = {"type": "object", "description": "What navigator.credentials.create() or get() "
                                           "resolved to, as JSON (PublicKeyCredential.toJSON())"}
OPTIONS = {"type": "object", "description": "WebAuthn options for the browser, as JSON "
                                            "(PublicKeyCredential.parse*OptionsFromJSON)"}
PASSKEY = {"type": "object",
           "required": ["id", "name", "created_at", "last_used_at", "transports",
                        "with_second_factor", "address", "user_agent"],
           "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                          "created_at": {"type": "string", "format": "date-time"},
                          "last_used_at": {"type": ["string", "null"], "format": "date-time"},
                          "transports": {"type": "array", "items": {"type": "string"}},
                          "with_second_factor": {
                              "type": "boolean",
                              "description": "Whether the account had a second factor when "
                                             "it was added; one added with the password alone "
                                             "is removed by a password change or turning the "
                                             "second factor on"},
                          "address": {"type": ["string", "null"],
                                      "description": "The address it was added from"},
                          "user_agent": {"type": ["string", "null"],
                                         "description": "The browser it was added with"}}}
NAME = {"type": "string", "minLength": 1, "maxLength": 64}
PATH_ID = [{"name": "passkey_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def body(properties: dict[str, Any]) -> dict[str, Any]:
    """A JSON object of exactly these properties."""
    return request_body({"type": "object", "additionalProperties": False,
                         "required": list(properties), "properties": properties})


def with_token(summary: str, success: dict[str, Any], more: dict[str, Any] | None = None,
               status: str = "200") -> dict[str, Any]:
    """protected(), and 404 while passkeys are off."""
    return protected(summary, success, {"404": OFF, **(more or {})}, status)


def passkey_operations() -> dict[str, Any]:
    refused = error("The answer is not accepted: its challenge unknown, expired or spent, "
                    "another origin or RP id, not this site's passkey, another account's, or a "
                    "sign count that went backwards")
    return {
        "/auth/passkey/options": {"post": {
            "summary": "Sign in with a passkey, first step: options with a new challenge",
            "responses": {"200": ok("The options", OPTIONS), "404": OFF, "429": THROTTLED,
                          "503": error("The database is unavailable, or "
                                       "WEBAUTHN_MAX_SIGN_IN_CHALLENGES sign-ins are under "
                                       "way")}}},
        "/auth/passkey": {"post": {
            "summary": "Sign in with a passkey: its answer to the options, for tokens (the "
                       "access token fresh); no username, no second factor asked",
            "parameters": [TRANSPORT], "requestBody": body({"credential": ANSWER}),
            "responses": {"200": tokens_issued("Signed in; a new session"),
                          "400": error("The body is not a JSON object with exactly the key "
                                       "credential, or an unknown or disabled transport"),
                          "401": refused, "404": OFF, "429": THROTTLED,
                          "503": UNAVAILABLE}}},
        "/auth/passkeys/options": {"post": with_token(
            "Register a passkey, first step (a fresh token): options with a new challenge",
            ok("The options", OPTIONS))},
        "/auth/passkeys": {
            "get": with_token("Your passkeys", ok("The passkeys", {
                "type": "object", "required": ["passkeys"],
                "properties": {"passkeys": {"type": "array", "items": PASSKEY}}})),
            "post": {**with_token(
                "Register a passkey (a fresh token): the browser's answer to the options, and "
                "a name", ok("Registered", PASSKEY),
                {"400": error("The body is not as described, or the answer is not accepted")},
                status="201"),
                "requestBody": body({"credential": ANSWER, "name": NAME})}},
        "/auth/passkeys/{passkey_id}": {
            "patch": {**with_token("Rename one of your passkeys (a fresh token)",
                                   ok("Renamed", PASSKEY),
                                   {"400": error("The body is not {\"name\": ...}")}),
                      "parameters": PATH_ID, "requestBody": body({"name": NAME})},
            "delete": {**with_token("Delete one of your passkeys (a fresh token): the sessions "
                                    "it signed in end, this one too if it did",
                                    ok("Deleted", {"type": "object", "required": [
                                        "status", "ended", "this_session_ended"],
                                        "properties": {
                                            "status": {"const": "passkey removed"},
                                            "ended": {"type": "integer", "minimum": 0,
                                                      "description": "Sessions ended"},
                                            "this_session_ended": {"type": "boolean"}}})),
                       "parameters": PATH_ID}},
    }
