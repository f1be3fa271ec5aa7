"""The figures of a cross-validation: per placement, per class and per person.

Every person's windows were predicted by the fold that held them out
(:mod:`harlite.train.crossval`). Each figure is a spread over people: the mean of the
people's own accuracies (every person counts once, however long their recordings), the
standard deviation, and the **worst person** with who it is. A class figure is each person's
recall of that class, over the people with at least :data:`MIN_CLASS_WINDOWS` windows of it.

Two answers are scored: the model's own (``model``) and the stream's (``stream``): the
model's probabilities after the device's placement rule (:mod:`harlite.runtime.signal.placement`),
run over each recording's windows in time order, as ``harlite stream`` runs it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.runtime.signal.placement import PlacementRule

#: A person's class recall counts when they have at least this many windows of the class.
MIN_CLASS_WINDOWS = 5
#: The summary file a cross-validation folder gets, and its Markdown table.
SUMMARY_FILE = "cv.json"
TABLE_FILE = "cv.md"


@dataclass(frozen=True)
class HeldOut:
    """Every fold's held-out windows with their truth, origin and predicted probabilities."""

    y: np.ndarray
    probabilities: np.ndarray
    subject: np.ndarray
    experiment: np.ndarray
    start: np.ndarray
    placement: np.ndarray
    gravity: np.ndarray
    swing: np.ndarray
    labels: tuple[str, ...]

    @classmethod
    def lacks(cls, stored: Iterable[str]) -> set[str]:
        """What a predictions file holding ``stored`` arrays lacks (one of an older harlite)."""
        return {field.name for field in fields(cls)} - set(stored)

    @classmethod
    def load(cls, folder: str | Path, name: str = "predictions.npz") -> HeldOut:
        """The predictions ``name`` of every fold folder under ``folder``, joined."""
        files = sorted(Path(folder).glob(f"fold*/{name}"))
        if not files:
            raise HarliteError(f"{folder}: no finished fold ({name}) to report on")
        parts = []
        for path in files:
            with np.load(path, allow_pickle=False) as data:
                missing = cls.lacks(data.files)
                if missing:
                    raise HarliteError(
                        f"{path}: written by an older harlite (no {', '.join(sorted(missing))}):"
                        " delete this file and run the cross-validation again (it answers the"
                        " fold's model anew; a fold whose predictions.npz is gone trains again)"
                    )
                parts.append({key: data[key] for key in data.files})
        labels = tuple(str(v) for v in parts[0]["labels"])
        keys = [k for k in parts[0] if k != "labels"]
        return cls(**{k: np.concatenate([p[k] for p in parts]) for k in keys}, labels=labels)

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class of every window."""
        return self.probabilities.argmax(axis=1)

    def with_placement_rule(self) -> HeldOut:
        """The same windows, answered as the stream answers them (the placement rule run
        over each recording in time order)."""
        out = self.probabilities.copy()
        recordings = np.stack([self.subject, self.experiment], axis=1)
        for key in np.unique(recordings, axis=0):
            rows = np.flatnonzero((recordings == key).all(axis=1))
            rows = rows[np.argsort(self.start[rows], kind="stable")]
            rule = PlacementRule(self.labels)
            out[rows], _ = rule.apply(
                self.probabilities[rows], self.gravity[rows], self.swing[rows]
            )
        return replace(self, probabilities=out)


def spread(per_person: dict[int, float]) -> dict[str, Any]:
    """Mean, standard deviation and worst of per-person figures, with the worst person."""
    if not per_person:
        return {"people": 0, "mean": None, "sd": None, "worst": None, "worst_person": None}
    values = np.array(list(per_person.values()))
    worst = min(per_person, key=lambda person: per_person[person])
    return {
        "people": len(values),
        "mean": round(float(values.mean()), 4),
        "sd": round(float(values.std()), 4),
        "worst": round(float(per_person[worst]), 4),
        "worst_person": int(worst),
    }


def summarize(held: HeldOut) -> dict[str, Any]:
    """Per placement: accuracy and per-class recall as spreads over people, window counts,
    and every person's own figures."""
    right = held.predicted == held.y
    placements: dict[str, Any] = {}
    for placement in sorted({str(p) for p in held.placement}):
        mine = held.placement == placement
        people = sorted(int(s) for s in np.unique(held.subject[mine]))
        accuracy = {p: float(right[mine & (held.subject == p)].mean()) for p in people}
        classes = {}
        for code, label in enumerate(held.labels):
            recall = {}
            for person in people:
                rows = mine & (held.subject == person) & (held.y == code)
                if rows.sum() >= MIN_CLASS_WINDOWS:
                    recall[person] = float(right[rows].mean())
            if recall:
                pooled = mine & (held.y == code)
                classes[label] = {
                    **spread(recall),
                    "windows": int(pooled.sum()),
                    "pooled": round(float(right[pooled].mean()), 4),
                }
        placements[placement] = {
            "windows": int(mine.sum()),
            "accuracy": spread(accuracy),
            "classes": classes,
            "people": {str(p): round(a, 4) for p, a in accuracy.items()},
        }
    return placements


def crossval_summary(folder: str | Path, name: str = "predictions.npz") -> dict[str, Any]:
    """The figures of the cross-validation in ``folder``: the model's answers and the
    stream's (with the placement rule), and the plan it ran."""
    folder = Path(folder)
    held = HeldOut.load(folder, name)
    plan = json.loads((folder / "folds.json").read_text())
    return {
        "data": plan["data"],
        "k": plan["k"],
        "folds": plan["folds"],
        "folds_done": len(sorted(folder.glob(f"fold*/{name}"))),
        "config": plan["config"],
        "min_class_windows": MIN_CLASS_WINDOWS,
        "model": summarize(held),
        "stream": summarize(held.with_placement_rule()),
    }


def write_summary(folder: str | Path, summary: dict[str, Any]) -> None:
    """``cv.json`` and ``cv.md`` in ``folder``."""
    folder = Path(folder)
    write_text_atomic(folder / SUMMARY_FILE, json.dumps(summary, indent=1) + "\n")
    write_text_atomic(folder / TABLE_FILE, format_table(summary) + "\n")


def _cell(figure: dict[str, Any]) -> str:
    if figure.get("mean") is None:
        return "–"
    return (
        f"{figure['mean']:.1%} ± {figure['sd']:.1%} (worst {figure['worst']:.1%}, "
        f"#{figure['worst_person']})"
    )


def format_table(summary: dict[str, Any], answer: str = "stream") -> str:
    """A Markdown table: a row per placement, a column per class and overall, each cell the
    mean ± sd over people and the worst person."""
    placements = summary[answer]
    labels = list(summary["config"]["labels"])
    header = ["placement", "people", "accuracy", *labels]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for placement, figures in placements.items():
        cells = [
            placement or "(not said)",
            str(figures["accuracy"]["people"]),
            _cell(figures["accuracy"]),
            *(_cell(figures["classes"].get(label, {})) for label in labels),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
