"""Cross-validated figures of a preset, per placement, class and person, as shipped.

Runs (or resumes) ``harlite train --folds K`` on the default model's data, then, per fold,
converts the fold's model to the bundle artefacts a device runs (TFLite float32 and full
integer int8) and runs them, through the device runtime, on the people the fold held out:

- ``keras``: the Keras model's own answer; ``float32``/``int8``: the artefacts' answers as
  ``harlite stream`` gives them (the placement rule run over each recording in time order);
- ``unlike_training``: how the runtime's "unlike training" check (the fold's own training
  domain) and its "unsure" flag (top probability below the runtime's floor) flag the
  held-out windows the stream answers wrongly and those it answers right.

Writes ``benchmarks/results/crossval_PRESET.json`` with ``--save``; ``python
tools/figures.py`` shows it in the README and docs.

    python benchmarks/bench_crossval.py --preset lstm --folds 4 --engine ray --workers 2 --save
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harlite.atomic import write_text_atomic  # noqa: E402
from harlite.runtime.model.bundle import Bundle  # noqa: E402
from harlite.runtime.model.unsure import UNSURE_BELOW, unsure  # noqa: E402
from harlite.runtime.signal.domain_check import TrainingDomain  # noqa: E402
from harlite.runtime.signal.placement import POCKET_SWING_RAD_S  # noqa: E402
from harlite.train.crossval import cross_validate, save_predictions  # noqa: E402
from harlite.train.crossval_report import (  # noqa: E402
    HeldOut,
    crossval_summary,
    summarize,
    write_summary,
)
from harlite.train.datasets import load_windows  # noqa: E402
from harlite.train.models import get_preset  # noqa: E402

DEFAULT_DATA = REPO / "benchmarks" / "datasets" / "anywhere.toml"
RESULTS = REPO / "benchmarks" / "results"
ARTIFACTS = ("float32", "int8")


def convert_fold(fold_dir: Path, data: Path) -> Bundle:
    """The fold's bundle (float32 and int8), converted once."""
    from harlite.convert.bundle_writer import convert_model

    bundle_dir = fold_dir / "bundle"
    if not (bundle_dir / "manifest.json").exists():
        convert_model(fold_dir, bundle_dir, data, formats=ARTIFACTS)
    return Bundle.open(bundle_dir)


def is_current(path: Path) -> bool:
    """Whether a fold's predictions file holds everything a report reads (an older harlite's
    is answered again)."""
    with np.load(path, allow_pickle=False) as data:
        return not HeldOut.lacks(data.files)


def artefact_predictions(fold_dir: Path, data: Path, windows) -> dict[str, np.ndarray]:
    """Each artefact's probabilities on the fold's held-out windows, and the windows the
    runtime's domain check calls unlike the fold's training data."""
    config = json.loads((fold_dir / "config.json").read_text())
    held = windows.select(np.isin(windows.subject, config["val_subjects"]))
    bundle = convert_fold(fold_dir, data)
    for name in ARTIFACTS:
        path = fold_dir / f"predictions_{name}.npz"
        if not path.exists() or not is_current(path):
            model = bundle.load_model(name)
            probabilities = np.concatenate(
                [model.predict(held.X[i : i + 1]) for i in range(len(held))]
            )
            save_predictions(path, held, probabilities)
    domain = TrainingDomain.from_dict(bundle.manifest["training_domain"])
    return {
        "unlike": domain.judge(held.X).unlike,
        "key": np.stack([held.subject, held.experiment, held.start], axis=1),
    }


def unlike_training(folder: Path, flags: list[dict[str, np.ndarray]]) -> dict:
    """Per placement: the share of wrongly and of rightly answered windows the runtime flags:
    as unlike training (gravity), as unsure (top probability), and either."""
    held = HeldOut.load(folder, "predictions_float32.npz").with_placement_rule()
    unlike = np.zeros(len(held.y), bool)
    keys = np.stack([held.subject, held.experiment, held.start], axis=1)
    index = {tuple(key): i for i, key in enumerate(keys.tolist())}
    for fold in flags:
        for flag, key in zip(fold["unlike"], fold["key"].tolist(), strict=True):
            unlike[index[tuple(key)]] = flag
    hesitant = unsure(held.probabilities)
    wrong = held.predicted != held.y
    out = {}
    for placement in sorted({str(p) for p in held.placement}):
        mine = held.placement == placement
        out[placement] = {"wrong_windows": int((mine & wrong).sum()),
                          "right_windows": int((mine & ~wrong).sum())}  # fmt: skip
        for name, flagged in (("", unlike), ("unsure_", hesitant), ("either_", unlike | hesitant)):
            out[placement][f"{name}flagged_of_wrong"] = _share(flagged[mine & wrong])
            out[placement][f"{name}flagged_of_right"] = _share(flagged[mine & ~wrong])
    return out


def _share(flags: np.ndarray) -> float | None:
    return round(float(flags.mean()), 4) if len(flags) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lstm")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--workers", type=int)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preset setting (JSON value), e.g. placement_aug=0",
    )
    parser.add_argument("--out", type=Path, help="default runs/crossval/PRESET")
    parser.add_argument("--name", help="results name (default: the preset)")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    overrides = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)}
    config = get_preset(args.preset).config(unroll=True, **overrides)
    name = args.name or args.preset
    out = args.out or REPO / "runs" / "crossval" / name
    started = time.perf_counter()
    folds = cross_validate(config, args.data, out, args.folds, engine=args.engine,
                           workers=args.workers, log=print)  # fmt: skip
    summary = crossval_summary(out)
    write_summary(out, summary)
    windows = load_windows(args.data, config.design, config.window, config.hop)
    flags = [artefact_predictions(out / f"fold{f.index:02d}", args.data, windows) for f in folds]
    result = {
        "preset": args.preset,
        "overrides": overrides,
        "command": "python benchmarks/bench_crossval.py " + " ".join(sys.argv[1:]),
        "data": os.path.relpath(args.data.resolve(), REPO),
        "k": summary["k"],
        "folds": summary["folds"],
        "config": summary["config"],
        "min_class_windows": summary["min_class_windows"],
        "train_seconds": [f.seconds for f in folds],
        "keras": summary["model"],
        "keras_stream": summary["stream"],
        **{
            name: summarize(HeldOut.load(out, f"predictions_{name}.npz").with_placement_rule())
            for name in ARTIFACTS
        },
        "unlike_training": unlike_training(out, flags),
        "unsure_below": UNSURE_BELOW,
        "placement_rule": {"pocket_swing_rad_s": POCKET_SWING_RAD_S},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps({k: result[k] for k in ("float32", "int8")}, indent=1)[:3000])
    if args.save:
        write_text_atomic(RESULTS / f"crossval_{name}.json", json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
