"""Training speed of a preset (default `lstm`): looped vs unrolled graph, on this machine.

Trains the preset for a few epochs with each graph (seed 0, validation subjects 27–30) and
reports the first epoch (graph building included) and the median time of the later epochs.
Time to reach the validation target is then the number of epochs a full run needed to reach
it (read from that run's ``history.json``, ``--history``) times each graph's epoch time: the
two graphs compute the same numbers, so they need the same epochs.

    python benchmarks/bench_training.py [--history RUN/history.json] [--epochs 30] [--save]
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


def epochs_to_target(history: dict, target: float) -> int | None:
    """First epoch (1-based) whose validation accuracy reaches ``target``."""
    for epoch, accuracy in enumerate(history["val_accuracy"], start=1):
        if accuracy >= target:
            return epoch
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--preset", default="lstm")
    parser.add_argument("--epochs", type=int, default=30, help="epochs timed per graph")
    parser.add_argument("--target", type=float, default=0.94, help="validation accuracy target")
    parser.add_argument(
        "--history",
        type=Path,
        help="history.json of a full run of the preset (default: train one, looped)",
    )
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    full = json.loads(args.history.read_text()) if args.history else None
    needed = epochs_to_target(full, args.target) if full else None
    figures: dict = {
        "preset": args.preset,
        "timed_epochs": args.epochs,
        "target": args.target,
        "epochs_to_target": needed,
    }
    for unroll in (False, True):
        # Without --history the looped run trains the preset's full length and supplies it.
        full_length = full is None and not unroll
        epochs = get_preset(args.preset).config().epochs if full_length else args.epochs
        config = get_preset(args.preset).config(epochs=epochs, unroll=unroll, patience=0)
        with tempfile.TemporaryDirectory() as run_dir:
            train(config, args.data, run_dir)
            history = json.loads((Path(run_dir) / "history.json").read_text())
        if full_length:
            full = history
            needed = figures["epochs_to_target"] = epochs_to_target(full, args.target)
        per_epoch = statistics.median(history["epoch_seconds"][1:])
        name = "unrolled" if unroll else "looped"
        figures[name] = {
            "first_epoch_s": round(history["epoch_seconds"][0], 2),
            "median_epoch_s": round(per_epoch, 3),
            "time_to_target_s": None
            if needed is None
            else round(history["epoch_seconds"][0] + (needed - 1) * per_epoch, 1),
            "time_for_300_epochs_s": round(history["epoch_seconds"][0] + 299 * per_epoch, 1),
        }
        print(f"{name:>9}: {json.dumps(figures[name])}", flush=True)
    print(f"epochs to reach {args.target:.0%} validation accuracy in the full run: {needed}")
    if args.save:
        print(f"saved {save('training_' + args.preset, figures)}")


if __name__ == "__main__":
    main()
