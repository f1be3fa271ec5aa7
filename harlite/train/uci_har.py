"""The UCI HAR windowed layout: 128-sample windows already cut and filtered by UCI.

Layout (as in the UCI zip)::

    UCI HAR Dataset/{train,test}/Inertial Signals/{body_acc,body_gyro,total_acc}_{x,y,z}_{split}.txt
    UCI HAR Dataset/{train,test}/y_{split}.txt         activity id 1–6 per window
    UCI HAR Dataset/{train,test}/subject_{split}.txt   subject id per window

UCI filtered these windows with its own (non-causal) filters; harlite's device runtime
computes its inputs causally, so prefer the HAPT raw layout for models meant for the device.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harlite.errors import DataError
from harlite.runtime.spec import ACTIVITY_LABELS, MODEL_CHANNELS, SAMPLE_RATE_HZ, WINDOW_SAMPLES
from harlite.train.textio import read_numeric_table
from harlite.train.windowset import WindowSet

SPLITS = ("train", "test")
#: UCI cut its windows at 128 samples of its 50 Hz recordings (the standard the model uses).
WINDOW = WINDOW_SAMPLES
RATE_HZ = SAMPLE_RATE_HZ


def find_uci_har_dir(root: str | Path) -> Path | None:
    """The ``UCI HAR Dataset`` folder: ``root`` itself or its child of that name."""
    root = Path(root)
    for candidate in (root, root / "UCI HAR Dataset"):
        if any((candidate / split / "Inertial Signals").is_dir() for split in SPLITS):
            return candidate
    return None


def read_split(base: Path, split: str) -> WindowSet:
    """Read one split (``train`` or ``test``) into a WindowSet, channels in model order."""
    folder = base / split
    labels = read_numeric_table(folder / f"y_{split}.txt", 1)[:, 0]
    subjects = read_numeric_table(folder / f"subject_{split}.txt", 1)[:, 0]
    if len(labels) != len(subjects):
        raise DataError(
            f"{len(labels)} labels, but subject_{split}.txt has {len(subjects)} rows",
            folder / f"y_{split}.txt",
        )
    _check_integers(labels, folder / f"y_{split}.txt", 1, len(ACTIVITY_LABELS))
    _check_integers(subjects, folder / f"subject_{split}.txt", 1, None)

    X = np.empty((len(labels), WINDOW, len(MODEL_CHANNELS)), dtype=np.float32)
    for channel, name in enumerate(MODEL_CHANNELS):
        path = folder / "Inertial Signals" / f"{name}_{split}.txt"
        table = read_numeric_table(path, WINDOW)
        if len(table) != len(labels):
            raise DataError(f"{len(table)} windows, but y_{split}.txt has {len(labels)}", path)
        X[:, :, channel] = table
    unknown = np.full(len(labels), -1, dtype=np.int64)
    return WindowSet(
        X=X,
        y=labels.astype(np.int64) - 1,
        subject=subjects.astype(np.int64),
        experiment=unknown,
        start=unknown.copy(),
    )


def _check_integers(values: np.ndarray, path: Path, low: int, high: int | None) -> None:
    bad = (values != np.round(values)) | (values < low)
    if high is not None:
        bad |= values > high
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        allowed = f"an integer from {low} to {high}" if high else f"an integer ≥ {low}"
        raise DataError(f"{values[row]:g} is not {allowed}", path, row + 1)


def read_windows(root: str | Path) -> WindowSet:
    """All windows of the splits present under ``root`` (train, then test)."""
    base = find_uci_har_dir(root)
    if base is None:
        raise DataError("no '{train,test}/Inertial Signals' folder (not a UCI HAR folder)", root)
    parts = [read_split(base, s) for s in SPLITS if (base / s / "Inertial Signals").is_dir()]
    return WindowSet.concatenate(parts)


def input_files(root: str | Path) -> list[Path]:
    """Every file :func:`read_windows` reads, for cache keys."""
    base = find_uci_har_dir(root)
    if base is None:
        return []
    files = []
    for split in SPLITS:
        if (base / split / "Inertial Signals").is_dir():
            files += [base / split / f"y_{split}.txt", base / split / f"subject_{split}.txt"]
            files += [
                base / split / "Inertial Signals" / f"{n}_{split}.txt" for n in MODEL_CHANNELS
            ]
    return files
