"""Train a preset and ship it inside the package as a bundle (``harlite/models/NAME/``).

With ``--crossval RESULTS`` (the way every shipped model is chosen now): the figures are the
cross-validation's (``benchmarks/bench_crossval.py --save``: every person held out once,
per placement, class and person), and the preset's settings are trained on every training
person for the preset's epochs, keeping the last weights (or the mean of the last epochs'
with ``average_epochs``), as each fold did. Results whose recipe is not the preset's today
(made before the preset changed) are refused, and so is a final run that reads a person it
trained on further below their held-out figure than ``MAX_FIT_SHORTFALL`` points (and
``MIN_FIT_SHORTFALL_WINDOWS`` windows): one training
run can land badly, so ``--seeds`` trains seed after seed until a run passes (judged on the
training people alone; the refused seeds are recorded in ``model-info.json``), and when none
does the shipped model is left as it was.

Without it (the earlier way): 1. train on 17 subjects, validating on subjects 27–30, for
the figures and the number of epochs; 2. train on all 21 subjects for that many epochs.
Either way the result is converted into the shipped bundle; the run's files go into the
bundle's ``training/``.

    python tools/ship_model.py PRESET [--data DATA] [--crossval RESULTS [--seeds 0,1,2]]
                                      [--final-run RUN]
    python tools/ship_model.py PRESET --record-crossval RESULTS   # no training

``--record-crossval`` records the cross-validation of a model shipped before it was
cross-validated in its ``model-info.json`` (``harlite models list`` then shows the held-out
people's figures, worst person included), keeping the validation run it was shipped with;
for a model shipped by cross-validation it records that same results file's figures again,
once its folds were answered anew (a newer placement rule).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from harlite.atomic import write_text_atomic
from harlite.convert.bundle_writer import convert_model
from harlite.shipped import MODELS_DIR
from harlite.train.config import TrainConfig
from harlite.train.datasets import windows_for_model
from harlite.train.evaluation import EvaluationReport, evaluate_keras
from harlite.train.models import get_preset, load_model
from harlite.train.trainer import TrainResult, train

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hapt"
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
TRAINING_FILES = ("config.json", "history.json", "history.png")
#: How far (points) the final run may read a person it trained on below the cross-validation
#: model that never saw them. One final run of the default recipe with the time warp read
#: some of its own training people's standing as sitting, 10-20 points (dozens of windows)
#: below their held-out figures.
MAX_FIT_SHORTFALL = 5.0
#: ... and by at least this many of their windows: one window is 3 points of an sp-sw person
#: with 33, and a window or two near a class boundary says nothing about the run.
MIN_FIT_SHORTFALL_WINDOWS = 5
#: The fit rule in words, for every refusal that cites it.
FIT_RULE = (
    f"more than {MAX_FIT_SHORTFALL:g} points and {MIN_FIT_SHORTFALL_WINDOWS} windows below "
    "the cross-validation did without them"
)
#: What a refusal leaves behind.
NOT_SHIPPED = "Not shipped: the shipped model is left as it was."
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


def fit_shortfalls(
    seen: dict[int, float], held_out: dict[int, float], windows: dict[int, int]
) -> dict[int, tuple]:
    """The people the final run (``seen``: accuracy per person it trained on, ``windows``:
    how many windows each has) reads more than :data:`MAX_FIT_SHORTFALL` points and at least
    :data:`MIN_FIT_SHORTFALL_WINDOWS` windows below the cross-validation did with them held
    out: person → (seen, held out), in percent. Counted in whole windows (the held-out
    figures are rounded), so a boundary case is not decided by rounding."""
    short = {}
    for person, accuracy in held_out.items():
        if person not in seen:
            continue
        missed = round((accuracy - seen[person]) * windows[person])
        if (
            missed * 100 > MAX_FIT_SHORTFALL * windows[person]
            and missed >= MIN_FIT_SHORTFALL_WINDOWS
        ):
            short[person] = (round(100 * seen[person], 1), round(100 * accuracy, 1))
    return short


def final_fit_shortfalls(run: Path, data: Path, results: dict) -> dict[int, tuple]:
    """:func:`fit_shortfalls` of a final run on every training person: the Keras model's
    answers for the people it trained on against the folds' for the same people held out."""
    config = TrainConfig.load(run / "config.json")
    report = evaluate_keras(load_model(run / "model.keras"), windows_for_model(data, config))
    seen = {int(s): figures["accuracy"] for s, figures in report.per_subject.items()}
    windows = {int(s): figures["windows"] for s, figures in report.per_subject.items()}
    held_out = {int(p): a for part in results["keras"].values() for p, a in part["people"].items()}
    unseen = sorted(set(held_out) - set(seen))
    if unseen:  # other data than the cross-validation's: nobody would be judged
        raise SystemExit(
            f"{run} was not trained on every person the cross-validation held out (none of "
            f"{', '.join(f'#{p}' for p in unseen[:8])}{' …' if len(unseen) > 8 else ''} in "
            f"{data}): give --data {results['data']}"
        )
    return fit_shortfalls(seen, held_out, windows)


