"""Preprocessing throughput on one core: samples/s of the filter bank and the windowing.

Targets (issue: foundation): ≥ 1,000,000 samples/s in chunks of ≥ 1,000 samples and
≥ 5,000 samples/s one sample at a time.

    python benchmarks/bench_preprocessing.py [--save]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import best_rate, pin_to_one_core, save

from harlite.runtime import Preprocessor, SlidingWindow


def synthetic_raw(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n) / 50.0
    acc = np.stack([np.sin(2 * np.pi * 2 * t), np.cos(2 * np.pi * 2 * t), 1 + 0 * t], axis=1)
    return np.hstack((acc, rng.standard_normal((n, 3)))) + 0.01 * rng.standard_normal((n, 6))


def chunked(raw: np.ndarray, chunk: int, with_windows: bool) -> None:
    pre, windows = Preprocessor(), SlidingWindow()
    for i in range(0, len(raw), chunk):
        out = pre.process(raw[i : i + chunk])
        if with_windows:
            windows.push(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    where = pin_to_one_core()
    big, small = synthetic_raw(2_000_000), synthetic_raw(20_000)
    figures = {}
    for chunk in (1000, 10_000):
        figures[f"filter_chunk{chunk}_samples_per_s"] = best_rate(
            lambda c=chunk: chunked(big, c, False), len(big)
        )
        figures[f"filter_and_windows_chunk{chunk}_samples_per_s"] = best_rate(
            lambda c=chunk: chunked(big, c, True), len(big)
        )
    figures["filter_one_sample_samples_per_s"] = best_rate(
        lambda: chunked(small, 1, False), len(small), repeats=3
    )
    figures["filter_and_windows_one_sample_samples_per_s"] = best_rate(
        lambda: chunked(small, 1, True), len(small), repeats=3
    )
    print(f"Preprocessing throughput, one core ({where}):")
    for name, value in figures.items():
        print(f"  {name:<48} {value:>14,.0f}")
    targets = {
        "filter_chunk1000_samples_per_s": 1_000_000,
        "filter_one_sample_samples_per_s": 5_000,
    }
    for name, target in targets.items():
        verdict = "meets" if figures[name] >= target else "MISSES"
        print(f"  {verdict} target {target:,} for {name}")
    if args.save:
        print(f"saved {save('preprocessing', {k: round(v) for k, v in figures.items()})}")


if __name__ == "__main__":
    main()
