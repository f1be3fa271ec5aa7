"""Builders of small data sets in the real layouts, for tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from harlite.runtime.io.lines import read_lines
from harlite.runtime.io.sources import CsvSource, InputOptions
from harlite.runtime.spec import MODEL_CHANNELS


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


def timed_rows(n: int, rate: float = 50.0, seed: int = 0, start: float = 0.0) -> np.ndarray:
    """(n, 7) rows: time at ``rate`` from ``start``, then a plausible raw signal."""
    return np.column_stack((start + np.arange(n) / rate, raw_signal(n, seed)))


def reader_of(data: bytes, block: int = 7):
    stream = io.BytesIO(data)
    return [pair for batch in read_lines(stream.read, block, max_line=64) for pair in batch]


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def canonical_csv(rows: np.ndarray, labels=None, header=True, newline="\n") -> str:
    lines = ["t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" + (",label" if labels else "")] * header
    for i, row in enumerate(rows):
        line = ",".join(f"{v:.9g}" for v in row)
        lines.append(line + (f",{labels[i]}" if labels else ""))
    return newline.join(lines) + newline


def parse_all(path, **options):
    source = CsvSource(path, InputOptions(**options))
    batches = list(source)
    rows = np.concatenate([b.rows for b in batches])
    bad = [x for b in batches for x in b.bad]
    return source, rows, bad


def command_lines() -> dict[int, bytes]:
    """Every process's command line (Linux /proc), by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
    return found
