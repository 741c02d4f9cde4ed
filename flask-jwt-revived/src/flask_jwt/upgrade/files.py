"""The files of an app that the checker reads (``.py``, ``requirements*.txt``, ``Pipfile``),
read and written back as they were: their encoding and line endings kept."""

import codecs
import io
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path


class CheckerError(Exception):
    """Why the checker can't run, in one line that names the path."""


@dataclass(frozen=True)
class AppFile:
    path: Path
    shown: str  # its path as reported: from the folder checked
    kind: str  # "python", "requirements" or "pipfile"
    encoding: str
    text: str


def kind_of(name: str) -> str | None:
    if name == "Pipfile":
        return "pipfile"
    if name.startswith("requirements") and name.endswith(".txt"):
        return "requirements"
    return "python" if name.endswith(".py") else None


def is_skipped(folder: Path) -> bool:
    """Hidden folders, caches, and virtual environments: none of them is the app's code."""
    return (folder.name.startswith(".") or folder.name in ("__pycache__", "node_modules")
            or any((folder / marker).exists()
                   for marker in ("pyvenv.cfg", "bin/activate", "Scripts/activate")))


def app_files(root: Path) -> list[AppFile]:
    """The files under the folder (or the one file) the checker reads, in a stable order."""
    if not root.exists():
        raise CheckerError(f"no such file or folder: {root}")
    if not root.is_dir():
        if kind_of(root.name) is None:
            raise CheckerError(f"not a folder, .py file, requirements*.txt or Pipfile: {root}")
        return [read(root, root.name)]
    found = []
    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        subfolders[:] = sorted(name for name in subfolders
                               if not is_skipped(Path(folder, name)))
        found += [read(Path(folder, name), Path(folder, name).relative_to(root).as_posix())
                  for name in sorted(names) if kind_of(name)]
    return found


def unreadable(error: OSError) -> None:
    raise CheckerError(f"can't read {error.filename}: {error.strerror or error}")


def read(path: Path, shown: str) -> AppFile:
    kind = kind_of(path.name) or ""
    encoding = "utf-8"
    try:
        data = path.read_bytes()
        if kind == "python":  # its coding comment, or UTF-8, as Python reads it
            encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        elif data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        return AppFile(path, shown, kind, encoding, data.decode(encoding))
    except OSError as error:
        raise CheckerError(f"can't read {shown}: {error.strerror or error}") from None
    except (UnicodeDecodeError, SyntaxError, LookupError):
        raise CheckerError(f"can't read {shown}: it is not {encoding} text") from None


def write(file: AppFile, text: str) -> None:
    try:
        file.path.write_bytes(text.encode(file.encoding))
    except OSError as error:
        raise CheckerError(f"can't write {file.shown}: {error.strerror or error}") from None
