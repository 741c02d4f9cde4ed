"""``flask-jwt-upgrade [--write] PATH``: the findings, one a line, or with ``--write`` the
fixes made, as a unified diff, and what is left for by hand.

Exit status: 0 when it found nothing, 1 when it found something (with ``--write``: and
made the fixes it could), 2 when it couldn't run (a path that doesn't exist or can't be
read or written, or wrong arguments), with one line on standard error.
"""

import argparse
import difflib
import sys
from dataclasses import replace
from pathlib import Path

from .files import AppFile, CheckerError, app_files, write
from .python import check_python
from .report import LINE, Finding, Text, apply
from .requirements import check_pipfile, check_requirements_txt
from .rules import RULES

NOTHING_FOUND, FOUND, CANNOT_RUN = 0, 1, 2


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(CANNOT_RUN, f"{self.prog}: {message}\n")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog="flask-jwt-upgrade",
        description="What an app written against Flask-JWT 0.3.2 must change to run on "
                    "Flask 3, PyJWT 2 and Flask-JWT-Revived: its .py files, "
                    "requirements*.txt and Pipfile, one finding a line.",
        epilog="Exit status: 0 nothing found, 1 found something (with --write: and made the "
               "fixes it could), 2 couldn't run.")
    parser.add_argument("--write", action="store_true",
                        help="make the mechanical fixes, and print them as a unified diff")
    parser.add_argument("path", metavar="PATH", type=Path,
                        help="the app's folder (or one of its files)")
    return parser.parse_args(argv)


def check(file: AppFile) -> tuple[list[Finding], str]:
    """The file's findings, and its text with their fixes made."""
    text = Text(file.text)
    if file.kind == "python":
        return check_python(text, RULES)
    findings = (check_pipfile if file.kind == "pipfile" else check_requirements_txt)(text)
    return findings, apply(text.text, [edit for finding in findings for edit in finding.edits])


def count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def report(checked: list[tuple[AppFile, list[Finding], str]]) -> None:
    found = [(file, finding) for file, findings, _ in checked for finding in findings]
    for file, finding in found:
        print(finding.describe(file.shown))
    if not found:
        print(f"no findings in {count(len(checked), 'file')}")
        return
    automatic = sum(finding.automatic for _, finding in found)
    files = len({file.shown for file, _ in found})
    print(f"{count(len(found), 'finding')} in {files} of {count(len(checked), 'file')}: "
          f"{automatic} for --write, {len(found) - automatic} by hand")


def diff(file: AppFile, fixed: str) -> list[str]:
    before, after = ([line.rstrip("\r\n") for line in LINE.findall(text)]
                     for text in (file.text, fixed))
    return list(difflib.unified_diff(before, after, f"a/{file.shown}", f"b/{file.shown}",
                                     lineterm=""))


def write_fixes(checked: list[tuple[AppFile, list[Finding], str]]) -> None:
    """Prints the fixes as a diff and writes them; then what is left, found again in the
    files as written."""
    changed = [(file, fixed) for file, _, fixed in checked if fixed != file.text]
    for file, fixed in changed:
        print("\n".join(diff(file, fixed)))
    for file, fixed in changed:
        write(file, fixed)
    written = dict(changed)
    left = [(file, finding) for file, _, _ in checked
            for finding in check(replace(file, text=written.get(file, file.text)))[0]]
    for file, finding in left:
        print(finding.describe(file.shown))
    print(f"wrote {count(len(changed), 'file')}; {count(len(left), 'finding')} left "
          "to fix by hand")


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    try:
        checked = [(file, *check(file)) for file in app_files(options.path)]
        (write_fixes if options.write else report)(checked)
    except CheckerError as error:
        print(f"flask-jwt-upgrade: {error}", file=sys.stderr)
        return CANNOT_RUN
    return FOUND if any(findings for _, findings, _ in checked) else NOTHING_FOUND
