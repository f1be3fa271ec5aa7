"""The UCI HAPT raw layout: continuous 50 Hz recordings and their labelled segments.

Layout (as in the UCI zip)::

    RawData/acc_expNN_userMM.txt    accelerometer x y z in g, one row per sample
    RawData/gyro_expNN_userMM.txt   gyroscope x y z in rad/s, same rows
    RawData/labels.txt              "experiment user activity start end" per segment,
                                    inclusive 0-based sample rows

Windows are built the way the device sees them: the preprocessing runs over each whole
experiment, windows are cut every ``hop`` samples from its first sample, and a window is
kept when it lies entirely inside one labelled segment of a basic activity (ids 1–6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harlite.errors import DataError
from harlite.runtime.signal.preprocessing import FilterDesign, preprocess_recording
from harlite.runtime.signal.sliding_window import SlidingWindow
from harlite.runtime.spec import ACTIVITY_LABELS, HOP_SAMPLES, SAMPLE_RATE_HZ, WINDOW_SAMPLES
from harlite.train.textio import read_numeric_table
from harlite.train.windowset import WindowSet

N_ACTIVITY_IDS = 12  # 1–6 basic activities, 7–12 postural transitions
#: HAPT's recordings are sampled at 50 Hz (the rate the standard model was designed for).
RATE_HZ = SAMPLE_RATE_HZ
_SIGNAL_FILE = re.compile(r"^(acc|gyro)_exp(\d+)_user(\d+)\.txt$")


@dataclass(frozen=True)
class Segment:
    """One line of labels.txt: samples ``start``..``end`` (inclusive) of an experiment."""

    experiment: int
    user: int
    activity: int
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class Experiment:
    """One recording: its id, its subject and its two signal files."""

    experiment: int
    user: int
    acc_path: Path
    gyro_path: Path


def find_raw_dir(root: str | Path) -> Path | None:
    """The folder holding labels.txt and the signal files: ``root/RawData`` or ``root``."""
    root = Path(root)
    for candidate in (root / "RawData", root):
        if (candidate / "labels.txt").is_file():
            return candidate
    return None


def require_raw_dir(root: str | Path) -> Path:
    """The raw folder of a HAPT data set, or a DataError saying the folder is not one."""
    raw_dir = find_raw_dir(root)
    if raw_dir is None:
        raise DataError("no RawData/labels.txt (not a HAPT raw folder)", root)
    return raw_dir


def read_labels(path: str | Path) -> list[Segment]:
    """Parse labels.txt strictly; every problem names the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path)
    segments = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                fields = raw.decode("utf-8").split()
            except UnicodeDecodeError:
                raise DataError("not UTF-8 text", path, number) from None
            if not fields:
                continue
            if len(fields) != 5:
                raise DataError(
                    f"expected 5 integers (experiment user activity start end), found "
                    f"{len(fields)} fields",
                    path,
                    number,
                )
            try:
                experiment, user, activity, start, end = (int(f) for f in fields)
            except ValueError:
                raise DataError(
                    f"not an integer in {' '.join(fields)[:80]!r}", path, number
                ) from None
            if not 1 <= activity <= N_ACTIVITY_IDS:
                raise DataError(
                    f"unknown activity id {activity} (expected 1–{N_ACTIVITY_IDS})",
                    path,
                    number,
                    "activity",
                )
            if start < 0 or end < start:
                raise DataError(f"bad sample range {start}..{end}", path, number, "start/end")
            segments.append(Segment(experiment, user, activity, start, end, number))
    if not segments:
        raise DataError("no labelled segments", path)
    return segments


def list_experiments(raw_dir: str | Path) -> list[Experiment]:
    """The experiments with both signal files in ``raw_dir``, sorted by experiment id."""
    raw_dir = Path(raw_dir)
    found: dict[tuple[int, int], dict[str, Path]] = {}
    for path in raw_dir.iterdir():
        match = _SIGNAL_FILE.match(path.name)
        if match:
            kind, experiment, user = match.group(1), int(match.group(2)), int(match.group(3))
            found.setdefault((experiment, user), {})[kind] = path
    experiments = []
    for (experiment, user), files in sorted(found.items()):
        for kind in ("acc", "gyro"):
            if kind not in files:
                expected = raw_dir / f"{kind}_exp{experiment:02d}_user{user:02d}.txt"
                raise DataError("file not found (its pair is present)", expected)
        experiments.append(Experiment(experiment, user, files["acc"], files["gyro"]))
    if not experiments:
        raise DataError("no acc_expNN_userMM.txt / gyro_expNN_userMM.txt files", raw_dir)
    return experiments


