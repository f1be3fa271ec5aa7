"""Sliding windows: counts, chunk invariance, timestamps, restarts, constant memory."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harlite.runtime import SlidingWindow, count_windows

pytestmark = pytest.mark.runtime


def ramp(n: int, channels: int = 9) -> np.ndarray:
    """Sample i holds the value i on every channel, so a window shows where it came from."""
    return np.repeat(np.arange(n, dtype=np.float32)[:, None], channels, axis=1)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 2000), window=st.integers(1, 200), hop=st.integers(1, 150))
def test_a_continuous_segment_gives_the_formula_count(n, window, hop):
    batch = SlidingWindow(window, hop, channels=2).push(ramp(n, 2))
    assert len(batch) == count_windows(n, window, hop)
    expected = 0 if n < window else (n - window) // hop + 1
    assert len(batch) == expected


def test_default_is_128_by_9_with_50_percent_overlap():
    batch = SlidingWindow().push(ramp(1000))
    assert batch.data.shape == (count_windows(1000), 128, 9) == (14, 128, 9)
    assert batch.data.dtype == np.float32
    np.testing.assert_array_equal(batch.start_index, np.arange(14) * 64)
    np.testing.assert_array_equal(batch.end_index, np.arange(14) * 64 + 127)
    for w in batch:
        np.testing.assert_array_equal(w.data[:, 0], np.arange(w.start_index, w.end_index + 1))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=30))
def test_chunks_of_any_size_give_the_same_windows(sizes):
    x = ramp(sum(sizes))
    whole = SlidingWindow().push(x)
    stream, got, i = SlidingWindow(), [], 0
    for size in sizes:
        got.extend(stream.push(x[i : i + size]))
        i += size
    assert [w.start_index for w in got] == list(whole.start_index)
    for w, expected in zip(got, whole.data, strict=True):
        np.testing.assert_array_equal(w.data, expected)
    assert stream.samples_seen == len(x)


def test_one_sample_at_a_time():
    x = ramp(400)
    stream = SlidingWindow()
    ends = [w.end_index for i in range(400) for w in stream.push(x[i : i + 1])]
    assert ends == [127, 191, 255, 319, 383]


def test_timestamps_follow_the_windows():
    x, t = ramp(300), 1000.0 + np.arange(300) * 0.02
    stream = SlidingWindow()
    windows = list(stream.push(x[:100], t[:100])) + list(stream.push(x[100:], t[100:]))
    assert [(w.start_time, w.end_time) for w in windows] == [
        (pytest.approx(t[s]), pytest.approx(t[s + 127])) for s in (0, 64, 128)
    ]
    with pytest.raises(ValueError, match="timestamps"):
        stream.push(x[:5])
    with pytest.raises(ValueError, match="shape"):
        SlidingWindow().push(x[:5], t[:4])


def test_restart_begins_a_new_window_grid():
    x = ramp(500)
    stream = SlidingWindow()
    first = stream.push(x[:150])
    stream.restart()  # a gap in the stream
    after = stream.push(x[150:])
    assert list(first.start_index) == [0]
    assert list(after.start_index) == [150, 214, 278, 342]
    assert after.data[0][0, 0] == 150


def test_memory_is_constant_whatever_the_stream_length():
    stream = SlidingWindow()
    chunk = ramp(1000)
    for _ in range(50):
        stream.push(chunk)
    assert stream._tail.shape == (127, 9)  # only window - 1 samples are ever kept
    assert stream.samples_seen == 50_000


def test_bad_arguments():
    with pytest.raises(ValueError):
        SlidingWindow(window=0)
    with pytest.raises(ValueError, match="shape"):
        SlidingWindow().push(np.zeros((10, 6)))
