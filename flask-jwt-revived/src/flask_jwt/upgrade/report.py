"""What the checker reports (a ``Finding`` a line), the text edits that fix one, and where
a line and column of a file are in its text."""

import re
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Edit:
    """Characters ``start`` to ``end`` of a text, to be replaced by ``text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Finding:
    """What breaks at a line and how to fix it; ``--write`` makes the fix when it has edits.
    ``imports`` names the modules the edits use, which the file must import."""

    line: int
    problem: str
    fix: str
    edits: tuple[Edit, ...] = ()
    imports: tuple[str, ...] = ()

    @property
    def automatic(self) -> bool:
        return bool(self.edits)

    def by_hand(self) -> "Finding":
        return Finding(self.line, self.problem, self.fix)

    def describe(self, path: str) -> str:
        how = "--write" if self.automatic else "by hand"
        return f"{path}:{self.line}: {self.problem}; {how}: {self.fix}"


# A line with its ending; Python's tokenizer, pip and pipenv end lines at \r\n, \r or \n only
# (str.splitlines also splits at form feeds and other separators).
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class Text:
    """A file's text, addressed by line (from 1) and column, as ``ast`` and readers count."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = LINE.findall(text)
        self.starts = list(accumulate((len(line) for line in self.lines), initial=0))
        ending = re.search(r"\r\n|\r|\n", text)
        self.newline = ending.group() if ending else "\n"

    def offset(self, line: int, utf8_column: int) -> int:
        """The offset in the text of an ``ast`` position (its columns count UTF-8 bytes)."""
        if line > len(self.lines):
            return len(self.text)
        before = self.lines[line - 1].encode()[:utf8_column].decode(errors="ignore")
        return self.starts[line - 1] + len(before)

    def line_start(self, line: int) -> int:
        return self.starts[min(line, len(self.lines) + 1) - 1]

    def body(self, line: int) -> str:
        """The line without its ending."""
        return self.lines[line - 1].rstrip("\r\n")


def apply(text: str, edits: list[Edit]) -> str:
    """The text with the edits made; ValueError when two of them overlap."""
    result, end = [], len(text)
    for edit in sorted(edits, key=lambda edit: (edit.start, edit.end), reverse=True):
        if edit.end > end:
            raise ValueError("overlapping edits")
        result += [text[edit.end:end], edit.text]
        end = edit.start
    return text[:end] + "".join(reversed(result))
