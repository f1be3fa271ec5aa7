"""Evaluation: how well a model classifies labelled windows, for every kind of model.

- :func:`evaluate_predictions` turns true and predicted classes into an
  :class:`EvaluationReport` (scikit-learn metrics); :func:`format_report` and
  :func:`write_reports` present it;
- :func:`evaluate` measures a run folder, a ``.keras`` file or any artefact of a bundle on the
  windows of a data folder, built with the model's own preprocessing settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.train.config import TrainConfig
from harlite.train.datasets import test_subjects, windows_for_model
from harlite.train.splits import UCI_TEST_SUBJECTS
from harlite.train.windowset import WindowSet

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
REPORT_FILE = "report.json"


@dataclass
class EvaluationReport:
    """Figures of one evaluation; :meth:`to_dict` is ``report.json``.

    Attributes:
        accuracy, precision_weighted, recall_weighted, f1_weighted: over all windows.
        n_windows: windows evaluated.
        labels: class names, in the order of ``confusion_matrix``.
        per_class: label → precision, recall, f1, support.
        per_subject: subject id (as text) → accuracy, windows.
        confusion_matrix: counts, rows = true class.
        sitting_standing: the six HAR classes' main confusion (None for other label sets).
        model, artifact, subjects, split: what was evaluated on what (where known).
        subjects_seen_in_training: those of ``subjects`` the model was trained on (its
            figures on them are not held-out figures).
        best_epoch, epochs_run, train_seconds, interrupted, parameters: set by training.
    """

    accuracy: float
    precision_weighted: float
    recall_weighted: float
    f1_weighted: float
    n_windows: int
    labels: list[str]
    per_class: dict[str, dict[str, float]]
    per_subject: dict[str, dict[str, float]]
    confusion_matrix: list[list[int]]
    sitting_standing: dict[str, float] | None = None
    model: str | None = None
    artifact: str | None = None
    split: str | None = None
    subjects: list[int] | None = None
    best_epoch: int | None = None
    epochs_run: int | None = None
    train_seconds: float | None = None
    interrupted: bool | None = None
    parameters: int | None = None
    subjects_seen_in_training: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; context fields that were not set are left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def evaluate_predictions(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    subjects: np.ndarray,
    labels: tuple[str, ...] | list[str],
) -> EvaluationReport:
    """Accuracy, weighted precision/recall/F1, per-class and per-subject figures and the
    confusion matrix of predicted class indices against true ones."""
    y_true, y_pred, subjects = (np.asarray(a) for a in (y_true, y_pred, subjects))
    if len(y_true) == 0:
        raise HarliteError("no windows to evaluate")
    classes = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    weighted = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, average="weighted", zero_division=0
    )
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    return EvaluationReport(
        accuracy=float(accuracy_score(y_true, y_pred)),
        precision_weighted=float(weighted[0]),
        recall_weighted=float(weighted[1]),
        f1_weighted=float(weighted[2]),
        n_windows=len(y_true),
        labels=list(labels),
        per_class={
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        per_subject={
            str(int(s)): {
                "accuracy": float(accuracy_score(y_true[subjects == s], y_pred[subjects == s])),
                "windows": int((subjects == s).sum()),
            }
            for s in np.unique(subjects)
        },
        confusion_matrix=matrix.tolist(),
        sitting_standing=_sitting_standing(list(labels), recall, matrix),
    )


def _sitting_standing(labels: list[str], recall: np.ndarray, matrix: np.ndarray):
    """How SITTING and STANDING are told apart (the six HAR classes' main confusion)."""
    if "SITTING" not in labels or "STANDING" not in labels:
        return None
    sitting, standing = labels.index("SITTING"), labels.index("STANDING")
    return {
        "sitting_recall": float(recall[sitting]),
        "standing_recall": float(recall[standing]),
        "sitting_as_standing": int(matrix[sitting, standing]),
        "standing_as_sitting": int(matrix[standing, sitting]),
    }


def format_report(report: EvaluationReport, title: str = "") -> str:
    """A readable text version of a report."""
    lines = [title] if title else []
    seen = report.subjects_seen_in_training
    if seen:
        lines.append(
            f"note: subjects {', '.join(map(str, seen))} are in this model's training data: "
            "these are not held-out figures"
        )
    elif seen is not None:
        lines.append("(every subject evaluated was held out from this model's training)")
    lines.append(
        f"windows {report.n_windows}   accuracy {report.accuracy:.2%}   "
        f"weighted F1 {report.f1_weighted:.2%}   precision {report.precision_weighted:.2%}"
        f"   recall {report.recall_weighted:.2%}"
    )
    ss = report.sitting_standing
    if ss is not None:
        lines.append(
            f"SITTING recall {ss['sitting_recall']:.2%}, STANDING recall "
            f"{ss['standing_recall']:.2%} (SITTING taken for STANDING "
            f"{ss['sitting_as_standing']}×, STANDING for SITTING {ss['standing_as_sitting']}×)"
        )
    lines.append("")
    lines.append(f"{'class':<20} {'recall':>8} {'precision':>10} {'F1':>8} {'windows':>8}")
    for label, row in report.per_class.items():
        lines.append(
            f"{label:<20} {row['recall']:>8.2%} {row['precision']:>10.2%} {row['f1']:>8.2%} "
            f"{row['support']:>8}"
        )
    lines.append("")
    short = [label[:9] for label in report.labels]
    lines.append("confusion matrix (rows: true, columns: predicted)")
    lines.append(" " * 20 + "".join(f"{s:>10}" for s in short))
    for label, row in zip(report.labels, report.confusion_matrix, strict=True):
        lines.append(f"{label:<20}" + "".join(f"{v:>10}" for v in row))
    lines.append("")
    subjects = "  ".join(
        f"{s}: {v['accuracy']:.1%}"
        for s, v in sorted(report.per_subject.items(), key=lambda kv: int(kv[0]))
    )
    lines.append(f"per subject  {subjects}")
    return "\n".join(lines)


def write_reports(report: EvaluationReport, folder: Path, title: str) -> None:
    """Write report.json, report.txt and confusion.png into ``folder``."""
    from harlite.train.plots import plot_confusion

    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / REPORT_FILE, json.dumps(report.to_dict(), indent=2) + "\n")
    write_text_atomic(folder / "report.txt", format_report(report, title) + "\n")
    title = title or f"accuracy {report.accuracy:.2%} on {report.n_windows} windows"
    plot_confusion(report.confusion_matrix, report.labels, folder / "confusion.png", title)


