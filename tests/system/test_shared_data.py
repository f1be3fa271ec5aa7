"""Integration: the real HAPT recordings of the 21 training subjects in ../shared."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from harlite.cli import cli
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train.datasets import load_windows
from harlite.train.hapt import find_raw_dir, read_labels
from harlite.train.splits import UCI_TRAIN_SUBJECTS


def reference_counts(root) -> dict[str, int]:
    """Windows per class by brute force: for each basic-activity segment, count the grid
    windows (every 64 samples from 0, 128 long) that lie wholly inside it."""
    counts = dict.fromkeys(ACTIVITY_LABELS, 0)
    for seg in read_labels(find_raw_dir(root) / "labels.txt"):
        if seg.activity <= 6:
            first = -(-seg.start // 64) * 64
            counts[ACTIVITY_LABELS[seg.activity - 1]] += sum(
                1 for s in range(first, seg.end + 1, 64) if s + 127 <= seg.end
            )
    return counts


def test_all_windows_of_the_real_recordings(shared_hapt):
    ws = load_windows(shared_hapt)
    assert ws.windows_per_class() == reference_counts(shared_hapt)
    # Measured once and pinned, so a change in how windows are cut shows up here.
    assert ws.windows_per_class() == {
        "WALKING": 1186,
        "WALKING_UPSTAIRS": 1019,
        "WALKING_DOWNSTAIRS": 923,
        "SITTING": 1252,
        "STANDING": 1385,
        "LAYING": 1378,
    }
    assert ws.X.shape == (7143, 128, 9) and np.isfinite(ws.X).all()
    assert ws.subjects == list(UCI_TRAIN_SUBJECTS)
    # Channel sanity: total acceleration magnitude ≈ 1 g while LAYING still.
    laying = ws.X[ws.y == ACTIVITY_LABELS.index("LAYING")]
    assert 0.9 < np.median(np.linalg.norm(laying[:, :, 6:9], axis=2)) < 1.1
    # and body acceleration (gravity removed) is near zero then
    assert np.median(np.abs(laying[:, :, 0:3])) < 0.01


def test_data_info_of_the_real_recordings(shared_hapt):
    result = CliRunner().invoke(cli, ["data", "info", str(shared_hapt), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert len(info["subjects"]) == 21
    assert info["experiments"] == 42
    assert round(info["hours"], 2) == 4.43
