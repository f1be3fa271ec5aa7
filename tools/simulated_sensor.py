"""A recording as a sensor at another rate would have delivered it (for tests, benchmarks and
the demo maker; the device never needs it)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy import signal

from harlite.runtime.spec import SAMPLE_RATE_HZ


def resampled_recording(
    raw: np.ndarray,
    labels: np.ndarray | None,
    rate_hz: float,
    source_rate_hz: float = SAMPLE_RATE_HZ,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The recording at ``rate_hz`` (polyphase resampling), each new sample labelled as the
    original sample nearest in time."""
    ratio = Fraction(rate_hz / source_rate_hz).limit_denominator(1000)
    resampled = signal.resample_poly(raw, ratio.numerator, ratio.denominator, axis=0)
    if labels is None:
        return resampled, None
    nearest = np.rint(np.arange(len(resampled)) * source_rate_hz / rate_hz).astype(int)
    return resampled, labels[np.clip(nearest, 0, len(labels) - 1)]
