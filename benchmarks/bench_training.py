"""Training speed of the `lstm` preset: looped vs unrolled graph, on this machine.

For each graph it trains the preset (seed 0, validation subjects 27–30) and reports the
first epoch (graph building included), the median time per later epoch, and the time until
validation accuracy first reaches the target.

    python benchmarks/bench_training.py [--epochs 300] [--target 0.93] [--save]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

from harlite.train.models import get_preset
from harlite.train.trainer import train

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"


def time_to_target(history: dict, target: float) -> float | None:
    elapsed = 0.0
    for seconds, accuracy in zip(history["epoch_seconds"], history["val_accuracy"], strict=True):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--target", type=float, default=0.93)
    parser.add_argument("--preset", default="lstm")
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    figures = {}
    for unroll in (False, True):
        config = get_preset(args.preset).config(epochs=args.epochs, unroll=unroll)
        with tempfile.TemporaryDirectory() as run_dir:
            result = train(config, args.data, run_dir, verbose=False)
            history = json.loads((Path(run_dir) / "history.json").read_text())
        name = "unrolled" if unroll else "looped"
        reached = time_to_target(history, args.target)
        figures[name] = {
            "first_epoch_s": round(history["epoch_seconds"][0], 2),
            "median_epoch_s": round(statistics.median(history["epoch_seconds"][1:]), 3),
            "total_s": round(result.seconds, 1),
            f"time_to_{args.target:.2f}_s": None if reached is None else round(reached, 1),
            "val_accuracy": round(result.report["accuracy"], 4),
            "best_epoch": result.best_epoch,
        }
        print(f"{name:>9}: {json.dumps(figures[name])}", flush=True)
    if args.save:
        figures.update(preset=args.preset, epochs=args.epochs, target=args.target)
        print(f"saved {save('training_' + args.preset, figures)}")


if __name__ == "__main__":
    main()
