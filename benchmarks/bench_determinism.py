"""Training determinism: the same seed and thread count give bit-identical runs; other seeds
and other thread counts give other weights. How far apart do the figures land?

Trains the `lstm` preset for a short schedule (default 25 epochs) per seed × thread count
(threads set by pinning the process to that many cores: TensorFlow sizes its pools from the
cores it may use), once more for the first configuration, and compares the validation
accuracy and a hash of the kept weights.

    python benchmarks/bench_determinism.py [--data ../shared/data/hapt] [--epochs 25] [--save]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save


def train(data: str, out: Path, seed: int, cores: int, epochs: int) -> dict:
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:cores])
    command = ["taskset", "-c", cpus, sys.executable, "-m", "harlite.cli", "train", "--data",
               data, "--out", str(out), "--epochs", str(epochs), "--seed", str(seed),
               "--quiet"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    record = json.loads(result.stdout.strip().splitlines()[-1])
    # Every epoch's losses and accuracies to full precision (not its seconds): equal hashes,
    # equal runs.
    history = json.loads((out / "history.json").read_text())
    history.pop("epoch_seconds", None)
    weights = hashlib.sha256(json.dumps(history, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "seed": seed,
        "threads": cores,
        "val_accuracy": round(record["accuracy"], 5),
        "best_epoch": record["best_epoch"],
        "history_sha256": weights,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/hapt")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument(
        "--repeat-only",
        action="store_true",
        help="only train the first seed on one core twice (is a run reproducible?)",
    )
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cores = [1, min(2, len(os.sched_getaffinity(0)))]
    runs = []
    with tempfile.TemporaryDirectory() as work:
        configs = [*itertools.product(seeds, cores), (seeds[0], cores[0])]  # the last: a repeat
        if args.repeat_only:
            configs = [(seeds[0], cores[0])] * 2
        for i, (seed, threads) in enumerate(configs):
            run = train(args.data, Path(work) / f"run{i}", seed, threads, args.epochs)
            runs.append(run)
            print(json.dumps(run))
    repeat_identical = runs[0]["history_sha256"] == runs[-1]["history_sha256"]
    accuracies = [r["val_accuracy"] for r in runs[:-1]]
    spread = max(accuracies) - min(accuracies)
    if args.repeat_only:
        verdict = "bit-identical" if repeat_identical else "DIFFERENT"
        print(f"seed {seeds[0]}, one core, trained twice: {verdict}")
        if args.save:
            print(f"saved {save('determinism_repeat', {'epochs': args.epochs, 'runs': runs})}")
        return
    print(
        f"same seed and threads, run twice: {'bit-identical' if repeat_identical else 'DIFFERENT'}"
    )
    print(
        f"{len(accuracies)} runs (seeds {args.seeds} × threads {cores}), {args.epochs} epochs: "
        f"validation accuracy {min(accuracies):.2%} … {max(accuracies):.2%} "
        f"(spread {spread * 100:.2f} points)"
    )
    if args.save:
        figures = {
            "epochs": args.epochs,
            "runs": runs,
            "repeat_bit_identical": repeat_identical,
            "accuracy_spread_points": round(spread * 100, 3),
        }
        print(f"saved {save('determinism', figures)}")


if __name__ == "__main__":
    main()
