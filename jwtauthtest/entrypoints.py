"""Who is loading the app — a server, the ``flask`` command, ``useradd.py`` — and how each
says that the configuration can't be used: one line, never a traceback; also the line for a
file or folder this process's user may not use."""

import os
import pwd
import sys
from typing import NoReturn

import click
from flask.cli import ScriptInfo

from jwtauthtest.settings import ConfigurationError

# Set in click's context.meta by a command-line tool that builds the app itself.
COMMAND_LINE_TOOL = "jwtauthtest.command_line_tool"
# Read outside Flask's config: the instance folder has to be known before the config is.
INSTANCE_PATH_VARIABLE = "JWTAUTHTEST_INSTANCE_PATH"


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


def not_permitted(error: PermissionError, instance_path: str) -> ConfigurationError:
    """The line for a file or folder of the app's that the OS refused (``error.filename``):
    what the app needed of it — enter, create, read, write — and what to do."""
    path = os.path.abspath(error.filename)
    folder = os.path.dirname(path)
    if not os.access(folder, os.X_OK):
        return cannot(f"open {path}", f"enter its folder {folder}", folder, instance_path, "x")
    if os.path.exists(path):
        need, permission = ("write", "w") if os.access(path, os.R_OK) else ("read", "r")
        return cannot(f"{need} {path}", f"{need} it", path, instance_path, permission)
    if instance_path == path or instance_path.startswith(path + os.sep):  # os.makedirs
        return cannot(f"create the instance folder {instance_path}", f"write to {folder}",
                      instance_path, instance_path,
                      fix=f"create it for that user (mkdir -p {instance_path} && chown "
                          f"{user_name()} {instance_path})")
    return cannot(f"create {path}", f"write to the folder {folder}", folder, instance_path)


def cannot(doing: str, why: str, owned: str, instance_path: str, permission: str = "w",
           fix: str | None = None, instead: str | None = None) -> ConfigurationError:
    """``can't DOING: user U may not WHY; FIX or INSTEAD``. FIX, unless given, lets the user
    have PERMISSION (r, w, x) on OWNED: with chmod when the user owns it, else with chown.
    INSTEAD, unless given, is another instance folder for a path in this one."""
    user = user_name()
    if fix is None:
        thing = "the folder" if os.path.isdir(owned) else "it"
        try:
            own = os.stat(owned).st_uid == os.geteuid()
        except OSError:
            own = False
        fix = (f"let that user {PERMISSIONS[permission]} {thing} (chmod u+{permission} {owned})"
               if own else f"give {thing} to that user (chown {user} {owned})")
    if instead is None and (owned == instance_path
                            or owned.startswith(instance_path.rstrip(os.sep) + os.sep)):
        instead = f"set {INSTANCE_PATH_VARIABLE} to a folder that user may write"
    return ConfigurationError(f"can't {doing}: user {user} may not {why}; {fix}"
                              + (f" or {instead}" if instead else ""))


PERMISSIONS = {"r": "read", "w": "write", "x": "enter"}


def user_name() -> str:
    """This process's user, as ``chown`` takes it."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a user id without a name (a container's)
        return str(os.geteuid())
