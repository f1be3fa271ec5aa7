"""Shared fixtures: tiny data sets written by the tests, and the real recordings in ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from harlite.runtime.spec import MODEL_CHANNELS

REPO = Path(__file__).resolve().parents[1]
SHARED_HAPT = Path(os.environ.get("HARLITE_SHARED_HAPT", REPO.parent / "shared" / "data" / "hapt"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own window cache, so no test reads another's entries."""
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def shared_hapt() -> Path:
    """The real HAPT recordings of the 21 training subjects (skips when absent)."""
    if not (SHARED_HAPT / "RawData" / "labels.txt").is_file():
        pytest.skip(f"real recordings not found at {SHARED_HAPT} (CI has them in ../shared)")
    return SHARED_HAPT


def raw_signal(n: int, seed: int) -> np.ndarray:
    """A plausible (n, 6) raw signal: gravity on x plus noise, gyro noise."""
    rng = np.random.default_rng(seed)
    acc = np.array([1.0, 0.0, 0.0]) + 0.05 * rng.standard_normal((n, 3))
    gyro = 0.1 * rng.standard_normal((n, 3))
    return np.hstack((acc, gyro))


def write_hapt(
    root: Path,
    experiments: dict[tuple[int, int], int],
    segments: list[tuple[int, int, int, int, int]],
    seed: int = 0,
) -> Path:
    """Write a HAPT raw folder: ``experiments`` maps (experiment, user) to a length in samples;
    ``segments`` are labels.txt rows (experiment, user, activity, start, end)."""
    raw_dir = root / "RawData"
    raw_dir.mkdir(parents=True, exist_ok=True)
    for i, ((experiment, user), n) in enumerate(sorted(experiments.items())):
        signal = raw_signal(n, seed + i)
        name = f"exp{experiment:02d}_user{user:02d}.txt"
        np.savetxt(raw_dir / f"acc_{name}", signal[:, :3], fmt="%.9f")
        np.savetxt(raw_dir / f"gyro_{name}", signal[:, 3:], fmt="%.9f")
    lines = [" ".join(str(v) for v in row) for row in segments]
    (raw_dir / "labels.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def tiny_hapt(tmp_path) -> Path:
    """Two subjects, three experiments, segments of basic activities and a transition."""
    return write_hapt(
        tmp_path / "hapt",
        {(1, 1): 1000, (2, 1): 700, (3, 3): 900},
        [
            (1, 1, 5, 100, 499),  # STANDING, 400 samples
            (1, 1, 7, 500, 599),  # STAND_TO_SIT: transitions give no windows
            (1, 1, 4, 600, 999),  # SITTING up to the last sample
            (2, 1, 1, 0, 300),
            (3, 3, 6, 64, 191),  # exactly one grid-aligned window
            (3, 3, 2, 300, 800),
        ],
    )


def write_uci_har(root: Path, splits: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Path:
    """Write a UCI HAR folder; ``splits`` maps split name to (X (n,128,9), y 1–6, subject)."""
    base = root / "UCI HAR Dataset"
    for split, (X, y, subject) in splits.items():
        folder = base / split / "Inertial Signals"
        folder.mkdir(parents=True)
        for channel, name in enumerate(MODEL_CHANNELS):
            np.savetxt(folder / f"{name}_{split}.txt", X[:, :, channel], fmt="% .7e")
        np.savetxt(base / split / f"y_{split}.txt", y, fmt="%d")
        np.savetxt(base / split / f"subject_{split}.txt", subject, fmt="%d")
    return root


@pytest.fixture
def tiny_uci(tmp_path):
    """A UCI HAR folder with 5 train and 3 test windows, and the arrays written to it."""
    rng = np.random.default_rng(1)
    arrays = {
        "train": (
            rng.standard_normal((5, 128, 9)),
            np.array([1, 2, 3, 4, 5]),
            np.array([1, 1, 3, 3, 5]),
        ),
        "test": (rng.standard_normal((3, 128, 9)), np.array([6, 6, 1]), np.array([2, 2, 4])),
    }
    return write_uci_har(tmp_path / "uci", arrays), arrays
