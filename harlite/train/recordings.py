"""HAPT experiments as continuous, labelled sensor streams in the canonical CSV format.

``harlite data export`` writes them, so a recording can be streamed through the device
runtime exactly as a phone would deliver it, and the predictions compared with its labels.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal

from harlite.atomic import atomic_file
from harlite.errors import DataError
from harlite.runtime.spec import ACTIVITY_LABELS, SAMPLE_RATE_HZ
from harlite.train.hapt import (
    Experiment,
    check_segments,
    find_raw_dir,
    list_experiments,
    read_experiment,
    read_labels,
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

CANONICAL_HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label"


def experiments(root: str | Path, subjects: list[int] | None = None) -> list[Experiment]:
    """The experiments under a HAPT folder, optionally of some subjects only."""
    raw_dir = find_raw_dir(root)
    if raw_dir is None:
        raise DataError("no RawData/labels.txt (not a HAPT raw folder)", root)
    found = list_experiments(raw_dir)
    return [e for e in found if subjects is None or e.user in subjects]


def labelled_recording(root: str | Path, experiment: Experiment) -> tuple[np.ndarray, np.ndarray]:
    """The raw (n, 6) signal of an experiment and each sample's activity name ('' if none)."""
    raw_dir = find_raw_dir(root)
    labels_path = raw_dir / "labels.txt"
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
    rate_hz: float = SAMPLE_RATE_HZ,
    start: int = 0,
) -> None:
    """Write samples as a canonical stream CSV (t in s from sample ``start``, g, rad/s)."""
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(
            CANONICAL_HEADER + "\n" if labels is not None else CANONICAL_HEADER[:-6] + "\n"
        )
        for i, row in enumerate(raw):
            values = ",".join(f"{v:.9g}" for v in row)
            line = f"{(start + i) / rate_hz:.4f},{values}"
            if labels is not None:
                line += "," + labels[i]
            handle.write(line + "\n")


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


def resampled_recording(
    raw: np.ndarray,
    labels: np.ndarray | None,
    rate_hz: float,
    source_rate_hz: float = SAMPLE_RATE_HZ,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The recording as a sensor at ``rate_hz`` would have delivered it (polyphase
    resampling), with each new sample labelled as the original sample nearest in time."""
    ratio = Fraction(rate_hz / source_rate_hz).limit_denominator(1000)
    resampled = signal.resample_poly(raw, ratio.numerator, ratio.denominator, axis=0)
    if labels is None:
        return resampled, None
    nearest = np.rint(np.arange(len(resampled)) * source_rate_hz / rate_hz).astype(int)
    return resampled, labels[np.clip(nearest, 0, len(labels) - 1)]


def write_sensor_csv(
    path: str | Path,
    times_s: np.ndarray,
    raw: np.ndarray,
    labels: np.ndarray | None = None,
    acc_unit: str = "g",
    gyro_unit: str = "rad/s",
    time_unit: str = "s",
) -> None:
    """Write a canonical-header CSV in other units (as phones log them), e.g. m/s², deg/s
    and integer nanoseconds."""
    acc = {"g": 1.0, "m/s2": 9.80665}[acc_unit]
    gyro = {"rad/s": 1.0, "deg/s": 180.0 / np.pi}[gyro_unit]
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[time_unit]
    values = raw * np.array([acc] * 3 + [gyro] * 3)
    header = CANONICAL_HEADER if labels is not None else CANONICAL_HEADER.removesuffix(",label")
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(header + "\n")
        for i, row in enumerate(values):
            stamp = f"{times_s[i]:.6f}" if time_unit == "s" else str(round(times_s[i] * per_second))
            line = stamp + "," + ",".join(f"{v:.9g}" for v in row)
            if labels is not None:
                line += "," + labels[i]
            handle.write(line + "\n")
