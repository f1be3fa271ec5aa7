"""harlite.runtime.signal.smoothing: moving-average and vote smoothing of predictions."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.signal.smoothing import Smoother, parse_smoothing
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def test_mean_smoothing_averages_probabilities_and_states_its_delay():
    smoother = Smoother("mean", 3)
    a, b = np.array([0.9, 0.1]), np.array([0.2, 0.8])
    assert smoother.update(a) == (0, pytest.approx(0.9))
    assert smoother.update(b)[0] == 0  # mean (0.55, 0.45)
    assert smoother.update(b)[0] == 1
    assert smoother.delay_s(1.28) == pytest.approx(1.28)


def test_vote_smoothing_takes_the_majority_and_breaks_ties_by_recency():
    smoother = Smoother("vote", 4)
    one, two = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert smoother.update(one) == (0, 1.0)
    assert smoother.update(two) == (1, 0.5)  # tie: the most recent wins
    assert smoother.update(two) == (1, pytest.approx(2 / 3))


def test_parse_smoothing():
    assert parse_smoothing(None) is None
    assert parse_smoothing("none") is None
    assert parse_smoothing("vote:3").describe() == "vote of 3"
    with pytest.raises(ValueError):
        parse_smoothing("median:3")
    with pytest.raises(ValueError):
        parse_smoothing("mean:x")
