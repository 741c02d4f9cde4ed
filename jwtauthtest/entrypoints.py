"""Who is loading the app — a server, the ``flask`` command, ``useradd.py`` — and how each
says that the configuration can't be used: one line, never a traceback."""

import os
import sys
from typing import NoReturn

import click
from flask.cli import ScriptInfo

from jwtauthtest.secret import ConfigurationError

# Set in click's context.meta by a command-line tool that builds the app itself.
COMMAND_LINE_TOOL = "jwtauthtest.command_line_tool"


def starting_a_server() -> bool:
    """A server loading the app (granian, flask run), rather than a command-line tool
    (useradd.py, flask users, flask db), which reports database problems itself."""
    command = click.get_current_context(silent=True)
    if command is None:
        return True
    if command.meta.get(COMMAND_LINE_TOOL):  # useradd.py
        return False
    if command.find_object(ScriptInfo) is not None:  # the flask command
        return command.command.name == "run"
    return True  # another program's command line, such as granian's


def refuse_to_start(error: ConfigurationError) -> NoReturn:
    """Stop with the error's one line: as a click error for our commands (``Error: ...``,
    status 1), on stderr with status 1 for a server started from its own command line
    (granian), and as the exception itself for a caller without one (a test, a script)."""
    command = click.get_current_context(silent=True)
    if command is None:
        raise error
    if command.meta.get(COMMAND_LINE_TOOL) or command.find_object(ScriptInfo) is not None:
        raise click.ClickException(str(error)) from None
    # One write, so that the lines of workers failing together don't interleave.
    os.write(sys.stderr.fileno(), f"Error: {error}\n".encode())
    raise SystemExit(1)
