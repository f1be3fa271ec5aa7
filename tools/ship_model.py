"""Train a preset and ship it inside the package as a bundle (``harlite/models/NAME/``).

1. Train the preset's chosen settings on 17 subjects, validating on subjects 27–30: the
   honest figures (validation report, curves, confusion matrix), the number of epochs to
   train for, and the accuracy each converted artefact keeps on held-out subjects.
2. Train the same settings on all 21 training subjects for that many epochs and convert the
   result into the shipped bundle; the run's files go into the bundle's ``training/``.

    python tools/ship_model.py PRESET [--data ../shared/data/hapt] [--formats ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from harlite.convert.bundle_writer import convert_model
from harlite.shipped import MODELS_DIR
from harlite.train.config import TrainConfig
from harlite.train.datasets import windows_for_model
from harlite.train.evaluation import EvaluationReport, evaluate_keras
from harlite.train.models import get_preset, load_model
from harlite.train.trainer import TrainResult, train

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"
TRAINING_FILES = ("config.json", "history.json", "history.png")
VALIDATION_FILES = ("report.json", "report.txt", "confusion.png")


def reuse_run(run_dir: Path, config: TrainConfig) -> TrainResult:
    """A finished validation run of exactly ``config`` (seed aside), as a TrainResult."""
    kept = TrainConfig.load(run_dir / "config.json")
    resolved = {"seed": config.seed, "labels": config.labels, "val_subjects": config.val_subjects}
    if replace(kept, **resolved) != config:
        raise SystemExit(f"{run_dir} was trained with other settings than the preset's")
    report = EvaluationReport.from_dict(json.loads((run_dir / "report.json").read_text()))
    return TrainResult(
        run_dir,
        report,
        report.best_epoch,
        report.epochs_run,
        report.train_seconds,
        report.interrupted,
    )


def by_placement(run_dir: Path, data: Path) -> dict[str, dict]:
    """The validation run's accuracy on its validation subjects, placement by placement."""
    config = TrainConfig.load(run_dir / "config.json")
    windows = windows_for_model(data, config)
    windows = windows.select(np.isin(windows.subject, config.val_subjects or ()))
    model = load_model(run_dir / "model.keras")
    figures = {}
    for placement in sorted(set(windows.placement.tolist())):
        part = windows.select(windows.placement == placement)
        report = evaluate_keras(model, part)
        figures[placement or "unknown"] = {
            "subjects": part.subjects,
            "windows": len(part),
            "accuracy": report.accuracy,
            "recall": {label: round(v["recall"], 4) for label, v in report.per_class.items()},
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--formats", default="keras,float32,dynamic,int8")
    parser.add_argument(
        "--validation-run",
        type=Path,
        help="reuse this finished validation run of the same settings",
    )
    args = parser.parse_args()
    preset = get_preset(args.preset)
    config = preset.config()
    formats = tuple(args.formats.split(","))

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if args.validation_run:
            validation = reuse_run(args.validation_run, config)
        else:
            validation = train(config, args.data, work / "validation")
        held_out = convert_model(
            validation.run_dir, work / "validation-bundle", args.data, formats=formats
        )
        epochs = validation.best_epoch
        final_config = config.override(epochs=epochs, val_subjects=(), select="last", patience=0)
        final = train(final_config, args.data, work / "final")
        target = MODELS_DIR / args.preset
        manifest = convert_model(final.run_dir, target, args.data, formats=formats)

        training = target / "training"
        training.mkdir()
        for name in TRAINING_FILES:
            shutil.copy(final.run_dir / name, training / name)
        for name in VALIDATION_FILES:
            shutil.copy(validation.run_dir / name, training / f"validation-{name}")
        shutil.copy(validation.run_dir / "history.png", training / "validation-history.png")
        info = {
            "name": args.preset,
            "description": preset.description,
            "trained_on_subjects": final.report.subjects,
            "epochs": epochs,
            "train_seconds": round(final.seconds, 1),
            "validation": {
                "note": "the same settings trained without the validation subjects and "
                "evaluated on them (HAPT's 27-30; in a mixture, every part's own); the shipped "
                "weights were then trained on every training subject",
                "subjects": validation.report.subjects,
                "accuracy": validation.report.accuracy,
                "by_placement": by_placement(validation.run_dir, args.data),
                "f1_weighted": validation.report.f1_weighted,
                "sitting_standing": validation.report.sitting_standing,
                "best_epoch": validation.best_epoch,
                "artifacts": {
                    name: {k: entry[k] for k in ("size", "val_accuracy", "keras_agreement")}
                    for name, entry in held_out["artifacts"].items()
                },
            },
            "shipped_artifacts": {
                name: {"size": entry["size"]} for name, entry in manifest["artifacts"].items()
            },
        }
        (training / "model-info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
