"""Where predictions go: JSON lines, CSV, Parquet, or a live view in the terminal."""

from __future__ import annotations

import csv
import json
from collections import deque
from typing import BinaryIO, Protocol, TextIO

from harlite.errors import HarliteError
from harlite.runtime.activity import format_duration, format_time, has_wall_clock
from harlite.runtime.stream import Prediction

#: Output formats for files; "parquet" is binary and needs pyarrow.
FILE_FORMATS = ("jsonl", "csv", "parquet")


class Sink(Protocol):
    """Where a stream's predictions go, batch by batch."""

    def write(self, predictions: list[Prediction]) -> None:
        """Take the predictions of one pushed batch (possibly none)."""

    def close(self) -> None:
        """The stream has ended: flush what is held."""


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
        if not predictions:
            return
        lines = [json.dumps(p.to_dict(self.labels), allow_nan=False) for p in predictions]
        self.handle.write("\n".join(lines) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


#: Columns of the tabular outputs (CSV, Parquet), then one ``p_<LABEL>`` per class.
TABLE_COLUMNS = (
    "window",
    "start_time",
    "end_time",
    "label",
    "confidence",
    "latency_ms",
    "smoothed_label",
    "smoothed_confidence",
    "true_label",
    "t_rel",
)


def table_row(p: Prediction) -> list:
    """A prediction's values in the order of TABLE_COLUMNS, then its probabilities."""
    return [
        p.index,
        p.start_time,
        p.end_time,
        p.label,
        p.confidence,
        p.latency_ms,
        p.smoothed_label,
        p.smoothed_confidence,
        p.true_label,
        p.t_rel,
        *(float(x) for x in p.probabilities),
    ]


class CsvSink:
    """One CSV row per prediction: window, times, label, confidence, latency, the optional
    smoothed and true labels, the seconds from the recording's start (``t_rel``), and a
    ``p_<LABEL>`` column per class."""

    #: How each column is written; probabilities use the last one.
    _FORMATS = ("{}", "{:.6f}", "{:.6f}", "{}", "{:.5f}", "{:.4f}", "{}", "{:.5f}", "{}", "{:.6f}")
    _PROBABILITY = "{:.5f}"

    def __init__(self, handle: TextIO, labels: list[str]) -> None:
        self.handle = handle
        self.labels = labels
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow([*TABLE_COLUMNS, *(f"p_{name}" for name in labels)])

    def write(self, predictions: list[Prediction]) -> None:
        formats = self._FORMATS
        for p in predictions:
            self._writer.writerow(
                [
                    ""
                    if value is None
                    else (formats[i] if i < len(formats) else self._PROBABILITY).format(value)
                    for i, value in enumerate(table_row(p))
                ]
            )
        if predictions:
            self.handle.flush()

    def close(self) -> None:
        self.handle.flush()


class ParquetSink:
    """Predictions as a Parquet table with the CSV's columns (needs pyarrow), written to a
    binary handle when the stream ends."""

    def __init__(self, handle: BinaryIO, labels: list[str]) -> None:
        require_pyarrow()
        self.handle = handle
        self.names = [*TABLE_COLUMNS, *(f"p_{name}" for name in labels)]
        self.rows: list[list] = []

    def write(self, predictions: list[Prediction]) -> None:
        self.rows.extend(table_row(p) for p in predictions)

    def close(self) -> None:
        pa, pq = require_pyarrow()
        columns = {name: [row[i] for row in self.rows] for i, name in enumerate(self.names)}
        pq.write_table(pa.table(columns), self.handle)


def require_pyarrow():
    """pyarrow and pyarrow.parquet, or a clear error saying how to get them."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise HarliteError(
            "Parquet output needs pyarrow: pip install pyarrow (or use jsonl/csv)"
        ) from None
    return pa, pq


class CollectingSink:
    """Keeps the predictions in memory (for plots and evaluations of one recording)."""

    def __init__(self) -> None:
        self.predictions: list[Prediction] = []

    def write(self, predictions: list[Prediction]) -> None:
        self.predictions.extend(predictions)

    def close(self) -> None:
        pass


class TerminalView:
    """A live one-screen view for a person: the time (clock time where the input has a wall
    clock, and the time from the start), current activity, confidence, a short timeline.

    Redraws three lines in place after each batch of predictions (ANSI cursor movement);
    meant for a terminal, not for files or pipes.
    """

    def __init__(self, handle: TextIO, labels: list[str], width: int = 48) -> None:
        self.handle = handle
        self.labels = labels
        self._timeline: deque[str] = deque(maxlen=width)
        self._drawn = False
        self._status = ""

    def status(self, bad_rows: int = 0, dropped: int | None = None) -> None:
        """Counters shown beside the window number: bad rows, datagrams dropped."""
        parts = [f"bad rows {bad_rows}"] if bad_rows else []
        if dropped:
            parts.append(f"dropped {dropped}")
        self._status = ("   " + ", ".join(parts)) if parts else ""

    def write(self, predictions: list[Prediction]) -> None:
        if not predictions:
            return
        for p in predictions:
            label = p.smoothed_label or p.label
            self._timeline.append(_LETTERS.get(label, label[:1]))
        last = predictions[-1]
        label = last.smoothed_label or last.label
        confidence = last.smoothed_confidence or last.confidence
        bar = "#" * round(confidence * 20)
        truth = f"   (true: {last.true_label})" if last.true_label else ""
        lines = [
            f"{_when(last)}  window {last.index}{truth}{self._status}",
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


def _when(p: Prediction) -> str:
    """A prediction's moment: ``08:01:12 (+3 min 28 s)`` on a wall clock, else
    ``+3 min 28 s`` from the start (``t=…`` without a relative time)."""
    if p.t_rel is None:
        return f"t={p.end_time:10.2f} s"
    since = "+" + format_duration(p.t_rel)
    origin = p.end_time - p.t_rel
    if has_wall_clock(origin):
        return f"{format_time(p.end_time, origin)} ({since})"
    return since


def make_sink(kind: str, handle: TextIO | BinaryIO, labels: list[str]) -> Sink:
    """A sink by name: ``jsonl``, ``csv``, ``parquet`` (binary handle) or ``terminal``."""
    if kind == "jsonl":
        return JsonLinesSink(handle, labels)
    if kind == "csv":
        return CsvSink(handle, labels)
    if kind == "parquet":
        return ParquetSink(handle, labels)
    if kind == "terminal":
        return TerminalView(handle, labels)
    raise ValueError(f"unknown output format {kind!r}")
