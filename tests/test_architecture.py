"""The import graph of harlite/: no cycles, the device runtime in rooms and free of the
training side and of jobs, training free of conversion, click only in the CLI, and no function
over 60 lines. Imports inside functions and type-only imports (``if TYPE_CHECKING:``) count
too: they are how a room reaches another.
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
    """Every module a file imports, at any depth, type-only imports included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    found = set()
    for node in ast.walk(tree):
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


def test_type_only_imports_count(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "harlite")
    (tmp_path / "harlite").mkdir()
    module = tmp_path / "harlite" / "typed.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from harlite.train import x\n"
    )
    assert "harlite.train" in imports_of(module)


#: What the runtime may hold at its top: its rooms, and the few modules every room shares or
#: that tie the rooms together.
RUNTIME_ROOMS = {"signal", "io", "model"}
RUNTIME_TOP = {
    "__init__",
    "spec",
    "rows",
    "stream",
    "run",
    "sinks",
    "activity",
    "doctor",
    "shutdown",
}
#: Rooms of the runtime a room must not import (the signal path knows neither inputs nor
#: models; the model knows no inputs; inputs know no models); no room imports the modules
#: at the top that tie the rooms together (RUNTIME_TOP_LEVEL).
RUNTIME_ROOM_RULES = {
    "harlite.runtime.signal": ("harlite.runtime.io", "harlite.runtime.model"),
    "harlite.runtime.model": ("harlite.runtime.io",),
    "harlite.runtime.io": ("harlite.runtime.model",),
}
RUNTIME_TOP_LEVEL = (
    "harlite.runtime.stream",
    "harlite.runtime.run",
    "harlite.runtime.sinks",
    "harlite.runtime.doctor",
)


def test_the_runtime_is_in_rooms():
    runtime = PACKAGE / "runtime"
    rooms = {p.name for p in runtime.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.stem for p in runtime.glob("*.py")}
    assert rooms == RUNTIME_ROOMS, f"runtime rooms: {sorted(rooms)}"
    assert modules <= RUNTIME_TOP, f"loose modules in runtime/: {sorted(modules - RUNTIME_TOP)}"


def test_each_runtime_room_imports_only_what_it_may():
    for module, imported in external_imports().items():
        for room, forbidden in RUNTIME_ROOM_RULES.items():
            if module.startswith(room):
                bad = sorted(m for m in imported if m.startswith(forbidden + RUNTIME_TOP_LEVEL))
                assert not bad, f"{module} imports {bad}"


def test_the_runtime_runs_no_jobs():
    """Batches, Ray and the reaper are jobs around the device (harlite.batch), not in it."""
    for module, imported in external_imports().items():
        if module.startswith("harlite.runtime"):
            bad = sorted(m for m in imported if m.startswith(("harlite.batch", "ray", "psutil")))
            assert not bad, f"{module} imports {bad}"


def test_training_never_imports_conversion():
    for module, imported in external_imports().items():
        if module.startswith("harlite.train"):
            bad = sorted(m for m in imported if m.startswith("harlite.convert"))
            assert not bad, f"{module} imports {bad}"


#: The longest a function may be, in lines (its docstring included).
MAX_FUNCTION_LINES = 60


def long_functions(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(
                        f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({lines})"
                    )
    return found


def test_no_function_is_over_60_lines():
    assert long_functions(PACKAGE) == []


def test_a_long_function_is_found(tmp_path):
    (tmp_path / "pkg").mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "pkg" / "long.py").write_text(f"def f():\n{body}")
    assert long_functions(tmp_path / "pkg") == ["pkg/long.py:1 f (61)"]
