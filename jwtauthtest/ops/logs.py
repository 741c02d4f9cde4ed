"""The app's log: events with fields (logins, logouts, refresh reuse, user changes, the
database and the throttle going away), as text or, with LOG_FORMAT=json, one JSON object a
line. No field can forge another record: in text, every value is quoted and escaped."""

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from flask import Flask

from jwtauthtest.settings import ConfigurationError

LOGGER_NAME = "jwtauthtest"
FORMATS = ("text", "json")
# One handler for the process, whichever app (tests build many) configured it last.
handler = logging.StreamHandler(sys.stderr)


def init_logging(app: Flask) -> None:
    """Every line the app writes goes to stderr in LOG_FORMAT; INFO and up."""
    log_format = app.config["LOG_FORMAT"]
    if log_format not in FORMATS:
        raise ConfigurationError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    if handler not in logger.handlers:
        logger.addHandler(handler)  # before app.logger is made, so Flask adds none of its own
    logger.setLevel(logging.INFO)


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """One event: its name and fields, which the formatters lay out."""
    logger.log(level, render(event, fields), extra={"event": event, "fields": fields})


def render(event: str, fields: dict[str, Any]) -> str:
    """``event key="value" ...``: values JSON-quoted, non-ASCII escaped, one line."""
    return " ".join([event, *(f"{key}={json.dumps(value)}" for key, value in fields.items())])


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("[%(asctime)s] %(levelname)s %(name)s: %(message)s")


class JsonFormatter(logging.Formatter):
    """ts, level, logger, event and the event's fields; a plain message is the event
    "message" with a "message" field."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname, "logger": record.name,
            "event": getattr(record, "event", "message")}
        if hasattr(record, "fields"):
            line.update(record.fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)
