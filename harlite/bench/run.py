"""Plan and gather the measurements of ``harlite bench``.

For each TFLite artefact × available backend × thread count (and each ONNX artefact on ONNX
Runtime), a fresh process measures load
time, first inference, batch-1 latency percentiles over ≥ 1,000 invokes, throughput at larger
batches where the model takes them, and peak memory. Where TensorFlow is installed, the Keras
model (``predict_on_batch``) and the frozen ``.pb`` (a TensorFlow session) are measured the
same way. Sizes, MACs per window, validation accuracy and Keras agreement complete each row;
the floor reference (a plain C forward pass with the model's weights, and the chain of
dependent recurrent mat-vecs) says how far each artefact is from what the machine needs.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harlite.bench.results import BenchResult, BenchRow
from harlite.bench.worker import run_isolated
from harlite.runtime.model.bundle import ONNX_BACKEND, Artifact, Bundle
from harlite.runtime.model.onnx_model import onnxruntime_version
from harlite.runtime.model.tflite_model import available_backends

#: Artefact formats that TensorFlow runs (the Keras model and the frozen graph).
TF_FORMATS = {"keras", "tf-graphdef"}


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported here (without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


@dataclass(frozen=True)
class _Job:
    """One fresh-process measurement to make."""

    artifact: Artifact
    backend: str
    threads: int

    def spec(self, bundle: Bundle, invokes: int) -> dict[str, Any]:
        return {
            "kind": "tensorflow" if self.artifact.format in TF_FORMATS else "tflite",
            "bundle": str(bundle.path),
            "artifact": self.artifact.name,
            "backend": self.backend,
            "threads": self.threads,
            "invokes": invokes,
        }


def _plan(bundle: Bundle, backends: list[str], threads: list[int], use_tf: bool) -> list[_Job]:
    onnx = ONNX_BACKEND in backends
    tflite_backends = [b for b in backends if b != ONNX_BACKEND]
    jobs = []
    for artifact in bundle.artifacts.values():
        if artifact.is_tflite:
            jobs += [_Job(artifact, b, t) for b in tflite_backends for t in threads]
        elif artifact.is_onnx and onnx:
            jobs += [_Job(artifact, ONNX_BACKEND, t) for t in threads]
        elif artifact.format in TF_FORMATS and use_tf:
            jobs += [_Job(artifact, "tensorflow", t) for t in threads]
    return jobs


def _rows(job: _Job, measured: dict[str, Any]) -> list[BenchRow]:
    """The rows of one measurement, completed with the manifest's figures."""
    artifact = job.artifact
    return [
        BenchRow(
            artifact=artifact.name,
            format=artifact.format,
            backend=measured["backend"],
            threads=job.threads,
            **row,
            size_bytes=artifact.size,
            load_ms=measured["load_ms"],
            first_inference_ms=measured["first_inference_ms"],
            peak_rss_mib=measured["peak_rss_mib"],
            val_accuracy=artifact.val_accuracy,
            keras_agreement=artifact.keras_agreement,
        )
        for row in measured["rows"]
    ]


def _add_compute(rows: list[BenchRow], macs_by_artifact: dict[str, int | None]) -> None:
    """MACs per window and GMAC/s; the Keras model and the ``.pb`` compute what the float32
    TFLite graph computes, so they take its count."""
    float_macs = macs_by_artifact.get("float32") or next(
        (m for m in macs_by_artifact.values() if m), None
    )
    for row in rows:
        macs = macs_by_artifact.get(row.artifact) or float_macs
        row.macs = macs
        row.gmacs_per_s = (
            round(macs * row.windows_per_s / 1e9, 4) if macs and row.windows_per_s else None
        )


def benchmark_bundle(
    bundle_path: str | Path,
    backends: list[str] | None = None,
    threads: list[int] = (1,),
    invokes: int = 1000,
    include_tensorflow: bool = True,
    log: Callable[[str], None] = lambda text: None,
) -> BenchResult:
    """Measure every artefact of a bundle, each in a fresh process.

    Args:
        bundle_path: the bundle folder.
        backends: TFLite interpreters (and ``onnxruntime`` for ONNX artefacts) to measure
            on (None: every one installed).
        threads: thread counts to measure at.
        invokes: timed batch-1 invokes per row (after a warm-up).
        include_tensorflow: also measure the Keras model and the ``.pb`` where TensorFlow is
            installed.
        log: receives a line per measurement started or failed.

    Returns:
        The rows, the dense-matmul peak per thread count, the floor reference
        (:mod:`~harlite.bench.floor`), and what could not be measured.
    """
    bundle = Bundle.open(bundle_path)
    use_tf = include_tensorflow and tensorflow_available()
    result = _empty_result(bundle)
    if backends is None:
        backends = _installed_backends()
    jobs = _plan(bundle, backends, list(threads), use_tf)
    _measure_artifacts(result, bundle, jobs, invokes, log)
    _measure_references(result, bundle, threads, log)
    return result


def _empty_result(bundle: Bundle) -> BenchResult:
    """A result with no rows yet: the bundle, the date and the machine measured on."""
    return BenchResult(
        bundle=str(bundle.path),
        date=time.strftime("%Y-%m-%d %H:%M"),
        machine={
            "processor": platform.processor() or platform.machine(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        evaluation_note=bundle.evaluation_note(),
    )


def _installed_backends() -> list[str]:
    """Every TFLite interpreter installed, and ONNX Runtime where it is."""
    backends = available_backends()
    if onnxruntime_version() is not None:
        backends.append(ONNX_BACKEND)
    return backends


def _measure_artifacts(
    result: BenchResult,
    bundle: Bundle,
    jobs: list[_Job],
    invokes: int,
    log: Callable[[str], None],
) -> None:
    """Each job in a fresh process into ``result``'s rows (or its errors), then the compute
    figures of every row."""
    macs_by_artifact: dict[str, int | None] = {}
    for job in jobs:
        log(f"  {job.artifact.name} on {job.backend}, {job.threads} thread(s)…")
        measured = run_isolated(job.spec(bundle, invokes))
        if "error" in measured:
            result.errors.append(
                f"{job.artifact.name} on {job.backend} ({job.threads} threads): {measured['error']}"
            )
            log(f"    failed: {measured['error']}")
            continue
        if job.artifact.is_tflite:
            macs_by_artifact.setdefault(job.artifact.name, measured.get("macs"))
        result.rows += _rows(job, measured)
    _add_compute(result.rows, macs_by_artifact)


def _measure_references(
    result: BenchResult, bundle: Bundle, threads: list[int], log: Callable[[str], None]
) -> None:
    """The dense-matmul peak per thread count and the floor, and each batch-1 row's distance
    from the floor."""
    log("  dense matmul peak…")
    result.peak = {
        str(t): run_isolated({"kind": "matmul", "threads": t, "seconds": 2.0}) for t in threads
    }
    log("  floor: plain C forward pass and the dependent mat-vec chain…")
    result.floor = run_isolated({"kind": "floor", "bundle": str(bundle.path), "threads": 1})
    for row in result.rows:
        forward = result.floor.get("forward_ms")
        if forward and row.batch == 1:
            row.floor_ratio = round(row.p50_ms / forward, 3)