def evaluate_keras(model, windows: WindowSet) -> EvaluationReport:
    """Evaluation figures of a Keras model on ``windows``."""
    from harlite.train.models import predict_logits

    predicted = predict_logits(model, windows.X).argmax(axis=1)
    return evaluate_predictions(windows.y, predicted, windows.subject, windows.labels)


def choose_subjects(
    windows: WindowSet,
    val_subjects: tuple[int, ...],
    subjects: list[int] | None,
    split: str | None,
    test_subjects: tuple[int, ...] = UCI_TEST_SUBJECTS,
) -> WindowSet:
    """Narrow ``windows`` to the asked subjects (``split`` test: the data set's test subjects;
    val: the model's ``val_subjects``); all of them when nothing is asked."""
    if split == "test":
        wanted = sorted(set(test_subjects) & set(windows.subjects))
        if not wanted:
            listed = ", ".join(map(str, test_subjects)) or "none: no recording has split=test"
            raise HarliteError(f"the data holds none of the data set's test subjects ({listed})")
    elif split == "val":
        if not val_subjects:
            raise HarliteError(
                "this model has no validation subjects: it was trained on every training "
                "subject (the shipped models are). Evaluate it with --split test (the standard "
                "test subjects) or --subjects LIST; the held-out figures of a shipped model are "
                "in its training/model-info.json"
            )
        wanted = list(val_subjects)
    elif subjects:
        wanted = subjects
    else:
        return windows
    missing = sorted(set(wanted) - set(windows.subjects))
    if missing:
        raise HarliteError(f"no windows of subjects {', '.join(map(str, missing))} in the data")
    return windows.select(np.isin(windows.subject, wanted))


