"""Where predictions go: JSON lines, CSV, or a live view in the terminal."""

from __future__ import annotations

import csv
import json
from collections import deque
from typing import TextIO

from harlite.runtime.stream import Prediction

SINK_FORMATS = ("jsonl", "csv")

#: One letter per activity for the terminal timeline.
_LETTERS = {
    "WALKING": "W",
    "WALKING_UPSTAIRS": "U",
    "WALKING_DOWNSTAIRS": "D",
    "SITTING": "s",
    "STANDING": "t",
    "LAYING": "l",
}


class JsonLinesSink:
    """One JSON object per prediction and line (see :meth:`Prediction.to_dict`)."""

    def __init__(self, handle: TextIO, labels: list[str]) -> None:
        self.handle = handle
        self.labels = labels

    def write(self, predictions: list[Prediction]) -> None:
        for p in predictions:
            self.handle.write(json.dumps(p.to_dict(self.labels)) + "\n")
        if predictions:
            self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class CsvSink:
    """One CSV row per prediction: window, times, label, confidence, latency, the optional
    smoothed and true labels, and a ``p_<LABEL>`` column per class."""

    def __init__(self, handle: TextIO, labels: list[str]) -> None:
        self.handle = handle
        self.labels = labels
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(
            [
                "window",
                "start_time",
                "end_time",
                "label",
                "confidence",
                "latency_ms",
                "smoothed_label",
                "smoothed_confidence",
                "true_label",
                *(f"p_{name}" for name in labels),
            ]
        )

    def write(self, predictions: list[Prediction]) -> None:
        for p in predictions:
            self._writer.writerow(
                [
                    p.index,
                    f"{p.start_time:.6f}",
                    f"{p.end_time:.6f}",
                    p.label,
                    f"{p.confidence:.5f}",
                    f"{p.latency_ms:.4f}",
                    p.smoothed_label or "",
                    "" if p.smoothed_confidence is None else f"{p.smoothed_confidence:.5f}",
                    p.true_label or "",
                    *(f"{float(x):.5f}" for x in p.probabilities),
                ]
            )
        if predictions:
            self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class TerminalView:
    """A live one-screen view for a person: current activity, confidence, a short timeline.

    Redraws three lines in place after each batch of predictions (ANSI cursor movement);
    meant for a terminal, not for files or pipes.
    """

    def __init__(self, handle: TextIO, labels: list[str], width: int = 48) -> None:
        self.handle = handle
        self.labels = labels
        self._timeline: deque[str] = deque(maxlen=width)
        self._drawn = False
        self._count = 0

    def write(self, predictions: list[Prediction]) -> None:
        if not predictions:
            return
        for p in predictions:
            label = p.smoothed_label or p.label
            self._timeline.append(_LETTERS.get(label, label[:1]))
            self._count += 1
        last = predictions[-1]
        label = last.smoothed_label or last.label
        confidence = last.smoothed_confidence or last.confidence
        bar = "#" * round(confidence * 20)
        truth = f"   (true: {last.true_label})" if last.true_label else ""
        lines = [
            f"t={last.end_time:10.2f} s  window {self._count}{truth}",
            f"  {label:<20} {confidence:6.1%} [{bar:<20}]",
            "  " + "".join(self._timeline) + "   (W U D walking up down, s sit, t stand, l lay)",
        ]
        if self._drawn:
            self.handle.write("\x1b[3F")
        self.handle.write("".join("\x1b[2K" + line + "\n" for line in lines))
        self.handle.flush()
        self._drawn = True

    def close(self) -> None:
        self.handle.flush()


def make_sink(kind: str, handle: TextIO, labels: list[str]):
    """A sink by name: ``jsonl``, ``csv`` or ``terminal``."""
    if kind == "jsonl":
        return JsonLinesSink(handle, labels)
    if kind == "csv":
        return CsvSink(handle, labels)
    if kind == "terminal":
        return TerminalView(handle, labels)
    raise ValueError(f"unknown output format {kind!r}")
