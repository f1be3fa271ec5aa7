"""harlite.runtime.signal.input_check: units and rate judged from the samples (runtime-only)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.signal.input_check import UNIT_SAMPLES, InputCheck, LowRateError
from tests.builders import timed_rows

pytestmark = pytest.mark.runtime


@pytest.mark.parametrize(
    "factor, flag", [(1.0, None), (9.80665, "--acc-unit m/s2"), (1 / 9.80665, "--acc-unit g")]
)
def test_units_are_judged_once_from_the_first_samples(factor, flag):
    rows = timed_rows(UNIT_SAMPLES + 100)
    rows[:, 1:4] *= factor
    check = InputCheck()
    new = check.add(rows[:200]) + check.add(rows[200:])
    if flag is None:
        assert new == [] and check.warnings == []
    else:
        assert len(new) == 1 and flag in new[0]
    assert check.add(rows) == []  # said once
    assert check.finish(len(rows), 10.0) == []


def test_acceleration_far_from_any_unit_is_said_plainly():
    rows = timed_rows(100)
    rows[:, 1:4] *= 30
    check = InputCheck()
    check.add(rows)
    assert "far from the 1 g" in check.finish(100, 2.0)[0]


def test_input_below_10_hz_is_refused_once_its_rate_shows():
    check = InputCheck()
    assert check.add(timed_rows(10, rate=5.0)) == []  # 10 samples: not judged yet
    with pytest.raises(LowRateError, match=r"5\.0 Hz.*--allow-low-rate"):
        check.add(timed_rows(20, rate=5.0, start=2.0))


def test_a_slow_input_allowed_is_warned_about_once():
    check = InputCheck(allow_low_rate=True)
    warnings = check.add(timed_rows(30, rate=1.0))
    assert len(warnings) == 1 and "1.0 Hz" in warnings[0] and "--allow-low-rate" in warnings[0]
    assert check.finish(30, 29.0) == []
    assert np.all([isinstance(w, str) for w in check.warnings])


@pytest.mark.parametrize("rate, warned", [(25.0, True), (45.0, False), (100.0, False)])
def test_input_below_the_rates_a_model_was_trained_on_is_warned_about(rate, warned):
    check = InputCheck(validated_rates_hz=(50.0, 102.5))
    warnings = check.add(timed_rows(200, rate=rate))
    assert bool(warnings) == warned
    if warned:
        assert "below what this model was validated for" in warnings[0]
        assert "50, 102.5 Hz" in warnings[0]
