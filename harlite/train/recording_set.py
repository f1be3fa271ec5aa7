"""Labelled windows from a folder of your own recordings, built by the device's own path.

Each recording is read by the source ``harlite stream`` uses for it
(:func:`~harlite.runtime.io.sources.open_source`) and windowed by
:class:`~harlite.runtime.signal.windower.StreamWindower`, the samples-to-windows path of
:class:`~harlite.runtime.stream.StreamClassifier`: the checks, clock guard, unit conversion,
resampling, preprocessing, windowing and window-label rule are the device's, not a copy.
The folder's conventions and metadata are in :mod:`harlite.train.recording_meta`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from harlite.errors import DataError
from harlite.runtime.io.sources import CsvSource, open_source
from harlite.runtime.rows import ParsedRows, RowCounts
from harlite.runtime.signal.input_check import LowRateError
from harlite.runtime.signal.preprocessing import FilterDesign
from harlite.runtime.signal.windower import StreamWindower
from harlite.runtime.spec import N_MODEL_CHANNELS
from harlite.train.recording_meta import (
    INDEX_FILE,
    DatasetFolder,
    DatasetSettings,
    Recording,
    find_recordings,
)
from harlite.train.windowset import WindowSet

#: Samples below this angular rate (rad/s) count as still for the gravity check.
STILL_GYRO_RAD_S = 0.1
#: |acc| of still samples accepted as gravity (g), and the angular rate (rad/s, 99th
#: percentile) beyond which a gyroscope is taken to be in deg/s.
STILL_G_RANGE = (0.85, 1.15)
GYRO_P99_LIMIT_RAD_S = 15.0
#: Units a header may state in brackets, e.g. ``ax (m/s^2)`` or ``gyro_x [deg/s]``.
_HEADER_UNITS = {
    "g": "g",
    "m/s^2": "m/s2",
    "m/s2": "m/s2",
    "m/s²": "m/s2",
    "rad/s": "rad/s",
    "deg/s": "deg/s",
    "°/s": "deg/s",
    "dps": "deg/s",
}


@dataclass
class RecordingReport:
    """What one recording gave: rows, bad rows, labelled signal and windows per class, and
    the checks of its units and rate."""

    name: str
    subject: int
    placement: str | None
    split: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    bad_rows: int = 0
    bad_row_reasons: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    duration_s: float = 0.0
    input_rate_hz: float | None = None
    gaps: int = 0
    seconds_per_class: dict[str, float] = field(default_factory=dict)
    windows_per_class: dict[str, int] = field(default_factory=dict)
    still_acc_g: float | None = None
    gyro_p99_rad_s: float | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordingSet:
    """A recordings folder's windows and what each recording gave."""

    windows: WindowSet
    recordings: list[RecordingReport]
    settings: DatasetSettings
    test_subjects: tuple[int, ...]
    val_subjects: tuple[int, ...]


def input_files(root: Path) -> list[Path]:
    """Every file the windows depend on (for the cache key): settings, index, recordings."""
    folder = DatasetFolder.locate(root)
    files = folder.files()
    for recording in find_recordings(folder):
        path = recording.path
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def read_recording_set(
    root: str | Path,
    design: FilterDesign,
    window: int,
    hop: int,
    labels: Sequence[str] | None = None,
    *,
    require_every_class: bool = True,
    window_label: str | None = None,
) -> RecordingSet:
    """Read and window every recording of a folder.

    Args:
        root: the recordings folder.
        design, window, hop: the preprocessing and windows (the model's).
        labels: the classes, in output order (a model's, to evaluate it); None takes the
            settings' ``labels``, else every class found, sorted.
        require_every_class: a class without a single window is an error (training).
        window_label: the window-label rule instead of the settings' (to measure on windows
            labelled otherwise than in training).

    Raises:
        DataError: naming the file, line and field of anything inconsistent: a label outside
            the classes, a recording with no label anywhere, units declared differently, a
            class without data.
    """
    root = Path(root)
    folder = DatasetFolder.locate(root)
    settings = folder.settings
    if window_label is not None:
        settings = replace(settings, window_label=window_label)
    recordings = find_recordings(folder)
    classes = list(labels or settings.labels or [])
    parts, reports = [], []
    for recording in recordings:
        part, report = _read_one(recording, settings, design, window, hop, classes or None)
        parts.append(part)
        reports.append(report)
    found = sorted({label for part in parts for label in part.labels})
    classes = classes or found
    windows = WindowSet.concatenate([_recode(part, classes) for part in parts])
    if require_every_class:
        _check_every_class(windows, reports, classes, root)
    test = sorted({r.subject for r in recordings if r.split == "test"})
    val = sorted({r.subject for r in recordings if r.split == "val"})
    return RecordingSet(windows, reports, settings, tuple(test), tuple(val))


