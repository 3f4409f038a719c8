"""Check the package's import graph: no cycles (function-level imports included), and nothing
outside podcast/speech/ imports the speech package except the stage that performs speech.

    uv run python tools/imports.py      # exit 1 when either rule is broken
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "podcast"
ALLOWED = {"podcast.episode.perform"}  # the stage that performs speech


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def edges(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module ``name`` imports at run time (``if TYPE_CHECKING`` blocks are skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{target}.{alias.name}"
                out.add(full if full in known else target)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    # importing a submodule runs its packages' __init__ first
    for target in list(out):
        parts = target.split(".")
        out.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return {t for t in out if t in known and t != name and not name.startswith(t + ".")}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def main() -> int:
    known = modules()
    graph = {name: edges(name, path, known) for name, path in known.items()}
    loops = cycles(graph)
    speakers = sorted(m for m, targets in graph.items() if not m.startswith("podcast.speech")
                      and any(t == "podcast.speech" or t.startswith("podcast.speech.") for t in targets))
    print(f"{len(graph)} modules; cycles: {loops or 'none'}")
    print(f"outside podcast.speech, importing it: {', '.join(speakers) or 'none'}")
    return 1 if loops or set(speakers) - ALLOWED else 0


if __name__ == "__main__":
    sys.exit(main())
