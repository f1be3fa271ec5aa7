"""Old import paths of modules that moved (0.1 → 0.2), kept for one release.

``import harlite.runtime.bundle`` still works and gives the very module now at
``harlite.runtime.model.bundle`` (so a monkeypatch through either name reaches both), with a
``DeprecationWarning`` naming the new path. Installed by ``harlite/__init__.py``; the table is
the one list of what moved, and ``tests/runtime/test_moved.py`` imports the old names
through it. A name that left a module which stayed (:data:`MOVED_NAMES`) is found through
that module when asked for.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings

#: Old module path → where it lives now.
MOVED_MODULES: dict[str, str] = {
    "harlite.convert.domain": "harlite.convert.training_domain",
    "harlite.reaper": "harlite.batch.reaper",
    "harlite.runtime.app_exports": "harlite.runtime.io.app_exports",
    "harlite.runtime.backend_choice": "harlite.runtime.model.backend_choice",
    "harlite.runtime.batch": "harlite.batch.pool",
    "harlite.runtime.batch_job": "harlite.batch.job",
    "harlite.runtime.batch_ray": "harlite.batch.ray_engine",
    "harlite.runtime.bundle": "harlite.runtime.model.bundle",
    "harlite.runtime.clock": "harlite.runtime.signal.clock",
    "harlite.runtime.csvblock": "harlite.runtime.io.csvblock",
    "harlite.runtime.domain": "harlite.runtime.signal.domain_check",
    "harlite.runtime.iir": "harlite.runtime.signal._sosfilt",
    "harlite.runtime.input_check": "harlite.runtime.signal.input_check",
    "harlite.runtime.input_options": "harlite.runtime.io.input_options",
    "harlite.runtime.interpreter": "harlite.runtime.model.tflite_model",
    "harlite.runtime.lines": "harlite.runtime.io.lines",
    "harlite.runtime.manifest": "harlite.runtime.model.manifest",
    "harlite.runtime.model_calls": "harlite.runtime.model.base",
    "harlite.runtime.mqtt": "harlite.runtime.io.mqtt",
    "harlite.runtime.onnx_model": "harlite.runtime.model.onnx_model",
    "harlite.runtime.phone_align": "harlite.runtime.io.phone_align",
    "harlite.runtime.placement": "harlite.runtime.signal.placement",
    "harlite.runtime.preprocessing": "harlite.runtime.signal.preprocessing",
    "harlite.runtime.push": "harlite.runtime.io.push",
    "harlite.runtime.recordings_folder": "harlite.runtime.io.recordings_folder",
    "harlite.runtime.resample": "harlite.runtime.signal.resample",
    "harlite.runtime.sensorcsv": "harlite.runtime.io.sensorcsv",
    "harlite.runtime.session": "harlite.runtime.run",
    "harlite.runtime.signals": "harlite.runtime.shutdown",
    "harlite.runtime.smoothing": "harlite.runtime.signal.smoothing",
    "harlite.runtime.sources": "harlite.runtime.io.sources",
    "harlite.runtime.user_cache": "harlite.folders",
    "harlite.runtime.windower": "harlite.runtime.signal.windower",
    "harlite.runtime.windowing": "harlite.runtime.signal.sliding_window",
    "harlite.train.recordings": "harlite.train.hapt_export",
}
#: Old package path → new package path (every submodule follows).
MOVED_PACKAGES: dict[str, str] = {
    "harlite.benchmark": "harlite.bench",
}
#: Names that left a module which stayed, for a module above it that a re-export would reach
#: the wrong way (training importing conversion, an import cycle): module → {name: where it
#: lives now}. The old module finds them only when asked, so its own imports stay as they are.
MOVED_NAMES: dict[str, dict[str, str]] = {
    "harlite.train.evaluation": {"evaluate": "harlite.evaluate"},
}


def new_name(old: str) -> str | None:
    """Where the module once imported as ``old`` lives now (None: it did not move)."""
    if old in MOVED_MODULES:
        return MOVED_MODULES[old]
    for package, moved_to in MOVED_PACKAGES.items():
        if old == package or old.startswith(package + "."):
            return moved_to + old[len(package) :]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass  # the target module is already executed


class _MovedNamesLoader(importlib.abc.Loader):
    """Runs a module's own loader, then lets the module find its moved names on first use."""

    def __init__(self, loader: importlib.abc.Loader, names: dict[str, str]) -> None:
        self.loader = loader
        self.names = names

    def __getattr__(self, name: str):
        return getattr(self.loader, name)  # get_source, get_filename...: the module's own

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        module.__getattr__ = _moved_names_getter(module.__name__, self.names)


def _moved_names_getter(module: str, names: dict[str, str]):
    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} moved to {names[name]}.{name}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(names[name]), name)

    return __getattr__


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds an old module path and hands back the moved module itself; finds a module that
    lost names (:data:`MOVED_NAMES`) as usual, with those names reachable through it."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED_NAMES:
            spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _MovedNamesLoader(spec.loader, MOVED_NAMES[fullname])
            return spec
        moved_to = new_name(fullname)
        if moved_to is None:
            return None
        warnings.warn(
            f"{fullname} moved to {moved_to}; the old path goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.util.spec_from_loader(fullname, _AliasLoader(moved_to))


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (before the path finder, which would load a
    moved package's submodule a second time under its old name), once."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
