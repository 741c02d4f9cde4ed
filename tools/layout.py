"""The shape of the jwtauthtest package: its tree (two levels, lines a module), the imports
between its modules, and any circle among them. Exit status 1 when there is a circle.

    python tools/layout.py            # the tree and the verdict
    python tools/layout.py --graph    # also every module's imports of the package
    python tools/layout.py --package DIR   # a jwtauthtest/ folder elsewhere (an old commit's)
"""

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jwtauthtest"
if "--package" in sys.argv:  # another tree of the package, e.g. an older commit's
    PACKAGE = Path(sys.argv[sys.argv.index("--package") + 1]).resolve()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The package's modules this file imports (``from jwtauthtest.x import y`` counts as
    ``jwtauthtest.x.y`` when that is a module, else ``jwtauthtest.x``), relative imports and
    imports in functions too."""
    name = module_name(path) if path.is_relative_to(PACKAGE) else ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) \
                if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            for alias in node.names:
                target = f"{module}.{alias.name}"
                found.add(target if target in known else module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, set(found)) - {name} for name, path in found.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk, each as the modules along it."""
    found, state, stack = [], {}, []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name)
    return found


def tree() -> list[str]:
    lines = []
    for name, path in modules().items():
        depth = name.count(".")
        label = path.name if path.name != "__init__.py" or depth == 0 else f"{path.parent.name}/"
        count = len(path.read_text().splitlines())
        lines.append(f"{'  ' * depth}{label} {count}")
    return lines


def main(argv: list[str]) -> int:
    print("\n".join(tree()))
    edges = graph()
    if "--graph" in argv:
        for name, targets in edges.items():
            print(f"{name} -> {', '.join(sorted(targets)) or '-'}")
    found = circles(edges)
    for circle in found:
        print("circle: " + " -> ".join(circle))
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports between them, "
          f"{len(found)} circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
