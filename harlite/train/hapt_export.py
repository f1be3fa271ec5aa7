"""HAPT experiments as continuous, labelled sensor streams in the canonical CSV format.

``harlite data export`` writes them, so a recording can be streamed through the device
runtime exactly as a phone would deliver it, and the predictions compared with its labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harlite.atomic import atomic_file
from harlite.runtime.io.sensorcsv import CANONICAL_COLUMNS, Units
from harlite.runtime.spec import ACTIVITY_LABELS, SAMPLE_RATE_HZ
from harlite.train.hapt import (
    Experiment,
    check_segments,
    list_experiments,
    read_experiment,
    read_labels,
    require_raw_dir,
)

#: HAPT's postural transitions, activity ids 7–12.
TRANSITION_LABELS = (
    "STAND_TO_SIT",
    "SIT_TO_STAND",
    "SIT_TO_LIE",
    "LIE_TO_SIT",
    "STAND_TO_LIE",
    "LIE_TO_STAND",
)
ALL_LABELS = ACTIVITY_LABELS + TRANSITION_LABELS


def experiments(root: str | Path, subjects: list[int] | None = None) -> list[Experiment]:
    """The experiments under a HAPT folder, optionally of some subjects only."""
    found = list_experiments(require_raw_dir(root))
    return [e for e in found if subjects is None or e.user in subjects]


def labelled_recording(root: str | Path, experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """The raw (n, 6) signal of an experiment and each sample's activity name ('' if none)."""
    labels_path = require_raw_dir(root) / "labels.txt"
    segments = [s for s in read_labels(labels_path) if s.experiment == experiment.experiment]
    raw = read_experiment(experiment)
    check_segments(segments, {experiment.experiment: len(raw)}, labels_path)
    names = np.full(len(raw), "", dtype=object)
    for seg in segments:
        names[seg.start : seg.end + 1] = ALL_LABELS[seg.activity - 1]
    return raw, names


def write_stream_csv(
    path: str | Path,
    raw: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    times_s: np.ndarray | None = None,
    rate_hz: float = SAMPLE_RATE_HZ,
    start: int = 0,
    units: Units | None = None,
) -> None:
    """Write samples (n, 6: acc xyz in g, gyro xyz in rad/s) as a CSV with the canonical
    header, atomically.

    Times are ``times_s`` if given, else sample ``start + i`` at ``rate_hz``. ``units`` writes
    them as a phone might log them (e.g. m/s², deg/s and integer nanoseconds); the default is
    the canonical seconds, g and rad/s.
    """
    if times_s is None:
        times_s = (start + np.arange(len(raw))) / rate_hz
    units = units or Units()
    scale = units.scale()  # multiplying by it converts *to* the runtime's units
    values = raw / scale[1:]
    header = CANONICAL_COLUMNS if labels is not None else CANONICAL_COLUMNS[:-1]
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(header) + "\n")
        for i, row in enumerate(values):
            line = _time_text(times_s[i], units.time, scale[0]) + ","
            line += ",".join(map(repr, row.tolist()))  # shortest text that reads back exactly
            if labels is not None:
                line += "," + labels[i]
            handle.write(line + "\n")


def _time_text(seconds: float, unit: str, unit_seconds: float) -> str:
    if unit == "s":
        return f"{seconds:.6f}"
    return str(round(seconds / unit_seconds))


def export_recordings(
    root: str | Path, out_dir: str | Path, subjects: list[int] | None = None
) -> list[Path]:
    """One canonical CSV per experiment (``expNN_userMM.csv``) with its labels."""
    out_dir = Path(out_dir)
    written = []
    for experiment in experiments(root, subjects):
        raw, labels = labelled_recording(root, experiment)
        path = out_dir / f"exp{experiment.experiment:02d}_user{experiment.user:02d}.csv"
        write_stream_csv(path, raw, labels)
        written.append(path)
    return written
