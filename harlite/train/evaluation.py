"""Evaluation figures (scikit-learn metrics) and their text form."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from harlite.runtime.spec import ACTIVITY_LABELS

SITTING, STANDING = ACTIVITY_LABELS.index("SITTING"), ACTIVITY_LABELS.index("STANDING")


def evaluate_predictions(
    y_true: np.ndarray, y_pred: np.ndarray, subjects: np.ndarray
) -> dict[str, Any]:
    """Accuracy, weighted precision/recall/F1, per-class and per-subject figures.

    Returns a JSON-ready dict with ``accuracy``, ``f1_weighted``, ``precision_weighted``,
    ``recall_weighted``, ``n_windows``, ``per_class`` (label → precision, recall, f1,
    support), ``per_subject`` (id → accuracy, windows), ``confusion_matrix`` (counts, rows =
    true class, in ``labels`` order) and ``sitting_standing`` (the main confusion).
    """
    y_true, y_pred, subjects = (np.asarray(a) for a in (y_true, y_pred, subjects))
    if len(y_true) == 0:
        raise ValueError("no windows to evaluate")
    classes = list(range(len(ACTIVITY_LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    weighted = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, average="weighted", zero_division=0
    )
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    per_subject = {
        str(int(s)): {
            "accuracy": float(accuracy_score(y_true[subjects == s], y_pred[subjects == s])),
            "windows": int((subjects == s).sum()),
        }
        for s in np.unique(subjects)
    }
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision_weighted": float(weighted[0]),
        "recall_weighted": float(weighted[1]),
        "f1_weighted": float(weighted[2]),
        "n_windows": len(y_true),
        "labels": list(ACTIVITY_LABELS),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(ACTIVITY_LABELS)
        },
        "per_subject": per_subject,
        "confusion_matrix": matrix.tolist(),
        "sitting_standing": {
            "sitting_recall": float(recall[SITTING]),
            "standing_recall": float(recall[STANDING]),
            "sitting_as_standing": int(matrix[SITTING, STANDING]),
            "standing_as_sitting": int(matrix[STANDING, SITTING]),
        },
    }


def format_report(report: dict[str, Any], title: str = "") -> str:
    """A readable text version of :func:`evaluate_predictions`' result."""
    lines = [title] if title else []
    lines.append(
        f"windows {report['n_windows']}   accuracy {report['accuracy']:.2%}   "
        f"weighted F1 {report['f1_weighted']:.2%}   precision {report['precision_weighted']:.2%}"
        f"   recall {report['recall_weighted']:.2%}"
    )
    ss = report["sitting_standing"]
    lines.append(
        f"SITTING recall {ss['sitting_recall']:.2%}, STANDING recall {ss['standing_recall']:.2%} "
        f"(SITTING taken for STANDING {ss['sitting_as_standing']}×, "
        f"STANDING for SITTING {ss['standing_as_sitting']}×)"
    )
    lines.append("")
    lines.append(f"{'class':<20} {'recall':>8} {'precision':>10} {'F1':>8} {'windows':>8}")
    for label, row in report["per_class"].items():
        lines.append(
            f"{label:<20} {row['recall']:>8.2%} {row['precision']:>10.2%} {row['f1']:>8.2%} "
            f"{row['support']:>8}"
        )
    lines.append("")
    short = [label[:9] for label in report["labels"]]
    lines.append("confusion matrix (rows: true, columns: predicted)")
    lines.append(" " * 20 + "".join(f"{s:>10}" for s in short))
    for label, row in zip(report["labels"], report["confusion_matrix"], strict=True):
        lines.append(f"{label:<20}" + "".join(f"{v:>10}" for v in row))
    lines.append("")
    subjects = "  ".join(
        f"{s}: {v['accuracy']:.1%}"
        for s, v in sorted(report["per_subject"].items(), key=lambda kv: int(kv[0]))
    )
    lines.append(f"per subject  {subjects}")
    return "\n".join(lines)
