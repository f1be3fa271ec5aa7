"""Model and hyperparameter search on validation subjects (never test subjects).

Each run trains one configuration with harlite's own trainer and appends one JSON line to
``benchmarks/results/search.jsonl``: the settings, validation accuracy, the SITTING/STANDING
recalls, best epoch and wall time. ``--summary`` prints the table of all runs so far.

    python benchmarks/search.py --preset lstm --set rotation_deg=10 --seeds 0,1,2
    python benchmarks/search.py --summary
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "search.jsonl"
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"


def parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def run(args: argparse.Namespace) -> None:
    if args.threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from harlite.train.models import get_preset
    from harlite.train.tf_setup import tensorflow
    from harlite.train.trainer import train

    tf = tensorflow()
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    overrides = dict(item.split("=", 1) for item in args.set)
    overrides = {k: parse_value(v) for k, v in overrides.items()}
    for seed in (int(s) for s in args.seeds.split(",")):
        config = get_preset(args.preset).config(seed=seed, **overrides)
        with tempfile.TemporaryDirectory() as tmp:
            run_dir = args.keep / f"{args.preset}-seed{seed}" if args.keep else tmp
            start = time.perf_counter()
            result = train(config, args.data, run_dir)
            seconds = time.perf_counter() - start
        ss = result.report.sitting_standing
        record = {
            "tag": args.tag,
            "preset": args.preset,
            "seed": seed,
            "settings": {k: v for k, v in config.to_dict().items() if k not in ("seed", "design")},
            "overrides": overrides,
            "val_subjects": list(config.val_subjects),
            "val_accuracy": round(result.report.accuracy, 4),
            "f1_weighted": round(result.report.f1_weighted, 4),
            "sitting_recall": round(ss["sitting_recall"], 4),
            "standing_recall": round(ss["standing_recall"], 4),
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "seconds": round(seconds, 1),
            "threads": args.threads,
            "parameters": result.report.parameters,
        }
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


def _differences(record: dict) -> dict:
    """The settings of a run that differ from TrainConfig's defaults (seed aside)."""
    from harlite.train.config import TrainConfig

    defaults = TrainConfig().to_dict()

    def plain(value):
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    return {
        k: plain(v)
        for k, v in record["settings"].items()
        if k not in ("preset", "val_subjects") and plain(defaults.get(k)) != plain(v)
    }


def summary() -> None:
    import statistics
    from collections import defaultdict

    groups = defaultdict(list)
    for line in RESULTS.read_text().splitlines():
        r = json.loads(line)
        key = (r["preset"], json.dumps(_differences(r), sort_keys=True), tuple(r["val_subjects"]))
        groups[key].append(r)
    print(
        f"{'preset':<10} {'settings (other than TrainConfig defaults)':<48} {'n':>2} "
        f"{'val acc':>8} {'sd':>6} {'sit':>6} "
        f"{'stand':>6} {'epoch':>5} {'s':>5}"
    )
    for (preset, overrides, _), runs in sorted(groups.items()):
        accs = [r["val_accuracy"] for r in runs]
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        print(
            f"{preset:<10} {overrides:<48} {len(runs):>2} {statistics.mean(accs):>8.2%} "
            f"{sd:>6.2%} {statistics.mean(r['sitting_recall'] for r in runs):>6.1%} "
            f"{statistics.mean(r['standing_recall'] for r in runs):>6.1%} "
            f"{statistics.mean(r['best_epoch'] for r in runs):>5.0f} "
            f"{statistics.mean(r['seconds'] for r in runs):>5.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lstm")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a TrainConfig field (repeatable)",
    )
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: all)")
    parser.add_argument("--tag", default="")
    parser.add_argument("--keep", type=Path, help="keep each run's folder under this folder")
    parser.add_argument("--summary", action="store_true", help="print the table and exit")
    args = parser.parse_args()
    if args.summary:
        summary()
    else:
        run(args)


if __name__ == "__main__":
    sys.exit(main())
