"""The floors of the code (README "Layout"), checked on the import graph of the source:

    ground     configuration, logging, metrics, limits
    storage    SQL, the queue and the generic job runtime
    facegen    models; only its job handlers (facegen/handlers.py) reach storage
    bot        chat: the conversation core, the grammar, the platform adapters
    dreamface  process assembly and the command line

A package imports only the floors below it; the conversation core and the grammar import no
platform library; no modules import each other in a circle. Every import counts, also one
inside a function (a lazy import is still a dependency). Alembic's migrations are outside.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FLOORS = ("ground", "storage", "facegen", "bot", "dreamface")
PLATFORM_LIBRARIES = ("telegram", "discord", "aiohttp")
STORAGE_GATES = {"facegen.handlers"}   # facegen's one module that reaches storage


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    return module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]


def imports_of(path: Path, package: str) -> set[str]:
    """Every module the file imports, absolute names (relative imports resolved in `package`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}   # `from pkg import module`
    return found


def source_graph() -> dict[str, set[str]]:
    """module → the project modules it imports."""
    files = {module_name(p): p for floor in FLOORS for p in (REPO / floor).rglob("*.py")}
    return {name: {m for m in imports_of(path, package_of(path)) if m in files and m != name}
            for name, path in files.items()}


GRAPH = source_graph()


def floor_of(module: str) -> int:
    return FLOORS.index(module.split(".")[0])


def test_the_graph_covers_every_floor():
    assert {m.split(".")[0] for m in GRAPH} == set(FLOORS)
    assert sum(len(targets) for targets in GRAPH.values()) > 200   # the parser sees the imports


def test_each_package_imports_only_the_floors_below_it():
    upward = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() for t in targets if floor_of(t) > floor_of(m))
    assert not upward, "\n".join(upward)


def test_only_facegen_handlers_reach_storage():
    reaching = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if m.startswith("facegen.")
                      and m not in STORAGE_GATES for t in targets if t.startswith("storage."))
    assert not reaching, "\n".join(reaching)


@pytest.mark.parametrize("package", ["bot.conversation", "bot.grammar"])
def test_the_conversation_core_and_the_grammar_import_no_platform_library(package):
    files = [p for p in REPO.glob(package.replace(".", "/") + "/**/*.py")]
    assert files
    used = sorted(f"{module_name(p)} imports {m}" for p in files for m in imports_of(p, package_of(p))
                  if m.split(".")[0] in PLATFORM_LIBRARIES)
    assert not used, "\n".join(used)


def test_no_modules_import_each_other_in_a_circle():
    assert not circles(GRAPH), "\n".join("a circle among: " + ", ".join(c) for c in circles(GRAPH))


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted. A
    package's own __init__ re-exporting its modules is not a circle: edges into a package's
    __init__ from its own modules are left out."""
    edges = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}) == [["a.x", "a.y", "a.z"]]
    assert circles({"a": {"a.x"}, "a.x": {"a"}}) == []   # a package re-exporting its module


def test_a_lazy_or_relative_import_counts(tmp_path):
    file = tmp_path / "example.py"
    file.write_text("def later():\n    from dreamface.app import open_app\nfrom . import sibling\n")
    assert {"dreamface.app", "bot.sibling"} <= imports_of(file, "bot")
