"""The README's commands name only what the project's environment has (issue 22, item 7: it
mentioned Procfile runners that nothing installs)."""

import re
import shutil
import sys
from pathlib import Path

from processes import REPO_ROOT

RUN = re.compile(r"pipenv run ([\w.-]+)")


def test_every_pipenv_run_names_a_program_of_the_environment():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    programs = set(RUN.findall(readme))
    assert {"flask", "python", "pytest"} <= programs
    environment = Path(sys.executable).parent  # the virtualenv's bin, which pipenv run uses
    missing = {name for name in programs
               if shutil.which(name, path=str(environment)) is None}
    assert missing == set()
