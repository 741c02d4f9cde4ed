"""The second factor's routes in the OpenAPI document (account/second_factor.py)."""

from typing import Any

from jwtauthtest.apidocs.parts import (
    NO_NUL,
    THROTTLED,
    TRANSPORT,
    UNAVAILABLE,
    error,
    ok,
    protected,
    request_body,
    tokens_issued,
)
from jwtauthtest.web.refusals import CHALLENGE_HEADER

SIX_DIGITS = {"type": "string", "pattern": "^[0-9]{6}$",
              "description": "A code the authenticator app shows now"}
CHALLENGE = {"type": "string", "maxLength": 256, "pattern": NO_NUL}
RECOVERY_CODE = {"type": "string", "maxLength": 256, "pattern": NO_NUL,
                 "description": "One of the recovery codes, such as `k7q2m-x9fta`"}
CODES = {"type": "array", "items": {"type": "string"}, "minItems": 10, "maxItems": 10}
CODE_BODY = {"oneOf": [
    {"type": "object", "additionalProperties": False, "required": ["code"],
     "properties": {"code": SIX_DIGITS}},
    {"type": "object", "additionalProperties": False, "required": ["recovery_code"],
     "properties": {"recovery_code": RECOVERY_CODE}}]}
REMOVED_PASSKEYS = {"type": "array", "description": "The passkeys added with the password alone, "
                    "now removed", "items": {"type": "object", "required": ["id", "name"],
                                             "properties": {"id": {"type": "string"},
                                                            "name": {"type": "string"}}}}
WRONG_CODE = error("A refused token or one that is not fresh, or the code is not right")
IS_OFF = error("No second factor is on")
SECOND_FACTOR_REQUIRED = error(
    "Invalid credentials; or, for a user with a second factor, the right password: `error` "
    f"is `Second factor required`, and the {CHALLENGE_HEADER} header holds the challenge to "
    "send to POST /auth/second-factor",
    {CHALLENGE_HEADER: {"description": "With `Second factor required`: the login's "
                                       "challenge, single-use, for five minutes at most",
                        "schema": {"type": "string"}}})


def second_factor_operations() -> dict[str, Any]:
    login_body = {"oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["challenge", "code"],
         "properties": {"challenge": CHALLENGE, "code": SIX_DIGITS}},
        {"type": "object", "additionalProperties": False,
         "required": ["challenge", "recovery_code"],
         "properties": {"challenge": CHALLENGE, "recovery_code": RECOVERY_CODE}}]}
    status = {"type": "object", "required": ["enabled", "pending", "recovery_codes_left"],
              "properties": {"enabled": {"type": "boolean"}, "pending": {
                  "type": "boolean", "description": "An enrolment waits for its first code"},
                  "recovery_codes_left": {"type": "integer", "minimum": 0}}}
    enrolment = {"type": "object", "required": ["secret", "otpauth_uri", "qr_svg"],
                 "properties": {"secret": {"type": "string", "description": "Base32"},
                                "otpauth_uri": {"type": "string"},
                                "qr_svg": {"type": "string",
                                           "description": "The URI as a QR code: an <svg>"}}}
    return {
        "/auth/second-factor": {
            "post": {
                "summary": "Log in, second step: the password's challenge and a code (or a "
                           "recovery code) for tokens; the access token is fresh",
                "parameters": [TRANSPORT], "requestBody": request_body(login_body),
                "responses": {
                    "200": tokens_issued("Logged in; a new session. With a recovery code the "
                                         "body also has `recovery_codes_left`"),
                    "400": error("The body is not a JSON object with one of these shapes"),
                    "401": error("The challenge is unknown, expired or spent, or the code "
                                 "is not right"),
                    "429": THROTTLED, "503": UNAVAILABLE}},
            "get": protected("Whether your second factor is on (any access token)",
                         ok("Its state", status), {}),
            "delete": {**protected("Turn your second factor off (a fresh token and a code): every "
                               "session of yours ends, and every passkey",
                               ok("Off", {"type": "object",
                                          "required": ["status", "ended", "passkeys_removed"],
                                          "properties": {"status": {"const":
                                                                    "second factor off"},
                                                         "ended": {"type": "integer"},
                                                         "passkeys_removed": REMOVED_PASSKEYS}}),
                               {"401": WRONG_CODE, "409": IS_OFF, "429": THROTTLED}),
                       "requestBody": request_body(CODE_BODY)}},
        "/auth/second-factor/enrolment": {"post": protected(
            "Start turning a second factor on (a fresh token): a new secret, waiting for its "
            "first code", ok("The secret", enrolment),
            {"409": error("A second factor is already on")}, status="201")},
        "/auth/second-factor/enrolment/confirm": {"post": {**protected(
            "A first code turns the second factor on (a fresh token): the recovery codes, "
            "shown once; every other session ends, and so do passkeys added with the password "
            "alone", ok("On", {"type": "object",
                               "required": ["enabled", "recovery_codes", "passkeys_removed"],
                               "properties": {"enabled": {"const": True},
                                              "recovery_codes": CODES,
                                              "passkeys_removed": REMOVED_PASSKEYS}}),
            {"401": WRONG_CODE,
             "409": error("A second factor is already on, or no enrolment was started")}),
            "requestBody": request_body({"type": "object", "additionalProperties": False,
                                 "required": ["code"], "properties": {"code": SIX_DIGITS}})}},
        "/auth/second-factor/recovery-codes": {"post": {**protected(
            "Ten new recovery codes (a fresh token and a code); the old ones end",
            ok("The codes", {"type": "object", "required": ["recovery_codes"],
                             "properties": {"recovery_codes": CODES}}),
            {"401": WRONG_CODE, "409": IS_OFF, "429": THROTTLED}),
            "requestBody": request_body(CODE_BODY)}},
    }