def read_experiment(experiment: Experiment) -> np.ndarray:
    """The raw (n, 6) signal of one experiment: acc xyz [g], gyro xyz [rad/s]."""
    acc = read_numeric_table(experiment.acc_path, 3)
    gyro = read_numeric_table(experiment.gyro_path, 3)
    if len(acc) != len(gyro):
        raise DataError(
            f"{len(acc)} samples, but {experiment.gyro_path.name} has {len(gyro)}",
            experiment.acc_path,
        )
    return np.hstack((acc, gyro))


def check_segments(segments: list[Segment], lengths: dict[int, int], labels_path: Path) -> None:
    """Every segment must name a present experiment, lie inside it and overlap no other."""
    last_end: dict[int, int] = {}
    for seg in sorted(segments, key=lambda s: (s.experiment, s.start)):
        if seg.experiment not in lengths:
            raise DataError(
                f"experiment {seg.experiment} (user {seg.user}) has no signal files",
                labels_path,
                seg.line,
            )
        if seg.end >= lengths[seg.experiment]:
            raise DataError(
                f"segment {seg.start}..{seg.end} lies outside its file "
                f"({lengths[seg.experiment]} samples)",
                labels_path,
                seg.line,
                "end",
            )
        if seg.start <= last_end.get(seg.experiment, -1):
            raise DataError("segment overlaps the one before it", labels_path, seg.line, "start")
        last_end[seg.experiment] = seg.end


def build_windows(
    root: str | Path,
    design: FilterDesign | None = None,
    window: int = WINDOW_SAMPLES,
    hop: int = HOP_SAMPLES,
) -> WindowSet:
    """Windows of every experiment under ``root`` that lie inside one basic-activity segment."""
    raw_dir = require_raw_dir(root)
    labels_path = raw_dir / "labels.txt"
    segments = read_labels(labels_path)
    experiments = list_experiments(raw_dir)
    users = {e.experiment: e.user for e in experiments}
    for seg in segments:
        if seg.experiment in users and users[seg.experiment] != seg.user:
            raise DataError(
                f"experiment {seg.experiment} belongs to user {users[seg.experiment]}, "
                f"not {seg.user}",
                labels_path,
                seg.line,
                "user",
            )

    parts, lengths = [], {}
    for experiment in experiments:
        raw = read_experiment(experiment)
        lengths[experiment.experiment] = len(raw)
        parts.append((experiment, raw))
    check_segments(segments, lengths, labels_path)

    by_experiment: dict[int, list[Segment]] = {}
    for seg in segments:
        by_experiment.setdefault(seg.experiment, []).append(seg)
    return WindowSet.concatenate(
        [
            _experiment_windows(
                exp, raw, by_experiment.get(exp.experiment, []), design, window, hop
            )
            for exp, raw in parts
        ]
    )


def _experiment_windows(
    experiment: Experiment,
    raw: np.ndarray,
    segments: list[Segment],
    design: FilterDesign | None,
    window: int,
    hop: int,
) -> WindowSet:
    signals = preprocess_recording(raw, design)
    batch = SlidingWindow(window, hop, channels=signals.shape[1]).push(signals)
    # Which segment each sample belongs to (−1: none), and where each segment ends.
    segment_of = np.full(len(raw), -1)
    seg_end = np.empty(len(segments), dtype=np.int64)
    seg_activity = np.empty(len(segments), dtype=np.int64)
    for i, seg in enumerate(segments):
        segment_of[seg.start : seg.end + 1] = i
        seg_end[i], seg_activity[i] = seg.end, seg.activity
    first = segment_of[batch.start_index]
    inside = first >= 0
    inside[inside] &= seg_end[first[inside]] >= batch.end_index[inside]
    inside[inside] &= seg_activity[first[inside]] <= len(ACTIVITY_LABELS)
    n = int(inside.sum())
    return WindowSet(
        X=batch.data[inside],
        y=seg_activity[first[inside]] - 1,
        subject=np.full(n, experiment.user, dtype=np.int64),
        experiment=np.full(n, experiment.experiment, dtype=np.int64),
        start=batch.start_index[inside].astype(np.int64),
    )


def signal_hours(root: str | Path) -> tuple[list[int], int, float]:
    """Subjects, number of experiments and hours of signal under a HAPT raw folder."""
    experiments = list_experiments(require_raw_dir(root))
    samples = 0
    for experiment in experiments:
        with experiment.acc_path.open("rb") as handle:
            samples += sum(1 for line in handle if line.strip())
    subjects = sorted({e.user for e in experiments})
    return subjects, len(experiments), samples / RATE_HZ / 3600
