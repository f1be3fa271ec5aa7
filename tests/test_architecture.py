"""The import graph of harlite/: no cycles, the device runtime free of the training side, and
click only in the CLI. Imports inside functions count too: they are how a room reaches another.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "harlite"

pytestmark = pytest.mark.runtime


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at any depth (TYPE_CHECKING-only imports excluded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only |= {id(n) for n in ast.walk(node)}
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        edges[name] = {m for m in imports_of(path) if m in modules and m != name}
    return edges


def external_imports() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among modules (a package's own __init__ re-exports excluded)."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node]):
            if node.startswith(nxt + "."):  # a submodule reaching its package's __init__
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    assert cycle(graph()) is None, " → ".join(cycle(graph()))


def test_a_cycle_is_found_when_there_is_one():  # the check itself can fail
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_the_runtime_imports_neither_training_conversion_nor_cli():
    forbidden = ("harlite.train", "harlite.convert", "harlite.cli", "harlite.bench")
    forbidden += ("harlite.pipeline", "tensorflow", "keras", "tf_keras", "sklearn", "click")
    for module, imported in external_imports().items():
        if not module.startswith("harlite.runtime"):
            continue
        bad = sorted(m for m in imported if m.startswith(forbidden))
        assert not bad, f"{module} imports {bad}"


def test_only_the_cli_imports_click():
    for module, imported in external_imports().items():
        if module.startswith("harlite.cli"):
            continue
        assert not any(m == "click" or m.startswith("click.") for m in imported), module


def test_the_server_is_device_side_and_stays_out_of_the_core_runtime():
    """harlite.serve runs on the device (no training, conversion, CLI or click); the core
    runtime never imports the server or its web framework (the ``serve`` extra)."""
    forbidden = ("harlite.train", "harlite.convert", "harlite.cli", "tensorflow", "keras",
                 "tf_keras", "sklearn", "click")  # fmt: skip
    for module, imported in external_imports().items():
        if module.startswith("harlite.serve"):
            bad = sorted(m for m in imported if m.startswith(forbidden))
            assert not bad, f"{module} imports {bad}"
        if module.startswith("harlite.runtime"):
            web = sorted(m for m in imported if m.startswith(("harlite.serve", "aiohttp")))
            assert not web, f"{module} imports {web}"
