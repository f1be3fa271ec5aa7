"""How much data does fine-tuning need? Accuracy against minutes of training data per class,
fine-tuned from the shipped `lstm` (HAPT, phone on the waist) against trained from scratch,
on a placement the base model never saw: the sp-sw trouser-pocket recordings.

Leave-subjects-out: the subjects are split into K folds (seeded); for each fold and budget,
at most BUDGET minutes of windows per class are drawn (seeded) from the other folds'
subjects, a model is trained on them for a fixed schedule (no validation data: someone with
a few minutes per class has none to spare; the final weights are kept), and it is evaluated
on every window of the held-out fold. Minutes are windows × hop (1.28 s of new signal each).

    python benchmarks/bench_finetune.py [--data benchmarks/datasets/sp-sw.toml]
        [--budgets 0.25,0.5,1,2,all] [--folds 3] [--save]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, save

from harlite.runtime.spec import HOP_SAMPLES, SAMPLE_RATE_HZ
from harlite.shipped import model_path
from harlite.train.datasets import load_windows
from harlite.train.evaluation import evaluate_keras
from harlite.train.finetune import FINE_TUNE_DEFAULTS, base_settings, fine_tune_config
from harlite.train.models import get_preset, load_model
from harlite.train.splits import subject_folds
from harlite.train.trainer import fit_windows
from harlite.train.windowset import WindowSet

HOP_MINUTES = HOP_SAMPLES / SAMPLE_RATE_HZ / 60
DEFAULT_DATA = Path(__file__).resolve().parent / "datasets" / "sp-sw.toml"


def budget_subset(train: WindowSet, minutes: float | None, rng: np.random.Generator) -> WindowSet:
    """At most ``minutes`` of windows per class, drawn at random (all of them for None)."""
    if minutes is None:
        return train
    per_class = max(1, round(minutes / HOP_MINUTES))
    chosen = []
    for code in range(len(train.labels)):
        indices = np.flatnonzero(train.y == code)
        chosen.append(rng.choice(indices, min(per_class, len(indices)), replace=False))
    return train.select(np.sort(np.concatenate(chosen)))


#: The recipe settings the scratch model shares with fine-tuning (the default model's own
#: balancing, averaging and pocket mirroring were chosen for its data, not for yours).
FROM_FINE_TUNING = ("balance", "average_epochs", "pocket_mirror", "thigh_turn_deg", "time_warp")


def run(method: str, train: WindowSet, held: WindowSet, epochs: int, seed: int) -> dict:
    empty = train.select(np.zeros(len(train), bool))
    if method == "fine-tuned":
        base = model_path("lstm")
        config = fine_tune_config(
            base,
            base_settings(base),
            get_preset("lstm").config(seed=seed),
            epochs=epochs,
            patience=0,
        ).override(select="last", val_subjects=())
    else:
        config = get_preset("lstm").config(
            seed=seed,
            epochs=epochs,
            batch_size=32,
            val_subjects=(),
            select="last",
            **{key: FINE_TUNE_DEFAULTS[key] for key in FROM_FINE_TUNING},
        )
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        fit_windows(config, train, empty, folder)
        seconds = time.perf_counter() - started
        report = evaluate_keras(load_model(Path(folder) / "model.keras"), held)
    recalls = [row["recall"] for row in report.per_class.values() if row["support"]]
    f1s = [row["f1"] for row in report.per_class.values() if row["support"]]
    return {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(float(np.mean(f1s)), 4),
        "balanced_accuracy": round(float(np.mean(recalls)), 4),
        "train_seconds": round(seconds, 1),
    }


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method, marker in (("fine-tuned", "o"), ("scratch", "s")):
        rows = [r for r in summary if r["method"] == method]
        x = [r["minutes_per_class"] for r in rows]
        y = [100 * r["macro_f1_mean"] for r in rows]
        low = [100 * r["macro_f1_min"] for r in rows]
        high = [100 * r["macro_f1_max"] for r in rows]
        label = "fine-tuned from shipped lstm" if method == "fine-tuned" else "from scratch"
        ax.plot(x, y, marker=marker, label=label)
        ax.fill_between(x, low, high, alpha=0.15)
    ax.set_xscale("log")
    ticks = sorted({r["minutes_per_class"] for r in summary})
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training data per class (minutes, at most; log scale)")
    ax.set_ylabel("macro F1 on held-out subjects (%)")
    ax.set_ylim(0, 100)
    ax.set_title("sp-sw trouser pocket, leave-subjects-out (band: fold range)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--budgets", default="0.25,0.5,1,2,all")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", action="store_true")
    parser.add_argument(
        "--plot-only", action="store_true", help="Redraw the plot from results/finetune.json."
    )
    args = parser.parse_args()
    if args.plot_only:
        figures = json.loads((RESULTS / "finetune.json").read_text())["figures"]
        plot(figures["summary"], RESULTS / "finetune.png")
        return

    windows = load_windows(args.data)
    budgets = [None if b == "all" else float(b) for b in args.budgets.split(",")]
    folds = subject_folds(windows.subjects, args.folds, args.seed, test_subjects=())
    runs = []
    for fold, (train_subjects, held_subjects) in enumerate(folds, start=1):
        held = windows.select(np.isin(windows.subject, held_subjects))
        train_all = windows.select(np.isin(windows.subject, train_subjects))
        for minutes in budgets:
            rng = np.random.default_rng(args.seed + fold)
            train = budget_subset(train_all, minutes, rng)
            for method in ("fine-tuned", "scratch"):
                figures = run(method, train, held, args.epochs, args.seed)
                record = {
                    "fold": fold,
                    "held_out_subjects": held_subjects,
                    "budget_minutes_per_class": minutes,
                    "method": method,
                    "train_windows": len(train),
                    "train_minutes_per_class": {
                        k: round(v * HOP_MINUTES, 2) for k, v in train.windows_per_class().items()
                    },
                    **figures,
                }
                runs.append(record)
                print(
                    f"fold {fold} budget {minutes or 'all'} {method:<10} windows {len(train):>4} "
                    f"accuracy {figures['accuracy']:.3f} macro F1 {figures['macro_f1']:.3f} "
                    f"({figures['train_seconds']:.0f} s)",
                    flush=True,
                )
    summary = []
    for minutes in budgets:
        for method in ("fine-tuned", "scratch"):
            rows = [
                r
                for r in runs
                if r["budget_minutes_per_class"] == minutes and r["method"] == method
            ]
            mean_minutes = np.mean([max(r["train_minutes_per_class"].values()) for r in rows])
            entry = {
                "method": method,
                "budget": minutes,
                "minutes_per_class": round(mean_minutes, 2),
            }
            for key in ("accuracy", "macro_f1", "balanced_accuracy"):
                values = [r[key] for r in rows]
                entry[f"{key}_mean"] = round(float(np.mean(values)), 4)
                entry[f"{key}_min"] = round(float(np.min(values)), 4)
                entry[f"{key}_max"] = round(float(np.max(values)), 4)
            summary.append(entry)
            print(
                f"{method:<10} {minutes or 'all':>5} min/class: accuracy "
                f"{entry['accuracy_mean']:.3f}, macro F1 {entry['macro_f1_mean']:.3f} "
                f"(folds {entry['macro_f1_min']:.3f}–{entry['macro_f1_max']:.3f})"
            )
    if args.save:
        figures = {
            "data": "sp-sw, 15 subjects (trouser pocket; front_inv only among withheld subjects)",
            "labels": list(windows.labels),
            "window_label": "center",
            "folds": args.folds,
            "epochs": args.epochs,
            "settings": {
                "fine-tuned": "harlite train --init lstm defaults (batch 32, lr 0.001, head "
                "alone for 10 epochs), final weights",
                "scratch": "lstm preset, batch 32, lr 0.0025, final weights",
            },
            "summary": summary,
            "runs": runs,
        }
        print(save("finetune", figures))
        plot(summary, RESULTS / "finetune.png")
        print(RESULTS / "finetune.png")


if __name__ == "__main__":
    main()
