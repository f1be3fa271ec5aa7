"""Reading predictions back for a report: a predictions file (JSON lines, CSV or Parquet, as
``harlite stream`` and ``harlite batch`` write them) with its summary, or a batch folder."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from harlite.batch.pool import SUMMARY_SUFFIX
from harlite.errors import DataError, HarliteError
from harlite.runtime.activity import ActivityLog, Bout
from harlite.runtime.signal.windower import DEFAULT_MAX_GAP_S
from harlite.runtime.sinks import FILE_FORMATS, require_pyarrow

#: How many confidence points a ribbon keeps (windows are averaged into this many bins).
CONFIDENCE_POINTS = 600


@dataclass
class Window:
    """One prediction as the report uses it: times, the label shown (smoothed when the run
    smoothed), and its confidence."""

    start: float
    end: float
    label: str
    confidence: float


@dataclass
class Recording:
    """One recording's predictions, what they add up to, and its summary (when found)."""

    name: str
    labels: list[str]
    origin: float
    end: float
    activity: ActivityLog
    confidence: list[tuple[float, float]]  #: (time, mean confidence) bins
    mean_confidence: dict[str, float]
    windows: int
    summary: dict = field(default_factory=dict)

    def bouts(self, min_bout_s: float) -> list[Bout]:
        """Bouts of at least ``min_bout_s`` seconds."""
        return self.activity.bouts(min_bout_s)


def predictions_files(folder: Path) -> list[Path]:
    """The predictions files of a batch output folder, by name."""
    found = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and any(p.name.endswith(f".{kind}") for kind in FILE_FORMATS)
    ]
    if not found:
        raise HarliteError(
            f"{folder}: no predictions files (.jsonl, .csv, .parquet) in this folder: give a "
            "predictions file or a `harlite batch` output folder"
        )
    return found


def summary_beside(path: Path) -> Path:
    """Where ``harlite batch`` puts a predictions file's summary: NAME.summary.json."""
    return path.with_name(path.name.rsplit(".", 1)[0] + SUMMARY_SUFFIX)


def load_recording(path: Path, summary_path: Path | None = None) -> Recording:
    """A predictions file and its summary (``summary_path``, else NAME.summary.json beside
    it when there is one)."""
    windows, labels, origin = _read(path)
    if not windows:
        raise DataError("no predictions in this file", path)
    summary_path = summary_path or summary_beside(path)
    summary = _read_summary(summary_path) if summary_path.is_file() else {}
    return build_recording(windows, labels, origin, summary, path.name)


def from_predictions(predictions, labels: list[str], summary: dict) -> Recording:
    """A recording from a stream's predictions in memory (``harlite stream --report``)."""
    windows = [
        Window(
            p.start_time,
            p.end_time,
            p.smoothed_label or p.label,
            p.confidence if p.smoothed_confidence is None else p.smoothed_confidence,
        )
        for p in predictions
    ]
    if not windows:
        raise HarliteError("no predictions to report (the input filled no window)")
    first = predictions[0]
    origin = None if first.t_rel is None else first.end_time - first.t_rel
    return build_recording(windows, labels, origin, summary, str(summary.get("input", "")))


def build_recording(
    windows: list[Window], labels: list[str], origin: float | None, summary: dict, name: str
) -> Recording:
    """What the windows add up to (:class:`~harlite.runtime.activity.ActivityLog`)."""
    name = summary.get("input") or name
    log = ActivityLog(DEFAULT_MAX_GAP_S)
    per_label: dict[str, list[float]] = {}
    for w in windows:
        log.add(w.start, w.end, w.label)
        per_label.setdefault(w.label, []).append(w.confidence)
    return Recording(
        name=str(name),
        labels=labels or sorted(per_label),
        origin=windows[0].start if origin is None else origin,
        end=windows[-1].end,
        activity=log,
        confidence=_binned(windows),
        mean_confidence={k: sum(v) / len(v) for k, v in per_label.items()},
        windows=len(windows),
        summary=summary,
    )


def _read_summary(path: Path) -> dict:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise DataError(f"not a readable summary JSON ({error})", path) from None
    if not isinstance(summary, dict):
        raise DataError("not a summary (a JSON object)", path)
    return summary


def _read(path: Path) -> tuple[list[Window], list[str], float | None]:
    """The windows, the model's labels and the recording's start time of one file."""
    if path.name.endswith(".parquet"):
        _pa, pq = require_pyarrow()
        return _from_table(pq.read_table(path).to_pylist(), path, first_line=1)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            if path.name.endswith(".csv"):
                return _from_table(csv.DictReader(handle), path, first_line=2)
            return _from_jsonl(handle, path)
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text: not a predictions file", path) from None
    except OSError as error:
        raise DataError(f"cannot be read ({error.strerror})", path) from None


def _from_jsonl(handle, path: Path) -> tuple[list[Window], list[str], float | None]:
    windows: list[Window] = []
    labels: list[str] = []
    origin = None
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            windows.append(_window(record))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(f"not a prediction record ({_reason(error)})", path, number) from None
        if len(windows) == 1:
            labels = [str(k) for k in record.get("probabilities") or {}]
            origin = _origin(record)
    return windows, labels, origin


def _from_table(rows, path: Path, first_line: int) -> tuple[list[Window], list[str], float | None]:
    windows: list[Window] = []
    labels: list[str] = []
    origin = None
    for number, row in enumerate(rows, first_line):
        try:
            record = {k: (None if v in ("", None) else v) for k, v in row.items()}
            windows.append(_window(record))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise DataError(f"not a prediction row ({_reason(error)})", path, number) from None
        if not labels:
            labels = [k.removeprefix("p_") for k in row if k and k.startswith("p_")]
            origin = _origin(record)
    return windows, labels, origin


def _window(record: dict) -> Window:
    """A record's window: the smoothed label and confidence where present."""
    smoothed = record.get("smoothed_label")
    label = str(smoothed if smoothed is not None else record["label"])
    confidence = record.get("smoothed_confidence") if smoothed is not None else None
    window = Window(
        start=float(record["start_time"]),
        end=float(record["end_time"]),
        label=label,
        confidence=float(record["confidence"] if confidence is None else confidence),
    )
    if not all(math.isfinite(v) for v in (window.start, window.end, window.confidence)):
        raise ValueError("a time or confidence is not a finite number")
    if window.end < window.start:
        raise ValueError("end_time before start_time")
    return window


def _origin(record: dict) -> float | None:
    """The recording's first sample from a record's ``t_rel`` (None in older files)."""
    if record.get("t_rel") is None:
        return None
    return float(record["end_time"]) - float(record["t_rel"])


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r}"
    return str(error)


def _binned(windows: list[Window]) -> list[tuple[float, float]]:
    """Mean confidence in at most CONFIDENCE_POINTS bins of successive windows."""
    size = max(1, math.ceil(len(windows) / CONFIDENCE_POINTS))
    out = []
    for i in range(0, len(windows), size):
        part = windows[i : i + size]
        middle = (part[0].start + part[-1].end) / 2
        out.append((middle, sum(w.confidence for w in part) / len(part)))
    return out
