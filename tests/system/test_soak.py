"""Soak: 10 million samples (55.6 h of signal) through one StreamClassifier.

Slow (about 40 s here): outside the default CI run; `pytest -m slow tests/system/test_soak.py`.
`benchmarks/bench_stream.py` records the same figures in benchmarks/results/stream.json.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path

pytestmark = [pytest.mark.slow, pytest.mark.runtime]

SAMPLES = 10_000_000
CHUNK = 1000


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def test_ten_million_samples_flat_memory_exact_windows_no_drift():
    classifier = StreamClassifier(model_path("lstm"))
    rng = np.random.default_rng(0)
    base = np.column_stack((np.zeros(CHUNK), 1 + 0.05 * rng.standard_normal((CHUNK, 6))))
    windows, rss, per_window = 0, [], []
    for first in range(0, SAMPLES, CHUNK):
        rows = base.copy()
        rows[:, 0] = (first + np.arange(CHUNK)) / 50.0
        started = time.perf_counter()
        produced = classifier.push(rows)
        if produced:
            per_window.append((time.perf_counter() - started) / len(produced))
        windows += len(produced)
        if (first + CHUNK) % 1_000_000 == 0:
            rss.append(rss_mib())
    print(f"RSS per million samples (MiB): {[round(r, 2) for r in rss]}")
    assert windows == count_windows(SAMPLES)
    assert max(rss[1:]) - rss[0] <= 5.0
    tenth = len(per_window) // 10
    first, last = np.median(per_window[:tenth]), np.median(per_window[-tenth:])
    print(f"ms per window: first tenth {first * 1000:.3f}, last tenth {last * 1000:.3f}")
    assert last < first * 1.5
