"""The audit log: one event per login attempt and per change to a user or a session,
never a password or a token."""

import logging

from flask import request

from jwtauthtest.ops import metrics
from jwtauthtest.ops.logs import log_event
from jwtauthtest.web.state import request_state

logger = logging.getLogger("jwtauthtest.audit")
MAX_LOGGED_USERNAME = 64
SUCCESS, FAILURE, THROTTLED = "success", "failure", "throttled"
CHALLENGED = "challenged"  # a right password, waiting for its second factor
# Events an operator should look at: a theft, a spent refresh token let through once (a lost
# answer, or a second holder of the token), a wrong current password, a copied passkey, a
# day's worth of wrong second-factor codes, an introspection's client credentials refused.
WARNINGS = ("refresh_reuse", "refresh_grace", "password_change_refused",
            "passkey_sign_count_backwards", "second_factor_locked", "client_refused")


def log_login(outcome: str, username: object, reason: str) -> None:
    """A login attempt; the username as typed, cut to 64 characters."""
    shown = username[:MAX_LOGGED_USERNAME] if isinstance(username, str) else None
    request_state().login_logged = True
    metrics.count("logins", outcome=outcome)
    level = logging.INFO if outcome in (SUCCESS, CHALLENGED) else logging.WARNING
    log_event(logger, level, "login",
              outcome=outcome, username=shown, address=request.remote_addr, reason=reason)


def logged_this_login() -> bool:
    return request_state().login_logged


def log_change(event: str, **fields: object) -> None:
    """A change to users or sessions: logout, refresh_reuse, password_change, ..."""
    level = logging.WARNING if event in WARNINGS else logging.INFO
    log_event(logger, level, event, **fields)
