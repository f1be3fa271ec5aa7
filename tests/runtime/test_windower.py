"""harlite.runtime.signal.windower: the device's samples-to-windows path, without a model."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.signal.preprocessing import FilterDesign, preprocess_recording
from harlite.runtime.signal.sliding_window import SlidingWindow
from harlite.runtime.signal.windower import NON_FINITE, StreamWindower, window_labels
from tests.builders import timed_rows

pytestmark = pytest.mark.runtime


def windower(**settings) -> StreamWindower:
    return StreamWindower(FilterDesign(), 128, 64, ["A", "B"], **settings)


def test_on_grid_input_gives_the_whole_recording_windows_bit_for_bit():
    rows = timed_rows(2000)
    pushed = windower()
    found = [w for i in range(0, 2000, 333) for w in pushed.push(rows[i : i + 333])]
    data = np.concatenate([w.batch.data for w in found])
    reference = SlidingWindow(128, 64).push(preprocess_recording(rows[:, 1:]))
    assert np.array_equal(data, reference.data)
    assert np.array_equal(
        np.concatenate([w.batch.start_index for w in found]), reference.start_index
    )


def test_labels_follow_the_rule_and_unknown_labels_are_unlabelled():
    rows = timed_rows(512)
    labels = ["A"] * 200 + ["B"] * 200 + ["C"] * 112  # C is not a known label
    codes = {}
    for rule in ("uniform", "majority", "center"):
        found = windower(window_label=rule).push(rows, labels)
        codes[rule] = np.concatenate([w.codes for w in found]).tolist()
    # windows start at 0, 64, …, 384 (7 windows of 128); A is samples 0–199, B 200–399
    assert codes["uniform"] == [0, 0, -1, -1, 1, -1, -1]
    assert codes["majority"] == [0, 0, 0, 1, 1, 1, -1]  # 72 of 128 A; 120 B; 80 B
    assert codes["center"] == [0, 0, 0, 1, 1, 1, -1]  # samples 64, 128, 192, 256, …, 448


def test_bad_samples_are_refused_and_counted_with_their_lines():
    rows = timed_rows(300)
    rows[10, 2] = np.nan
    pushed = windower()
    assert pushed.push(rows, lines=np.arange(300) + 2).rejected == [(12, NON_FINITE)]
    assert pushed.samples == 299


def test_an_unknown_rule_is_an_error():
    with pytest.raises(ValueError, match="window label rule"):
        windower(window_label="mode")
    with pytest.raises(ValueError, match="window label rule"):
        window_labels(np.zeros((1, 4), int), "mode")
