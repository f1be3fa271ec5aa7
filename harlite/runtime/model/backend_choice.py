"""``--backend auto``: the fastest installed backend for a bundle's model on this host.

Each candidate (an artefact and a backend that runs it) is loaded and timed on batch-1
windows for a fraction of a second; the figures are cached per artefact hash, backend
version, thread count and machine (``backends.json`` in the user's cache folder,
:func:`harlite.folders.cache_dir`), so the next
run on this host picks at once. Without ``--artifact``, the candidates are the default
artefact on every TFLite interpreter and the bundle's ONNX artefact (the same float model,
converted from the same weights and parity-checked) on ONNX Runtime; with ``--artifact``,
that artefact on every backend that runs its format.
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harlite.errors import HarliteError
from harlite.folders import cache_dir, read_json_cache, write_json_cache
from harlite.runtime.model.base import Model
from harlite.runtime.model.bundle import ONNX_BACKEND, Bundle
from harlite.runtime.model.onnx_model import onnxruntime_version
from harlite.runtime.model.tflite_model import (
    BACKENDS,
    DISTRIBUTIONS,
    backend_problem,
    installed_version,
)

AUTO = "auto"
#: Batch-1 calls timed per candidate (after warm-up), and the most time spent on one.
TIMED_CALLS = 200
MAX_SECONDS = 0.3
WARMUP_CALLS = 5
#: The cache file of the timings.
TIMINGS_CACHE = "backends.json"


@dataclass(frozen=True)
class BackendChoice:
    """What ``--backend auto`` picked, and the batch-1 milliseconds it measured (or cached)."""

    artifact: str
    backend: str
    ms: dict[str, float]  # "artifact on backend" -> median batch-1 ms
    cached: bool

    def describe(self) -> str:
        """One line for the user: the pick and what it beat."""
        pick = f"{self.artifact} on {self.backend}"
        others = ", ".join(f"{k} {v:.3f} ms" for k, v in self.ms.items() if k != pick)
        how = "cached measurement" if self.cached else "measured now"
        beat = f"; {others}" if others else ""
        return f"backend auto: {pick} ({self.ms[pick]:.3f} ms per window{beat}; {how})"


def installed_tflite_backends() -> list[str]:
    """TFLite interpreters installed and not known to be broken here, without importing them.

    TensorFlow's interpreter is left out where a device interpreter is installed: importing
    TensorFlow costs seconds, and it runs the same kernels.
    """
    found = [
        name
        for name in BACKENDS
        if installed_version(DISTRIBUTIONS[name]) is not None and backend_problem(name) is None
    ]
    lighter = [name for name in found if name != "tensorflow"]
    return lighter or found


def candidates(bundle: Bundle, artifact: str | None) -> list[tuple[str, str]]:
    """(artefact, backend) pairs ``auto`` chooses among."""
    tflite_backends = installed_tflite_backends()
    onnx_ready = onnxruntime_version() is not None
    if artifact is not None:
        chosen = bundle.artifact(artifact)
        if chosen.is_onnx:
            return [(chosen.name, ONNX_BACKEND)] if onnx_ready else []
        return [(chosen.name, b) for b in tflite_backends]
    default = bundle.artifact().name
    pairs = [(default, b) for b in tflite_backends] if bundle.artifact().is_tflite else []
    if onnx_ready:
        pairs += [(name, ONNX_BACKEND) for name in bundle.onnx_names()]
    return pairs


def choose_backend(
    bundle: Bundle, artifact: str | None = None, threads: int | None = 1
) -> tuple[BackendChoice, Model]:
    """Measure (or recall) every candidate; return the choice and its model, loaded."""
    pairs = candidates(bundle, artifact)
    if not pairs:
        raise HarliteError(
            "backend auto: no installed backend runs this bundle's artefacts; install one: "
            "pip install 'harlite[litert]' or 'harlite[onnx]' (`harlite doctor` says which)"
        )
    cache = _cached_timings()
    ms: dict[str, float] = {}
    models: dict[str, Model] = {}
    all_cached = True
    for name, backend in pairs:
        label = f"{name} on {backend}"
        key = _key(bundle, name, backend, threads)
        if key in cache:
            ms[label] = cache[key]
            continue
        all_cached = False
        try:
            model = bundle.load_model(name, backend=backend, threads=threads)
        except HarliteError:
            continue  # installed but unable to run here: not a candidate
        ms[label] = _time_batch_one(model, bundle.window)
        models[label] = model
        cache[key] = ms[label]
    if not all_cached:
        write_json_cache(TIMINGS_CACHE, cache)
    if not ms:
        raise HarliteError(
            "backend auto: none of the installed backends could load this bundle's artefacts "
            "(`harlite doctor` says why)"
        )
    best = min(ms, key=ms.get)
    name, backend = next((n, b) for n, b in pairs if f"{n} on {b}" == best)
    model = models.get(best) or bundle.load_model(name, backend=backend, threads=threads)
    return BackendChoice(name, backend, ms, cached=all_cached), model


def _time_batch_one(model: Model, window: int) -> float:
    """Median milliseconds of batch-1 calls on a fixed random window."""
    model.resize(1)
    x = np.random.default_rng(0).normal(size=(1, window, 9)).astype(np.float32) * 0.3
    for _ in range(WARMUP_CALLS):
        model.invoke(x)
    times = []
    deadline = time.perf_counter() + MAX_SECONDS
    while len(times) < TIMED_CALLS and time.perf_counter() < deadline:
        start = time.perf_counter()
        model.invoke(x)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1000)


def _key(bundle: Bundle, name: str, backend: str, threads: int | None) -> str:
    version = (
        onnxruntime_version()
        if backend == ONNX_BACKEND
        else installed_version(DISTRIBUTIONS[backend])
    )
    sha = bundle.artifact(name).sha256[:16]
    return f"{sha}|{backend}={version}|threads={threads}|{platform.machine()}|{_cpu_model()}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "Hardware")):
                return line.split(":", 1)[1].strip()[:60]
    except OSError:
        pass
    return platform.processor()[:60]


def cache_path() -> Path:
    """Where the timings are kept (``backends.json`` in the user's cache folder)."""
    return cache_dir() / TIMINGS_CACHE


def _cached_timings() -> dict[str, float]:
    """The cached milliseconds per candidate key (entries that are not a positive number
    are measured again)."""
    entries = read_json_cache(TIMINGS_CACHE)
    return {k: float(v) for k, v in entries.items() if isinstance(v, (int, float)) and v > 0}
