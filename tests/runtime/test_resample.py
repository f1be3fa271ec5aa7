"""harlite.runtime.signal.resample: streaming resampling onto the model's grid (runtime-only)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harlite.runtime.signal.resample import Resampler
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def test_on_grid_input_comes_out_unchanged():
    t = np.arange(300) / 50.0
    x = np.random.default_rng(0).standard_normal((300, 6))
    pieces = Resampler(50.0, 0.25).push(t, x, np.zeros(300, np.int16))
    assert len(pieces) == 1
    np.testing.assert_allclose(pieces[0].values, x, atol=1e-12)
    np.testing.assert_allclose(pieces[0].times, t, atol=1e-12)


def test_100_hz_ramp_is_interpolated_onto_the_50_hz_grid():
    t = 0.003 + np.arange(1000) / 100.0  # off-grid start: the grid starts at the first sample
    x = np.column_stack([t * (k + 1) for k in range(6)])
    piece = Resampler(50.0, 0.25).push(t, x, np.zeros(1000, np.int16))[0]
    assert len(piece.times) == 500
    np.testing.assert_allclose(np.diff(piece.times), 0.02, atol=1e-9)
    np.testing.assert_allclose(
        piece.values, np.column_stack([piece.times * (k + 1) for k in range(6)])
    )


def test_a_gap_restarts_the_grid_instead_of_interpolating_across_it():
    t = np.concatenate((np.arange(100) / 50.0, 10.0 + np.arange(100) / 50.0))
    resampler = Resampler(50.0, 0.25)
    pieces = resampler.push(t, np.ones((200, 6)), np.zeros(200, np.int16))
    assert [p.restart for p in pieces] == [False, True]
    assert [len(p.times) for p in pieces] == [100, 100]
    assert pieces[1].times[0] == 10.0
    assert resampler.gaps == 1


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    rate=st.sampled_from([25.0, 50.0, 100.0, 200.0, 73.3]),
)
def test_resampling_does_not_depend_on_chunking(cuts, rate):
    rng = np.random.default_rng(1)
    n = 600
    t = np.cumsum(rng.uniform(0.5, 1.5, n) / rate)
    x = rng.standard_normal((n, 6))
    codes = rng.integers(0, 6, n).astype(np.int16)
    whole = Resampler(50.0, 1.0).push(t, x, codes)
    chunked = []
    resampler = Resampler(50.0, 1.0)
    bounds = sorted({0, n, *[c % n for c in np.cumsum(cuts)]})
    for a, b in itertools.pairwise(bounds):
        chunked += resampler.push(t[a:b], x[a:b], codes[a:b])
    np.testing.assert_allclose(
        np.concatenate([p.values for p in chunked]), whole[0].values, atol=1e-12
    )
    np.testing.assert_array_equal(np.concatenate([p.codes for p in chunked]), whole[0].codes)