def _read_one(
    recording: Recording,
    settings: DatasetSettings,
    design: FilterDesign,
    window: int,
    hop: int,
    classes: list[str] | None,
) -> tuple[WindowSet, RecordingReport]:
    """One recording's windows (labels: the classes it holds) and its report."""
    source = open_source(str(recording.path), recording.options)
    batches = list(source)
    if isinstance(source, CsvSource) and source.layout is not None:
        _check_header_units(source, recording)
    row_labels = _row_labels(batches, recording, settings, classes)
    local = sorted({label for labels in row_labels for label in labels if label is not None})
    windower: StreamWindower = StreamWindower(
        design, window, hop, local or ["?"], window_label=settings.window_label
    )
    report = RecordingReport(
        recording.name,
        recording.subject,
        recording.placement,
        recording.split,
        dict(recording.extra),
    )
    counts = RowCounts()
    found = []
    try:
        for parsed, labels in zip(batches, row_labels, strict=True):
            counts.read(parsed)
            step = windower.push(parsed.rows, labels, parsed.lines)
            counts.refused(step.rejected)
            found += step.windows
    except LowRateError as error:
        raise DataError(str(error), recording.path) from None
    counts.refused(windower.flush().rejected)
    report.rows = counts.rows
    _fill_report(report, windower, counts, batches, row_labels)
    codes = np.concatenate([w.codes for w in found]) if found else np.empty(0, np.int64)
    keep = codes >= 0
    data = (
        np.concatenate([w.batch.data for w in found])
        if found
        else np.empty((0, window, N_MODEL_CHANNELS), np.float32)
    )
    starts = np.concatenate([w.batch.start_index for w in found]) if found else np.empty(0)
    n = int(keep.sum())
    report.windows_per_class = {
        label: int((codes[keep] == i).sum()) for i, label in enumerate(local)
    }
    part = WindowSet(
        X=data[keep],
        y=codes[keep].astype(np.int64),
        subject=np.full(n, recording.subject, dtype=np.int64),
        experiment=np.full(n, recording.number, dtype=np.int64),
        start=starts[keep].astype(np.int64),
        labels=tuple(local),
        placement=np.array([recording.placement or ""] * n, dtype=str),
    )
    return part, report


def _row_labels(
    batches: list[ParsedRows],
    recording: Recording,
    settings: DatasetSettings,
    classes: list[str] | None,
) -> list[list[str | None]]:
    """Each row's class: the file's label column (renamed, ignored labels left out), else the
    recording's own label from the index or its folder."""
    has_column = any(parsed.labels is not None for parsed in batches)
    if not has_column:
        if recording.label is None:
            raise DataError(
                f"no label anywhere: the file has no label column, {INDEX_FILE} gives it no "
                "label and it is not in a LABEL/ folder",
                recording.path,
            )
        label = settings.class_of(recording.label)
        if label is not None:
            _check_known(label, classes, recording.path, None, recording.label_origin)
        return [[label] * len(parsed.rows) for parsed in batches]
    result = []
    for parsed in batches:
        labels = [settings.class_of(label) for label in parsed.labels or []]
        for line, label in zip(parsed.lines, labels, strict=True):
            if label is not None:
                _check_known(label, classes, recording.path, int(line), None)
                if recording.label_origin not in (None, "folder") and label != recording.label:
                    raise DataError(
                        f"the label column says {label!r}, {recording.label_origin} says "
                        f"{recording.label!r}",
                        recording.path,
                        int(line),
                        "label",
                    )
        result.append(labels)
    return result


def _check_known(
    label: str, classes: list[str] | None, path: Path, line: int | None, origin: str | None
) -> None:
    if classes is not None and label not in classes:
        where = f" ({origin})" if origin and origin != "folder" else ""
        raise DataError(
            f"unknown label {label!r}{where}: the classes are {', '.join(classes)} (rename it "
            "or ignore it in dataset.toml)",
            path,
            line,
            "label",
        )


