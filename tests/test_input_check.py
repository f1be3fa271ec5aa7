"""harlite.runtime.input_check: units and rate judged from the samples (runtime-only)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.input_check import UNIT_SAMPLES, InputCheck
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


def test_a_slow_input_is_warned_about_at_the_end():
    check = InputCheck()
    check.add(timed_rows(30, rate=1.0))
    warnings = check.finish(30, 29.0)
    assert any("1.0 Hz" in w for w in warnings)
    assert np.all([isinstance(w, str) for w in check.warnings])
