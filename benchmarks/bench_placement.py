"""Figures per placement: how each model does on a phone at the waist and in a trouser pocket.

- **Pocket** (sp-sw, subjects held out from every model's training and model selection: s11,
  s19, s21, s23; `benchmarks/datasets/sp-sw-har.toml`): windows built by the device's own path
  from the recordings as they are (no rotation, no placement flag), run through each model's
  default TFLite artefact by the runtime interpreter, a window every 16 samples (0.32 s:
  more, overlapping windows than a stream's 64, for steadier shares). Per pocket orientation
  (front, back, back_inv as recorded; front_inv is not among the subjects we hold, so it is
  measured on the front recordings turned half a turn about the screen's normal, which is
  what front_inv is: labelled as such):
  - walking: windows whose every sample is walking or turning: share predicted WALKING (and
    any of the three walking classes);
  - seated: windows more than half of whose samples are seated (segments are shorter than
    a window): what the model answers, as shares. No threshold: a thigh is horizontal both
    sitting and lying, so SITTING and LAYING cannot be told apart from a pocket.
  - the share of windows the runtime's training-domain check calls unlike training.
- **Waist** (HAPT validation subjects 27–30): the accuracy of each model's training recipe
  trained without those subjects (the shipped weights were then trained on all 21), from
  the bundle's training record; with ``--validation-bundle``, also measured here on that
  bundle's default artefact.

    python benchmarks/bench_placement.py [--models lstm,cnn,resbilstm]
        [--validation-bundle DIR] [--baseline NAME=DIR] [--save]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, save

from harlite.runtime.model.bundle import Bundle
from harlite.shipped import resolve_path_or_name
from harlite.train.datasets import load_windows
from harlite.train.recording_set import read_recording_set

HERE = Path(__file__).resolve().parent
POCKET = HERE / "datasets" / "sp-sw-har.toml"
HAPT = HERE.parents[1] / "shared" / "data" / "hapt"
HAPT_VAL = (27, 28, 29, 30)
WALKING_CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
#: Half a turn about the screen's normal (z): x and y change sign, in every xyz triplet.
HALF_TURN_Z = np.array([-1, -1, 1] * 3, dtype=np.float32)


def orientations(root: Path) -> dict[str, str]:
    """Execution id (``s21_03``) → pocket orientation, from sp-sw's executions_info.csv."""
    with (root / "executions_info.csv").open(newline="") as handle:
        return {row["execution_id"]: row["orientation"] for row in csv.DictReader(handle)}


def pocket_windows(bundle: Bundle, rule: str, hop: int):
    """(windows, per-window orientation) of the held-out sp-sw subjects, labelled by ``rule``."""
    data = read_recording_set(
        POCKET,
        bundle.design,
        bundle.window,
        hop,
        bundle.labels,
        require_every_class=False,
        window_label=rule,
    )
    held_out = set(data.test_subjects)
    windows = data.windows.select(np.isin(data.windows.subject, sorted(held_out)))
    where = orientations(data.settings.source.parent / data.settings.recordings)
    names = {
        i + 1: Path(r.name).name.removesuffix("_sp.csv") for i, r in enumerate(data.recordings)
    }
    orientation = np.array([where[names[int(e)]] for e in windows.experiment])
    return windows, orientation, sorted(held_out)


def shares(labels: list[str], predicted: np.ndarray) -> dict[str, float]:
    counts = np.bincount(predicted, minlength=len(labels)) / max(len(predicted), 1)
    return {label: round(float(c), 4) for label, c in zip(labels, counts, strict=True) if c}


