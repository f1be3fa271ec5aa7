"""Run the benchmark suite: preprocessing, inference, streaming (speed and memory), stream
accuracy, UCI HAR loading, and with --training the training benchmark (about 12 minutes).

    python benchmarks/run_suite.py [--save] [--training]

Then `python benchmarks/compare.py` shows each figure against the committed baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SUITE = [
    ["bench_preprocessing.py"],
    ["bench_inference.py"],
    ["bench_stream.py"],
    ["bench_speed.py"],
    ["bench_stream_accuracy.py"],
    ["bench_uci_har_load.py"],
    ["bench_udp.py"],
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    parser.add_argument("--training", action="store_true", help="include bench_training.py")
    args = parser.parse_args()
    suite = SUITE + ([["bench_training.py"]] if args.training else [])
    failed = []
    for script, *options in suite:
        command = [sys.executable, str(HERE / script), *options] + (["--save"] if args.save else [])
        print(f"=== {script}", flush=True)
        if subprocess.run(command).returncode != 0:
            failed.append(script)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
