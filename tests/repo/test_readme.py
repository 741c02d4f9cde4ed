"""The README's commands name only what the project's environment has (issue 22, item 7: it
mentioned Procfile runners that nothing installs), and so do the pages of docs/ it leads to
(issue 24); its quick start is the two lines that install, serve and test."""

import re
import shutil
import sys
from pathlib import Path

from processes import REPO_ROOT

RUN = re.compile(r"pipenv\s+run\s+([\w.-]+)")
QUICK_START = [
    "./pipenv sync && ./pipenv run flask --app jwtauthtest run",
    "./pipenv sync --dev && ./pipenv run pytest",
]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_pipenv_run_names_a_program_of_the_environment():
    readme = read(REPO_ROOT / "README.md")
    assert {"flask", "python", "pytest"} <= set(RUN.findall(readme))
    pages = sorted((REPO_ROOT / "docs").glob("*.md"))
    assert pages
    programs = {name for text in [readme, *map(read, pages)] for name in RUN.findall(text)}
    assert {"flask", "python", "pytest", "granian"} <= programs
    environment = Path(sys.executable).parent  # the virtualenv's bin, which pipenv run uses
    missing = {name for name in programs
               if shutil.which(name, path=str(environment)) is None}
    assert missing == set()


def test_the_quick_start_is_two_lines_and_ci_runs_them_verbatim():
    readme = read(REPO_ROOT / "README.md")
    section = readme[readme.index("\n## Quick start\n"):]
    section = section[:section.index("\n## ", 1)]
    block = section[section.index("```sh\n") + len("```sh\n"):]
    assert block[:block.index("```\n")].splitlines() == QUICK_START
    ci = read(REPO_ROOT / ".ci" / "run").splitlines()
    assert all(line in ci for line in QUICK_START)
