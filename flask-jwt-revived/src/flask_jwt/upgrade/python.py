"""Reading an app's Python file: its syntax tree (the app is never imported or run), the
names it binds, and the fixes to its text, made only when the result still parses."""

import ast
from collections.abc import Callable, Iterable

from .report import Edit, Finding, Text, apply


class Module:
    """A parsed Python file, its nodes, and the names it binds to PyJWT's module and its
    ``encode`` and ``decode``."""

    def __init__(self, text: Text, tree: ast.Module) -> None:
        self.text, self.tree = text, tree
        self.nodes = list(ast.walk(tree))
        self.pyjwt = {alias.asname or alias.name for node in self.nodes
                      if isinstance(node, ast.Import) for alias in node.names
                      if alias.name == "jwt"}
        self.pyjwt_functions = {alias.asname or alias.name: alias.name for node in self.nodes
                                if isinstance(node, ast.ImportFrom) and node.module == "jwt"
                                for alias in node.names}

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.text.offset(node.lineno, node.col_offset),
                self.text.offset(node.end_lineno, node.end_col_offset))

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.text.text[start:end]

    def calls_pyjwt(self, call: ast.Call, function: str) -> bool:
        """Whether the call is PyJWT's ``jwt.<function>(...)``."""
        called = call.func
        if isinstance(called, ast.Attribute) and isinstance(called.value, ast.Name):
            return called.attr == function and called.value.id in self.pyjwt
        return isinstance(called, ast.Name) and self.pyjwt_functions.get(called.id) == function

    def remove_statement(self, node: ast.stmt) -> Edit:
        """Deletes the statement's lines when it has them to itself, else makes it ``pass``."""
        start, end = self.span(node)
        before = self.text.body(node.lineno)[:start - self.text.line_start(node.lineno)]
        after = self.text.body(node.end_lineno)[end - self.text.line_start(node.end_lineno):]
        if before.strip() or (after.strip() and not after.lstrip().startswith("#")):
            return Edit(start, end, "pass")
        return Edit(self.text.line_start(node.lineno),
                    self.text.line_start(node.end_lineno + 1), "")

    def import_edit(self, modules: Iterable[str]) -> list[Edit]:
        """``import <module>`` lines for those the file doesn't import at its top yet, put
        before its first import (after a docstring and ``__future__`` imports)."""
        have = {alias.name for node in self.tree.body if isinstance(node, ast.Import)
                for alias in node.names if alias.asname is None}
        missing = sorted(set(modules) - have)
        if not missing:
            return []
        lines = "".join(f"import {name}{self.text.newline}" for name in missing)
        return [Edit(self.import_place(), self.import_place(), lines)]

    def import_place(self) -> int:
        line = 1
        for node in self.tree.body:
            is_docstring = (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                            and isinstance(node.value.value, str))
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom)
                                                and node.module != "__future__"):
                return self.text.line_start(node.lineno)
            if not (is_docstring or isinstance(node, ast.ImportFrom)):
                break
            line = node.end_lineno + 1
        if line == 1:  # past the comments on top: a #! line and a coding comment stay first
            while line <= len(self.text.lines) and self.text.lines[line - 1].startswith("#"):
                line += 1
        return self.text.line_start(line)


Rule = Callable[[Module], list[Finding]]


def check_python(text: Text, rules: Iterable[Rule]) -> tuple[list[Finding], str]:
    """The rules' findings on the file, and its text with their fixes made. Where the fixes
    would not parse (or overlap), none is made and every finding is left for by hand."""
    try:
        tree = ast.parse(text.text)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 1
        message = getattr(error, "msg", str(error))
        return [Finding(line, f"this is not Python 3 ({message})", "port it to Python 3")], \
            text.text
    module = Module(text, tree)
    findings = sorted((finding for rule in rules for finding in rule(module)),
                      key=lambda finding: finding.line)
    automatic = [finding for finding in findings if finding.automatic]
    if not automatic:
        return findings, text.text
    edits = [edit for finding in automatic for edit in finding.edits]
    edits += module.import_edit(name for finding in automatic for name in finding.imports)
    try:
        fixed = apply(text.text, edits)
        ast.parse(fixed)
    except (SyntaxError, ValueError):
        return [finding.by_hand() for finding in findings], text.text
    return findings, fixed