def pocket_figures(bundle: Bundle, hop: int) -> dict:
    model = bundle.load_tflite()
    labels = bundle.labels
    walking_code = labels.index("WALKING")
    moving_codes = [labels.index(c) for c in WALKING_CLASSES if c in labels]
    uniform, orientation, subjects = pocket_windows(bundle, "uniform", hop)
    majority, seated_orientation, _ = pocket_windows(bundle, "majority", hop)
    cases = {
        o: (uniform.X[orientation == o], majority.X[seated_orientation == o])
        for o in ("front", "back", "back_inv")
    }
    front = cases["front"]
    cases["front_inv (front turned 180° about z)"] = (
        front[0] * HALF_TURN_Z,
        front[1] * HALF_TURN_Z,
    )
    walking_mask = uniform.y == walking_code
    seated_code = labels.index("SITTING")
    out = {"subjects": [f"s{s:02d}" for s in subjects], "hop": hop, "orientations": {}}
    for name, (walk_all, seat_all) in cases.items():
        key = name.split(" ")[0]
        mask = (
            walking_mask[orientation == key]
            if key != "front_inv"
            else walking_mask[orientation == "front"]
        )
        seat_labels = majority.y[seated_orientation == ("front" if key == "front_inv" else key)]
        walk = walk_all[mask]
        seat = seat_all[seat_labels == seated_code]
        row: dict = {"walking_windows": len(walk), "seated_windows": len(seat)}
        if len(walk):
            predicted = model.predict(walk).argmax(axis=1)
            row["walking_as_WALKING"] = round(float((predicted == walking_code).mean()), 4)
            row["walking_as_any_walking_class"] = round(
                float(np.isin(predicted, moving_codes).mean()), 4
            )
            row["walking_predictions"] = shares(labels, predicted)
        if len(seat):
            row["seated_predictions"] = shares(labels, model.predict(seat).argmax(axis=1))
        if bundle.domain is not None:
            every = np.concatenate([walk, seat])
            row["unlike_training"] = round(float(bundle.domain.judge(every).unlike.mean()), 4)
        out["orientations"][name] = row
    return out


def waist_figures(bundle: Bundle) -> dict:
    """The held-out waist accuracy of ``bundle``'s recipe, as its training record gives it:
    the cross-validation's (a results file named) or the validation run's (27–30)."""
    info_path = bundle.path / "training" / "model-info.json"
    if not info_path.is_file():
        return {}
    validation = json.loads(info_path.read_text()).get("validation", {})
    waist = validation.get("by_placement", {}).get("waist")
    if waist is not None:  # per placement: a mixture's or a cross-validation's waist people
        return {
            "subjects": waist["subjects"],
            "accuracy_trained_without_them": waist["accuracy"],
            "crossval": validation.get("crossval"),
        }
    return {
        "subjects": validation.get("subjects"),
        "accuracy_trained_without_them": validation.get("accuracy"),
    }


def measured_waist(bundle: Bundle) -> dict:
    """Accuracy of ``bundle``'s default artefact on the HAPT validation subjects."""
    windows = load_windows(HAPT)
    windows = windows.select(np.isin(windows.subject, HAPT_VAL))
    predicted = bundle.load_tflite().predict(windows.X).argmax(axis=1)
    unlike = bundle.domain.judge(windows.X).unlike.mean() if bundle.domain else None
    return {
        "subjects": list(HAPT_VAL),
        "windows": len(windows),
        "accuracy": round(float((predicted == windows.y).mean()), 4),
        "unlike_training": None if unlike is None else round(float(unlike), 4),
    }


ORDER = ("front", "back", "back_inv", "front_inv (front turned 180° about z)")


def _crossvalidated(figures: dict) -> str:
    """The cross-validated models and the results files their waist figures come from."""
    files = {n: m.get("waist", {}).get("crossval") for n, m in figures["models"].items()}
    return ", ".join(f"`{n}`: benchmarks/results/{f}" for n, f in files.items() if f) or "none"