def describe_shortfalls(short: dict[int, tuple]) -> str:
    """``#person seen% (held out held%)``, person by person."""
    return ", ".join(f"#{p} {s}% (held out {h}%)" for p, (s, h) in sorted(short.items()))


def fitting_final_run(
    config: TrainConfig, data: Path, results: dict, seeds: tuple[int, ...], work: Path
) -> tuple[Path, dict[int, dict]]:
    """Train ``config`` on every training person with each seed in turn until a run fits its
    own training people (one training run can land badly; which seed does is judged on the
    training people only). Returns that run and, per seed refused before it, its shortfalls;
    exits when every seed is refused, leaving the shipped model as it was."""
    refused: dict[int, dict] = {}
    for seed in seeds:
        run = work / f"final-seed{seed}"
        if train(config.override(seed=seed), data, run).interrupted:
            raise SystemExit(f"seed {seed}: training interrupted. Not shipped.")
        short = final_fit_shortfalls(run, data, results)
        if not short:
            return run, refused
        refused[seed] = short
        print(f"seed {seed}: refused, {describe_shortfalls(short)}", file=sys.stderr)
    raise SystemExit(
        f"every final run reads people it trained on {FIT_RULE}: "
        + "; ".join(f"seed {seed}: {describe_shortfalls(s)}" for seed, s in refused.items())
        + f". {NOT_SHIPPED}"
    )


def kept_final_run(run: Path, config: TrainConfig, data: Path, results: dict) -> Path:
    """``--final-run``: a finished run of the preset's settings (any seed) on every training
    person, refused where it does not fit its own training people."""
    kept = TrainConfig.load(run / "config.json")
    if replace(kept, labels=config.labels, unroll=config.unroll, seed=config.seed) != config:
        raise SystemExit(f"{run} was trained with other settings than the preset's")
    report = json.loads((run / "report.json").read_text())
    if report.get("interrupted") or report.get("epochs_run") != config.epochs:
        raise SystemExit(f"{run} stopped before its {config.epochs} epochs: not a final run")
    short = final_fit_shortfalls(run, data, results)
    if short:
        raise SystemExit(
            f"{run}: the final run reads people it trained on {FIT_RULE}: "
            f"{describe_shortfalls(short)}. {NOT_SHIPPED}"
        )
    return run


def parse_seeds(text: str | None, default: int) -> tuple[int, ...]:
    """``--seeds 0,1,2`` as a tuple (none given: the preset's own seed), or a clear exit."""
    if text is None:
        return (default,)
    try:
        seeds = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SystemExit(f"--seeds: comma-separated whole numbers, not {text!r}") from None
    if any(not 0 <= seed < 2**32 for seed in seeds):
        raise SystemExit(f"--seeds: each seed lies in 0..2**32 - 1, not {text!r}")
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"--seeds: {text!r} repeats a seed")
    return seeds


def crossval_record(results: dict, name: str) -> dict:
    """The model-info ``validation`` entry of cross-validation results ``name``: per
    placement, the mean over held-out people and the worst person (float32, as the device
    answers)."""
    float32 = results["float32"]
    return {
        "note": f"{results['k']}-fold leave-people-out cross-validation of these "
        "settings (every training person held out once, answered through the device "
        f"runtime); figures: {name}, means over people",
        "crossval": name,
        "accuracy": float32.get("waist", next(iter(float32.values())))["accuracy"]["mean"],
        "by_placement": {
            placement: {
                "accuracy": f["accuracy"]["mean"],
                "worst": f["accuracy"]["worst"],
                "subjects": sorted(int(p) for p in f["people"]),
            }
            for placement, f in float32.items()
        },
    }


#: The settings that make a recipe; the rest say how one run was held out and kept.
RUN_SETTINGS = ("epochs", "seed", "val_subjects", "patience", "select", "unroll", "labels")


def recipe_differences(ran: dict, other: dict) -> dict[str, tuple]:
    """The recipe settings in which two runs' configs differ, as {setting: (ran, other)};
    a setting an older config lacks did not exist yet, so it had its default (the behaviour
    from before it existed)."""
    defaults = TrainConfig().to_dict()

    def value(config: dict, key: str):
        return config.get(key, defaults.get(key))

    keys = sorted((set(ran) | set(other)) - set(RUN_SETTINGS))
    return {k: (value(ran, k), value(other, k)) for k in keys if value(ran, k) != value(other, k)}


def load_results(path: Path, preset: str) -> dict:
    """Cross-validation results of ``preset`` from benchmarks/results/, or a clear exit."""
    if path.resolve().parent != RESULTS.resolve():
        raise SystemExit(f"{path}: cross-validation results live in {RESULTS}")
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"{path}: {error}") from None
    if results.get("preset") != preset:
        raise SystemExit(f"{path} cross-validated {results.get('preset')!r}, not {preset!r}")
    if not results.get("float32"):
        raise SystemExit(f"{path} holds no figures")
    return results


