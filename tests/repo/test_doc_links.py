"""The documentation holds together (issue 24): every relative link in README.md,
flask-jwt-revived/README.md and docs/*.md leads to a file that exists and, with an #anchor, to
a heading of that file as GitHub names it; the README stays a front door to the pages."""

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")  # ...](target "title")
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
EXTERNAL = re.compile(r"^https?://")
README_MAX_LINES = 400


def documents() -> list[Path]:
    return [ROOT / "README.md", ROOT / "flask-jwt-revived" / "README.md",
            *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks, others blanked (so line
    numbers stay right)."""
    lines, fence = [], None
    for line in text.split("\n"):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            lines.append("")
        elif fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip(fence[0]).strip():
                fence = None
            lines.append("")
        else:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """A heading's anchor as GitHub (github-slugger) makes it: the rendered text in lower case,
    every character but letters, marks, digits, connector punctuation (`_`), hyphens and spaces
    dropped, each space a hyphen."""
    text = INLINE_LINK.sub(r"\1", heading).lower()
    kept = "".join(char for char in text if char in "- " or char == "_"
                   or unicodedata.category(char)[0] in "LMN")
    return kept.replace(" ", "-")


def anchors(text: str) -> list[str]:
    """The anchors of a document's headings in order, repeats numbered as GitHub numbers them
    (`usage`, `usage-1`, ...)."""
    seen: set[str] = set()
    found = []
    for line in prose(text):
        match = HEADING.match(line)
        if not match:
            continue
        base = candidate = slug(match.group(2))
        number = 0
        while candidate in seen:
            number += 1
            candidate = f"{base}-{number}"
        seen.add(candidate)
        found.append(candidate)
    return found


def link_targets(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every inline link and image outside code blocks."""
    lines = prose(text)
    joined = "\n".join(lines)
    return [(joined.count("\n", 0, match.start()) + 1, match.group(1))
            for match in TARGET.finditer(joined)]


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """Every relative link of document that leads nowhere, as `file:line: target: why`."""
    problems = []
    where = document.relative_to(root)
    for number, target in link_targets(document.read_text(encoding="utf-8")):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        destination = (document.parent / path if path else document).resolve()
        if root.resolve() not in (destination, *destination.parents):
            problems.append(f"{where}:{number}: {target}: outside the repository")
        elif not destination.exists():
            problems.append(f"{where}:{number}: {target}: no such file")
        elif anchor and not (destination.is_file() and destination.suffix == ".md"):
            problems.append(f"{where}:{number}: {target}: an anchor in what is no Markdown file")
        elif anchor and anchor not in anchors(destination.read_text(encoding="utf-8")):
            problems.append(f"{where}:{number}: {target}: no heading #{anchor} there")
    return problems


@pytest.mark.parametrize(("heading", "anchor"), [
    ("The production server (Procfile)", "the-production-server-procfile"),
    ("Tokens without `kid`", "tokens-without-kid"),
    ("`python useradd.py`", "python-useraddpy"),
    ("`flask --app jwtauthtest users ...`", "flask---app-jwtauthtest-users-"),
    ("`flask --app jwtauthtest tokens revoke-all [--yes]`",
     "flask---app-jwtauthtest-tokens-revoke-all---yes"),
    ("Upgrading from Flask-JWT 0.3.2", "upgrading-from-flask-jwt-032"),
    ("Straße — `JWT_ALGORITHM`, [keys](keys.md) & ünïcode", "straße--jwt_algorithm-keys--ünïcode"),
])
def test_the_slugger_names_headings_as_github_does(heading, anchor):
    assert slug(heading) == anchor


def test_repeated_headings_are_numbered_and_code_blocks_have_none():
    text = "# Usage\n\n## Usage\n\n```sh\n# not a heading\n```\n\n### Usage ##\n"
    assert anchors(text) == ["usage", "usage-1", "usage-2"]


def test_every_kind_of_link_is_found_and_code_is_not_read():
    text = ("See [a\nlink over two lines](one.md#a), ![an image](pic.png),\n"
            "[`revoke-all [--yes]`](#nested) and [out](https://example.com/x#y).\n\n"
            "```js\nconst x = y[0](1); // [not](a-link.md)\n```\n[titled](two.md \"Title\")\n")
    assert link_targets(text) == [(2, "one.md#a"), (2, "pic.png"), (3, "#nested"),
                                  (3, "https://example.com/x#y"), (8, "two.md")]


def test_broken_links_are_all_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "page.md").write_text("# Page\n\n## Some `code` here\n")
    (tmp_path / "img.png").write_bytes(b"")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Top\n\n[ok](docs/page.md#some-code-here) [ok](#top) ![ok](img.png)\n"
        "[web](https://example.com/#nothing)\n"
        "[gone](docs/missing.md) [bad anchor](docs/page.md#some-code)\n"
        "[bad here](#bottom) [escape](../elsewhere.md) [not md](img.png#x)\n")
    assert broken_links(readme, tmp_path) == [
        "README.md:5: docs/missing.md: no such file",
        "README.md:5: docs/page.md#some-code: no heading #some-code there",
        "README.md:6: #bottom: no heading #bottom there",
        "README.md:6: ../elsewhere.md: outside the repository",
        "README.md:6: img.png#x: an anchor in what is no Markdown file"]


def test_every_relative_link_leads_to_a_file_and_a_heading():
    docs = documents()
    assert len(docs) >= 10, docs  # the two READMEs and the pages of docs/
    problems = [problem for document in docs for problem in broken_links(document)]
    assert problems == []


def test_the_readme_is_a_front_door_to_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    linked = {target.partition("#")[0] for _, target in link_targets(readme)}
    pages = {f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")}
    assert pages - linked == set()
    assert {"flask-jwt-revived/README.md", "LICENSE", "CHANGELOG.md"} <= linked


@pytest.mark.parametrize("page", sorted((ROOT / "docs").glob("*.md")), ids=lambda page: page.name)
def test_each_page_opens_with_a_title_a_sentence_and_its_contents(page):
    lines = prose(page.read_text(encoding="utf-8"))
    assert lines[0].startswith("# ") and lines[1] == "" and lines[2], lines[:3]
    starts = [number for number, line in enumerate(lines) if line.startswith("## ")]
    assert starts, "no ## sections"
    sections = {f"#{slug(lines[number][3:])}" for number in starts}
    contents = {target for _, target in link_targets("\n".join(lines[:starts[0]]))}
    assert sections - contents == set()