def _check_header_units(source: CsvSource, recording: Recording) -> None:
    """Units a header states in brackets must agree among themselves and with the settings
    (the stream reads the settings' units, never the header's)."""
    layout = source.layout
    declared = {"acc": source.units.acc, "gyro": source.units.gyro}
    for kind, columns in (("acc", layout.signals[:3]), ("gyro", layout.signals[3:])):
        stated = {}
        for column in columns:
            name = layout.names[column] if layout.names else ""
            match = re.search(r"[\[(]\s*([^\])]+?)\s*[\])]\s*$", name)
            if match:
                unit = _HEADER_UNITS.get(match.group(1).strip().lower().replace(" ", ""))
                if unit is not None:
                    stated[name] = unit
        if len(set(stated.values())) > 1:
            raise DataError(
                f"mixed units declared in the header: {', '.join(f'{k}' for k in stated)}",
                recording.path,
                1,
            )
        if stated and next(iter(stated.values())) != declared[kind]:
            unit = next(iter(stated.values()))
            raise DataError(
                f"the header says {unit}, the settings {declared[kind]} (set {kind}_unit = "
                f"{unit!r} in dataset.toml or {INDEX_FILE})",
                recording.path,
                1,
                next(iter(stated)),
            )


def _fill_report(
    report: RecordingReport,
    windower: StreamWindower,
    counts: RowCounts,
    batches: list[ParsedRows],
    row_labels: list[list[str | None]],
) -> None:
    report.bad_rows = counts.bad_rows
    report.bad_row_reasons = counts.reasons_by_count()
    report.samples = windower.samples
    report.duration_s = round(windower.duration_s, 3)
    rate = windower.input_rate_hz
    report.input_rate_hz = None if rate is None else round(rate, 2)
    report.gaps = windower.gaps
    report.warnings = windower.warnings
    labels = Counter(label for labels in row_labels for label in labels if label is not None)
    if rate:
        report.seconds_per_class = {k: round(v / rate, 2) for k, v in sorted(labels.items())}
    rows = np.concatenate([p.rows for p in batches]) if batches else np.empty((0, 7))
    finite = rows[np.isfinite(rows).all(axis=1)]
    if len(finite):
        gyro = np.linalg.norm(finite[:, 4:7], axis=1)
        acc = np.linalg.norm(finite[:, 1:4], axis=1)
        still = gyro < STILL_GYRO_RAD_S
        report.still_acc_g = round(float(np.median(acc[still])), 3) if still.any() else None
        report.gyro_p99_rad_s = round(float(np.percentile(gyro, 99)), 3)


def unit_warnings(report: RecordingReport) -> list[str]:
    """What the recording's still segments and angular rates say about its units."""
    warnings = []
    low, high = STILL_G_RANGE
    if report.still_acc_g is not None and not low <= report.still_acc_g <= high:
        warnings.append(
            f"|acc| while still is {report.still_acc_g:.3g} g, not about 1 g: check acc_unit "
            "(m/s2 or g) and the columns"
        )
    if report.gyro_p99_rad_s is not None and report.gyro_p99_rad_s > GYRO_P99_LIMIT_RAD_S:
        warnings.append(
            f"angular rate reaches {report.gyro_p99_rad_s:.3g} rad/s (99th percentile): "
            "deg/s read as rad/s? check gyro_unit"
        )
    return warnings


def _recode(part: WindowSet, classes: list[str]) -> WindowSet:
    """A recording's windows with their codes in the data set's class order."""
    mapping = np.array([classes.index(label) if label in classes else -1 for label in part.labels])
    y = mapping[part.y] if len(part) else part.y
    return WindowSet(
        part.X,
        y,
        part.subject,
        part.experiment,
        part.start,
        labels=classes,
        placement=part.placement,
    )


def _check_every_class(
    windows: WindowSet, reports: list[RecordingReport], classes: list[str], root: Path
) -> None:
    counts = windows.windows_per_class()
    empty = [label for label in classes if counts[label] == 0]
    if not empty:
        return
    label = empty[0]
    seconds = sum(r.seconds_per_class.get(label, 0.0) for r in reports)
    if seconds:
        detail = (
            f"its {seconds:.1f} s of signal give no window under the window-label rule "
            "(segments shorter than a window: set window_label = 'center' or 'majority' in "
            "dataset.toml, or record longer)"
        )
    else:
        detail = "no recording holds it (remove it from labels, or add recordings)"
    raise DataError(f"class {label!r} has no data: {detail}", root)
