"""One measurement in a fresh Python process: :func:`run_isolated` starts
``python -m harlite.bench.worker SPEC`` and reads the one JSON object it prints.

A spec's ``kind`` says what to measure: ``tflite`` (an artefact on the device runtime),
``tensorflow`` (the Keras model or the frozen ``.pb``; needs TensorFlow), ``matmul`` (the
machine's dense float32 matmul peak) or ``floor`` (the plain C forward pass and the
dependent mat-vec chain, :mod:`harlite.bench.floor`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

#: The module the fresh process runs (this one).
WORKER_MODULE = __name__ if __name__ != "__main__" else "harlite.bench.worker"


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the measurement ``spec`` asks for, in this process."""
    kind = spec.get("kind", "tflite")
    if kind == "matmul":
        from harlite.bench.measure import measure_matmul_peak

        return measure_matmul_peak(spec)
    if kind == "floor":
        from harlite.bench.floor import floor_reference
        from harlite.runtime.model.bundle import Bundle

        return floor_reference(Bundle.open(spec["bundle"]), spec.get("threads", 1)).to_dict()
    if kind == "tensorflow":
        from harlite.bench import tensorflow

        return tensorflow.measure(spec)
    from harlite.bench.measure import measure_tflite

    return measure_tflite(spec)


def run_isolated(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh Python process and return its JSON result (or
    ``{"error": …}`` with the last lines the process printed)."""
    env = dict(os.environ)
    threads = str(spec.get("threads") or 1)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = threads
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = subprocess.run(
        [sys.executable, "-m", WORKER_MODULE, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=spec.get("timeout", 600),
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit status {result.returncode}"}
    return json.loads(lines[-1])


def main() -> None:
    """Worker entry point: one JSON spec in argv, one JSON result on stdout."""
    print(json.dumps(measure(json.loads(sys.argv[1]))))


if __name__ == "__main__":
    main()