def record_crossval(preset: str, results_path: Path) -> dict:
    """Record a cross-validation of an already shipped model's recipe in its model-info,
    without retraining: its ``validation`` becomes the cross-validation's, and the
    validation run it was shipped with is kept as ``validation_run``. A model shipped by
    cross-validation gets the figures of the same results file again (its folds answered
    anew, e.g. by a newer placement rule). Refused where the recipes differ or a model
    shipped by one cross-validation is offered another."""
    results = load_results(results_path, preset)
    training = MODELS_DIR / preset / "training"
    info = json.loads((training / "model-info.json").read_text())
    shipped = json.loads((training / "config.json").read_text())
    differ = recipe_differences(results["config"], shipped)
    if differ:
        raise SystemExit(f"{results_path} cross-validated another recipe: {differ}")
    record = crossval_record(results, results_path.name)
    shipped_by = info.get("validation", {}).get("crossval")
    if "validation_run" in info or shipped_by is None:  # shipped before it was cross-validated
        info.setdefault("validation_run", info.get("validation"))
        kept = results["config"].get("average_epochs") or 0
        record["note"] += (
            f"; the shipped weights were trained before it ({info['epochs']} epochs, "
            f"validation_run), each fold for {results['config']['epochs']} epochs keeping "
            + (f"the mean of the last {kept} epochs' weights" if kept else "the last weights")
        )
    elif shipped_by != results_path.name:
        raise SystemExit(
            f"{preset} was shipped by cross-validation ({shipped_by}): ship it with --crossval"
        )
    info["validation"] = record
    write_text_atomic(training / "model-info.json", json.dumps(info, indent=2) + "\n")
    return info


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
    parser.add_argument(
        "--crossval",
        type=Path,
        help="the cross-validation results (benchmarks/results/crossval_PRESET.json) that "
        "chose these settings: no validation run; train on everyone",
    )
    parser.add_argument(
        "--final-run",
        type=Path,
        help="with --crossval: reuse this finished run on every training person (any seed)",
    )
    parser.add_argument(
        "--seeds",
        help="with --crossval: comma-separated seeds, trained in turn until a final run fits "
        "its own training people (the first that does is shipped; default: the preset's seed)",
    )
    parser.add_argument(
        "--record-crossval",
        type=Path,
        metavar="RESULTS",
        help="no training: record these cross-validation results of the preset's recipe in "
        "the shipped model's model-info (for a model shipped before it was cross-validated)",
    )
    args = parser.parse_args()
    if args.seeds is not None and not args.crossval:
        parser.error("--seeds trains final runs for --crossval only")
    if args.record_crossval:
        info = record_crossval(args.preset, args.record_crossval)
        print(json.dumps(info["validation"], indent=2))
    elif args.crossval:
        ship_crossvalidated(args)
    else:
        ship_validated(args)


def ship_validated(args: argparse.Namespace) -> None:
    """The earlier way: a validation run on HAPT's subjects 27-30 for the figures and the
    epochs, then that many epochs on every training subject."""
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


def ship_crossvalidated(args: argparse.Namespace) -> None:
    """Train (or reuse) the preset on every training person and ship it with the
    cross-validation's figures."""
    preset = get_preset(args.preset)
    results = load_results(args.crossval, args.preset)
    config = preset.config(**results.get("overrides", {}))
    differ = recipe_differences(results["config"], config.to_dict())
    if differ:  # the preset changed since: its settings are not what was cross-validated
        raise SystemExit(f"{args.crossval} cross-validated another recipe: {differ}")
    config = config.override(val_subjects=(), select="last", patience=0)
    seeds = parse_seeds(args.seeds, config.seed)
    if args.final_run and args.seeds:
        raise SystemExit("--final-run reuses one run: --seeds trains new ones; give one of them")
    formats = tuple(args.formats.split(","))
    with tempfile.TemporaryDirectory() as work:
        refused: dict[int, dict] | None = None
        if args.final_run:
            run = kept_final_run(args.final_run, config, args.data, results)
        else:
            run, refused = fitting_final_run(config, args.data, results, seeds, Path(work))
        report = json.loads((run / "report.json").read_text())
        target = MODELS_DIR / args.preset
        manifest = convert_model(run, target, args.data, formats=formats)
        training = target / "training"
        training.mkdir()
        for name in TRAINING_FILES:
            shutil.copy(run / name, training / name)
        info = {
            "name": args.preset,
            "description": preset.description,
            "trained_on_subjects": sorted({s for fold in results["folds"] for s in fold}),
            "epochs": config.epochs,
            "seed": TrainConfig.load(run / "config.json").seed,
            # --final-run: which seeds were refused before it is not known here
            "refused_seeds": None
            if refused is None
            else {str(seed): describe_shortfalls(short) for seed, short in refused.items()},
            "train_seconds": report.get("train_seconds"),
            "validation": crossval_record(results, args.crossval.name),
            "shipped_artifacts": {
                name: {"size": entry["size"]} for name, entry in manifest["artifacts"].items()
            },
        }
        (training / "model-info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
