"""harlite.runtime.signal.clock: which timestamps a stream believes (runtime-only)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.runtime.signal.clock import (
    ACCEPT,
    BACKWARDS,
    CONFIRM_SAMPLES,
    HOLD,
    JUMPED,
    REFUSE,
    ClockGuard,
)

pytestmark = pytest.mark.runtime


def grid(start: float, n: int, rate: float = 50.0) -> np.ndarray:
    return start + np.arange(n) / rate


def statuses(guard: ClockGuard, times: np.ndarray) -> list[int]:
    return guard.admit(times).status.tolist()


def test_samples_in_order_are_accepted_at_once():
    guard = ClockGuard(0.25)
    assert statuses(guard, grid(0, 100)) == [ACCEPT] * 100
    assert guard.last == pytest.approx(99 / 50)


def test_a_glitch_ahead_is_refused_when_the_old_clock_goes_on():
    guard = ClockGuard(0.25)
    times = grid(0, 10)
    times[4] = 86400.0
    verdict = guard.admit(times)
    assert verdict.status.tolist() == [ACCEPT] * 4 + [REFUSE] + [ACCEPT] * 5
    assert verdict.reasons[4] == JUMPED


def test_a_pause_is_believed_after_enough_samples_on_the_new_clock():
    guard = ClockGuard(0.25)
    guard.admit(grid(0, 10))
    first = guard.admit(grid(60.0, CONFIRM_SAMPLES - 1))
    assert first.status.tolist() == [HOLD] * (CONFIRM_SAMPLES - 1)
    second = guard.admit(grid(60.0 + (CONFIRM_SAMPLES - 1) / 50, 3))
    # the held ones come first in the verdict, then the new ones: all accepted now
    assert second.status.tolist() == [ACCEPT] * (CONFIRM_SAMPLES - 1 + 3)
    assert not second.resync.any() and guard.resyncs == 0


def test_a_clock_that_goes_back_for_good_is_a_resync_after_two_seconds():
    guard = ClockGuard(0.25)
    guard.admit(grid(100.0, 50))
    verdict = guard.admit(grid(0.0, 150))
    assert (verdict.status == ACCEPT).all()
    assert verdict.resync.tolist().index(True) == 0 and guard.resyncs == 1


def test_a_resent_burst_of_old_samples_stays_refused():
    guard = ClockGuard(0.25)
    guard.admit(grid(0, 100))
    burst = grid(1.0, 20)  # samples already seen, sent again
    verdict = guard.admit(np.concatenate((burst, grid(2.0, 5))))
    assert (verdict.status[:20] == REFUSE).all() and (verdict.reasons[:20] == BACKWARDS).all()
    assert (verdict.status[20:] == ACCEPT).all() and guard.resyncs == 0


def test_samples_held_at_the_end_are_refused():
    guard = ClockGuard(0.25)
    guard.admit(np.array([0.0, 0.02, 50.0]))
    verdict = guard.finish()
    assert verdict.status.tolist() == [REFUSE] and verdict.reasons.tolist() == [JUMPED]
