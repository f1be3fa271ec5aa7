"""Train a preset for shipping inside the package (``harlite/models/NAME/``).

1. Train with the preset's chosen settings on 17 subjects, validating on subjects 27–30:
   this run gives the honest figures (validation report, confusion matrix, curves) and the
   number of epochs to train for.
2. Train the same settings on all 21 training subjects for that many epochs (no subject
   left to select on, so the final weights are kept): this is the shipped model.

    python tools/ship_model.py PRESET [--data ../shared/data/hapt] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from harlite.atomic import atomic_dir
from harlite.shipped import MODELS_DIR
from harlite.train.models import get_preset
from harlite.train.trainer import train

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"


def parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    preset = get_preset(args.preset)
    overrides = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}
    config = preset.config(**overrides)

    with tempfile.TemporaryDirectory() as work:
        validation = train(config, args.data, Path(work) / "validation")
        epochs = validation.best_epoch
        final_config = config.override(epochs=epochs, val_subjects=(), select="last", patience=0)
        final = train(final_config, args.data, Path(work) / "final")
        with atomic_dir(MODELS_DIR / args.preset) as folder:
            for name in ("model.keras", "config.json", "history.json", "history.png"):
                shutil.copy(final.run_dir / name, folder / name)
            shutil.copy(final.run_dir / "report.json", folder / "training-report.json")
            for name in ("report.json", "report.txt", "confusion.png"):
                shutil.copy(validation.run_dir / name, folder / name)
            shutil.copy(validation.run_dir / "history.png", folder / "validation-history.png")
            info = {
                "name": args.preset,
                "description": preset.description,
                "trained_on_subjects": final.report["subjects"],
                "epochs": epochs,
                "validation": {
                    "subjects": validation.report["subjects"],
                    "accuracy": validation.report["accuracy"],
                    "f1_weighted": validation.report["f1_weighted"],
                    "best_epoch": validation.best_epoch,
                    "note": "figures of the same settings trained without the validation "
                    "subjects; the shipped weights were then trained on all 21 subjects",
                },
                "train_seconds": round(final.seconds, 1),
            }
            (folder / "model-info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
