"""The login audit log: one line per attempt, never a password or a token."""

import logging

from flask import Flask, request

logger = logging.getLogger("jwtauthtest.audit")
MAX_LOGGED_USERNAME = 64


def init_audit(app: Flask) -> None:
    # app.logger gives the "jwtauthtest" logger Flask's stderr handler; the audit
    # lines are INFO, which the default WARNING threshold would drop.
    app.logger.getChild("audit").setLevel(logging.INFO)


def log_login(succeeded: bool, username: object, reason: str) -> None:
    """Log an attempt; the username is shown as typed, truncated and quoted (no log injection)."""
    shown = username[:MAX_LOGGED_USERNAME] if isinstance(username, str) else None
    logger.log(logging.INFO if succeeded else logging.WARNING,
               "login %s: username=%r address=%s reason=%s",
               "succeeded" if succeeded else "failed", shown, request.remote_addr, reason)
