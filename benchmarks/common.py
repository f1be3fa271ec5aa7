"""Helpers shared by the benchmarks: pinning to one core and recording results."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def pin_to_one_core() -> str:
    """Run this process on a single core, as the targets are stated per core."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    return "unpinned (no sched_setaffinity here)"


def best_rate(func, items: int, repeats: int = 5) -> float:
    """Items per second of ``func()``, best of ``repeats`` runs (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return items / best


def save(name: str, figures: dict[str, Any]) -> Path:
    """Write ``results/NAME.json`` with the figures and a description of this machine."""
    RESULTS.mkdir(exist_ok=True)
    record = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d"),
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "figures": figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path
