"""Training curves and confusion matrices as PNG files (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from harlite.atomic import atomic_file


class SubjectScores(Protocol):
    """What :func:`plot_per_subject` reads (an evaluation report has it)."""

    accuracy: float
    per_subject: dict[str, dict[str, Any]]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: dict[str, list[float]], path: str | Path, title: str = "") -> None:
    """Loss and accuracy per epoch, training vs validation, side by side."""
    plt = _pyplot()
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    epochs = np.arange(1, len(history.get("loss", [])) + 1)
    for ax, key, name in ((loss_ax, "loss", "loss"), (acc_ax, "accuracy", "accuracy")):
        if key in history:
            ax.plot(epochs, history[key], label="training", color="tab:blue")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label="validation", color="tab:red")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    if "best_epoch" in history:
        for ax in (loss_ax, acc_ax):
            ax.axvline(
                history["best_epoch"],
                color="grey",
                linestyle="--",
                linewidth=1,
                label=f"kept epoch {history['best_epoch']}",
            )
            ax.legend()
    fig.suptitle(title or "training history")
    fig.tight_layout()
    _save(fig, path)


def plot_confusion(
    confusion_matrix: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path, title: str
) -> None:
    """The confusion matrix (rows: true, columns: predicted) normalised like the original
    notebook's: percent of all windows."""
    plt = _pyplot()
    matrix = np.asarray(confusion_matrix, dtype=float)
    percent = matrix / max(matrix.sum(), 1) * 100
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    image = ax.imshow(percent, interpolation="nearest", cmap="Blues")
    fig.colorbar(image, ax=ax, label="% of all windows")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if percent[i, j] > percent.max() / 2 else "black"
            ax.text(
                j,
                i,
                f"{percent[i, j]:.1f}\n({int(matrix[i, j])})",
                ha="center",
                va="center",
                fontsize=7,
                color=color,
            )
    ax.set_title(title)
    fig.tight_layout()
    _save(fig, path)


def plot_per_subject(report: SubjectScores, path: str | Path, title: str = "") -> None:
    """Accuracy per subject, with the number of windows of each."""
    plt = _pyplot()
    per_subject = report.per_subject
    subjects = sorted(per_subject, key=int)
    values = [per_subject[s]["accuracy"] * 100 for s in subjects]
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(subjects) + 2), 3.5))
    bars = ax.bar([str(s) for s in subjects], values, color="tab:blue")
    for bar, s in zip(bars, subjects, strict=True):
        ax.text(
            bar.get_x() + bar.get_width() / 2,
            bar.get_height(),
            f"{bar.get_height():.1f}%\n({per_subject[s]['windows']})",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylim(0, 112)  # from zero: 87% must not look like a collapse
    ax.set_xlabel("subject")
    ax.set_ylabel("accuracy (%)")
    ax.axhline(
        report.accuracy * 100,
        color="grey",
        linestyle="--",
        linewidth=1,
        label=f"all windows: {report.accuracy:.1%}",
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "accuracy per subject (windows)")
    fig.tight_layout()
    _save(fig, path)


def plot_timeline(
    records: list[dict[str, Any]], labels: list[str], path: str | Path, title: str = ""
) -> None:
    """Predicted and true activity per window of a streamed recording, over time."""
    plt = _pyplot()
    index = {name: i for i, name in enumerate(labels)}
    times = [r["end_time"] for r in records]
    predicted = [index[r["label"]] for r in records]
    truth = [index.get(r.get("true_label"), np.nan) for r in records]
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.step(times, truth, where="post", color="tab:grey", linewidth=6, alpha=0.5, label="true")
    ax.step(times, predicted, where="post", color="tab:blue", linewidth=1.5, label="predicted")
    wrong = [(t, p) for t, p, y in zip(times, predicted, truth, strict=True) if y == y and p != y]
    if wrong:
        ax.scatter(*zip(*wrong, strict=True), color="tab:red", s=12, zorder=3, label="wrong")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("time (s, window end)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title or "streamed recording: predicted vs true activity")
    fig.tight_layout()
    _save(fig, path)


def _save(fig, path: str | Path) -> None:
    plt = _pyplot()
    with atomic_file(path) as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)