def resolve_model(
    path: str | Path, log: Callable[[str], None] | None = None
) -> tuple[Path, TrainConfig]:
    """The .keras file and training settings of a run dir, a bundle or a .keras file."""
    path = Path(path)
    if (path / "manifest.json").is_file():  # a bundle: its Keras model and recorded settings
        manifest = json.loads((path / "manifest.json").read_text())
        try:
            return path / MODEL_FILE, TrainConfig.from_dict(manifest["model"]["training"])
        except (KeyError, ValueError, TypeError) as error:
            raise HarliteError(
                f"{path}: manifest without valid training settings: {error}"
            ) from None
    model_file = path / MODEL_FILE if path.is_dir() else path
    if not model_file.is_file():
        raise HarliteError(f"{path}: no {MODEL_FILE} here (not a run folder or .keras file)")
    config_file = model_file.parent / CONFIG_FILE
    if config_file.is_file():
        try:
            return model_file, TrainConfig.load(config_file)
        except (ValueError, TypeError) as error:
            raise HarliteError(f"{config_file}: not a valid training config: {error}") from None
    if log is not None:
        log(f"note: no {CONFIG_FILE} beside {model_file}: using the default preprocessing")
    return model_file, TrainConfig()


def evaluate_predictor(
    predict: Callable[[np.ndarray], np.ndarray],
    name: str,
    config: TrainConfig,
    where: str,
    data_dir: str | Path,
    *,
    subjects: list[int] | None = None,
    split: str | None = None,
    out_dir: str | Path | None = None,
) -> tuple[EvaluationReport, str]:
    """Evaluate ``predict`` (windows → scores) on ``data_dir``, windows built with ``config``.

    ``name`` and ``where`` name the artefact and the model in the report; ``subjects`` or
    ``split`` (``test``/``val``) choose who is evaluated; ``out_dir`` receives report.json,
    report.txt and confusion.png. Returns the report and its text form.
    """
    windows = windows_for_model(data_dir, config)
    tests = test_subjects(data_dir)
    chosen = choose_subjects(windows, config.val_subjects or (), subjects, split, tests)
    report = evaluate_predictions(
        chosen.y, predict(chosen.X).argmax(axis=1), chosen.subject, chosen.labels
    )
    report.model, report.artifact, report.subjects = where, name, chosen.subjects
    report.subjects_seen_in_training = seen_in_training(chosen.subjects, config, tests)
    title = f"{where} ({name}) on subjects {', '.join(map(str, chosen.subjects))}"
    if out_dir is not None:
        write_reports(report, Path(out_dir), title)
    return report, format_report(report, title)


def keras_predictor(path: str | Path, log: Callable[[str], None] | None = None):
    """A run folder's or ``.keras`` file's model as ``(predict, "keras", config, where)``."""
    from harlite.train.models import load_model, predict_logits

    model_file, config = resolve_model(Path(path), log)
    keras_model = load_model(model_file)
    return lambda X: predict_logits(keras_model, X), "keras", config, str(model_file)


def seen_in_training(
    subjects: list[int], config: TrainConfig, test_subjects: tuple[int, ...] = UCI_TEST_SUBJECTS
) -> list[int]:
    """Which of ``subjects`` a model trained with ``config`` saw: harlite trains on every
    subject of its data but the data set's test subjects and the validation subjects."""
    held_out = set(test_subjects) | set(config.val_subjects or ())
    return [s for s in subjects if s not in held_out]
