"""The e-mail routes in the OpenAPI document (account/email.py)."""

from typing import Any

from jwtauthtest.apidocs.parts import NO_NUL, error, ok, protected, request_body

EMAIL = {"type": "string", "maxLength": 320, "format": "email",
         "description": "An e-mail address; checked for its form, never looked up in DNS"}
TOKEN = {"type": "string", "maxLength": 256, "pattern": NO_NUL,
         "description": "The token after `#reset=` or `#confirm=` in the link mailed"}
PASSWORD = {"type": "string", "maxLength": 1024, "pattern": NO_NUL}
MAIL_OFF = error("E-mail is not set up (MAIL_SERVER or PUBLIC_URL missing), or the database "
                 "is unreachable")
TOO_MANY = error("Too many e-mail requests from this client address, or messages to this "
                 "address", {"Retry-After": {"description": "Seconds to wait",
                                             "schema": {"type": "integer"}}})
LINK_REFUSED = error("The body is not right, or the link was used, has expired, was "
                     "replaced by a newer one, or the password changed since")


def status(text: str, **more: Any) -> dict[str, Any]:
    return {"type": "object", "required": ["status", *more],
            "properties": {"status": {"const": text}, **more}}


def body(**properties: Any) -> dict[str, Any]:
    return request_body({"type": "object", "additionalProperties": False,
                         "required": list(properties), "properties": properties})


def open_operation(summary: str, properties: dict[str, Any], success: dict[str, Any],
                   code: str = "200", **refusals: dict[str, Any]) -> dict[str, Any]:
    return {"summary": summary, "requestBody": body(**properties),
            "responses": {code: success, "400": error("The body is not right"),
                          "429": TOO_MANY, "503": MAIL_OFF, **refusals}}


def email_operations() -> dict[str, Any]:
    return {
        "/auth/email": {"put": {**protected(
            "Ask to make an address yours (a fresh token): a link to confirm it goes to it; the "
            "answer is the same whoever has the address",
            ok("Asked", status("confirmation sent")),
            {"400": error("The body is not right"), "429": TOO_MANY, "503": MAIL_OFF},
            status="202"), "requestBody": body(email=EMAIL)}},
        "/auth/email/confirm": {"post": open_operation(
            "Confirm an address with its link's token: it becomes the account's",
            {"token": TOKEN}, ok("Confirmed", status("address confirmed", email=EMAIL)),
            **{"400": LINK_REFUSED,
               "409": error("Another account has confirmed this address since")})},
        "/auth/password-reset": {"post": open_operation(
            "Ask for a password-reset link: the same answer, after the same work, for every "
            "address; only a confirmed address of an active user gets a link",
            {"email": EMAIL},
            ok("Asked", status("if the address is known, a link is on its way")), "202")},
        "/auth/password-reset/confirm": {"post": open_operation(
            "Set a new password with a reset link's token: every session ends; no token is "
            "handed out (log in next)", {"token": TOKEN, "new_password": PASSWORD},
            ok("Reset", status("password reset")),
            **{"400": error("The body is not right, the link is not valid, or the password "
                            "breaks the policy")})},
        "/auth/register": {"post": open_operation(
            "Sign up (with REGISTRATION_ENABLED): an account that logs in once its address is "
            "confirmed; the same answer whether or not the address has an account",
            {"username": {"type": "string", "maxLength": 256, "pattern": NO_NUL},
             "password": PASSWORD, "email": EMAIL},
            ok("Signed up", status("confirmation sent")), "202",
            **{"404": error("Sign-up is off"), "409": error("The username is taken")})},
    }