def _pct(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def markdown(figures: dict) -> str:
    """The figures as the Markdown page benchmarks/results/placement.md."""
    rows = []
    entries = [(name, entry) for name, entry in figures["models"].items()]
    entries += [(f"{name} (before)", entry) for name, entry in figures.get("baselines", {}).items()]
    if "validation_bundle" in figures:
        entries.append(("lstm validation run", figures["validation_bundle"]))
    for name, entry in entries:
        pocket = entry["pocket"]["orientations"]
        waist = entry.get("waist", {})
        accuracy = waist.get("accuracy_trained_without_them", waist.get("accuracy"))
        walking = [_pct(pocket[o].get("walking_as_WALKING")) for o in ORDER]
        seated: dict[str, float] = {}
        counted = 0
        for o in ORDER[:3]:
            n = pocket[o]["seated_windows"]
            counted += n
            for label, share in pocket[o].get("seated_predictions", {}).items():
                seated[label] = seated.get(label, 0.0) + share * n
        seated_text = ", ".join(
            f"{label} {v / counted:.0%}"
            for label, v in sorted(seated.items(), key=lambda kv: -kv[1])
        )
        unlike = [pocket[o].get("unlike_training") for o in ORDER[:3]]
        unlike_text = "–" if None in unlike else "/".join(f"{100 * u:.0f}%" for u in unlike)
        rows.append(
            f"| {name} | {_pct(accuracy)} | {' | '.join(walking)} | "
            f"{seated_text or '–'} ({counted}) | {unlike_text} |"
        )
    any_pocket = next(iter(figures["models"].values()))["pocket"]
    counts = ", ".join(
        f"{o.split(' ')[0]} {any_pocket['orientations'][o]['walking_windows']}" for o in ORDER
    )
    return (
        "# Figures per placement\n\n"
        f"Measured {figures.get('date', '')} by `python benchmarks/bench_placement.py --save` "
        "(the models' default float32 TFLite artefacts, run by the device runtime on windows "
        "the device path builds from the recordings as they are).\n\n"
        "- **Waist**: held-out accuracy on HAPT's people of each model's recipe: on subjects "
        "27–30 trained without them, or, for a cross-validated model, the mean over "
        f"all 21 training subjects each held out once ({_crossvalidated(figures)}); "
        "the shipped weights then saw every training subject.\n"
        f"- **Pocket**: sp-sw subjects {', '.join(any_pocket['subjects'])}, held out of "
        "training and model selection; a window every "
        f"{any_pocket['hop']} samples. Walking: windows whose every sample is walking or "
        f"turning ({counts} windows), share answered WALKING. front_inv is not among the "
        "subjects we hold: it is the front recordings turned half a turn about the screen's "
        "normal (what front_inv is). Seated: windows more than half of whose samples are "
        "seated (segments are shorter than a window), what the model answers, no threshold "
        "(from a pocket SITTING and LAYING look alike: docs/placement.md). Unlike training: "
        "the share of those windows the runtime's domain check flags (front/back/back_inv).\n\n"
        "| model | waist: held out | pocket walking: front | back | back_inv | front_inv "
        "(turned) | pocket seated (windows) | unlike training |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="lstm,cnn,resbilstm")
    parser.add_argument("--validation-bundle", type=Path)
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also measure an older bundle for comparison (e.g. the lstm before this release)",
    )
    parser.add_argument(
        "--hop", type=int, default=16, help="samples between pocket windows (more, overlapping)"
    )
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    figures: dict = {"models": {}}
    for name in args.models.split(","):
        bundle = Bundle.open(resolve_path_or_name(name))
        entry = {
            "placements": bundle.domain.placements if bundle.domain else None,
            "artifact": bundle.artifact().name,
            "waist": waist_figures(bundle),
            "pocket": pocket_figures(bundle, args.hop),
        }
        figures["models"][name] = entry
        print(name, json.dumps(entry, indent=1))
    for spec in args.baseline:
        name, _, folder = spec.partition("=")
        bundle = Bundle.open(folder)
        figures.setdefault("baselines", {})[name] = {"pocket": pocket_figures(bundle, args.hop)}
        print(name, json.dumps(figures["baselines"][name], indent=1))
    if args.validation_bundle:
        bundle = Bundle.open(args.validation_bundle)
        figures["validation_bundle"] = {
            "path": str(args.validation_bundle),
            "waist": measured_waist(bundle),
            "pocket": pocket_figures(bundle, args.hop),
        }
        print("validation bundle", json.dumps(figures["validation_bundle"], indent=1))
    if args.save:
        path = save("placement", figures)
        figures["date"] = json.loads(path.read_text())["date"]
        (RESULTS / "placement.md").write_text(markdown(figures))
        print(f"saved {path.relative_to(RESULTS.parent.parent)} and placement.md")


if __name__ == "__main__":
    main()
