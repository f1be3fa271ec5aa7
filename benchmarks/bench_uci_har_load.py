"""Time to load a full-size UCI HAR folder (10,299 windows × 1,152 values as text).

Writes a synthetic folder in UCI's exact layout and number format to a temporary folder,
then times ``load_windows`` without the cache (the vectorised parser) and with it.

    python benchmarks/bench_uci_har_load.py [--save]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

from harlite.runtime.spec import MODEL_CHANNELS
from harlite.train.datasets import load_windows

SIZES = {"train": 7352, "test": 2947}


def write_full_size(root: Path) -> None:
    rng = np.random.default_rng(0)
    base = root / "UCI HAR Dataset"
    for split, n in SIZES.items():
        (base / split / "Inertial Signals").mkdir(parents=True)
        for name in MODEL_CHANNELS:
            values = 0.3 * rng.standard_normal((n, 128))
            np.savetxt(
                base / split / "Inertial Signals" / f"{name}_{split}.txt", values, fmt=" %.7e"
            )
        np.savetxt(base / split / f"y_{split}.txt", rng.integers(1, 7, n), fmt="%d")
        np.savetxt(base / split / f"subject_{split}.txt", rng.integers(1, 31, n), fmt="%d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_full_size(root)
        megabytes = sum(p.stat().st_size for p in root.rglob("*.txt")) / 1e6
        start = time.perf_counter()
        windows = load_windows(root, cache_dir=None)
        parse_s = time.perf_counter() - start
        load_windows(root, cache_dir=root / "cache")
        start = time.perf_counter()
        load_windows(root, cache_dir=root / "cache")
        cached_s = time.perf_counter() - start
    print(f"UCI HAR full size: {len(windows)} windows, {megabytes:.0f} MB of text")
    print(f"  parse (no cache)   {parse_s:6.2f} s")
    print(f"  from cache         {cached_s:6.2f} s (includes hashing the inputs)")
    if args.save:
        figures = {
            "windows": len(windows),
            "text_mb": round(megabytes),
            "parse_s": round(parse_s, 2),
            "cached_s": round(cached_s, 2),
        }
        print(f"saved {save('uci_har_load', figures)}")


if __name__ == "__main__":
    main()
