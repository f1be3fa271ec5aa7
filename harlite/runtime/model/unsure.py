"""When the model's own answer is unsure: its top probability below a floor.

The gravity check (:mod:`harlite.runtime.signal.domain_check`) sees a phone carried unlike
training; it cannot see a window that looks like training and is still answered wrongly.
Many of those wrong answers are hesitant, the model spreading its probability over two
classes (a seated person at the waist taken for a standing one); others are confident (a
pocket's stairs taken for walking). A window whose top probability (after the device's
placement rule, before any smoothing) is below :data:`UNSURE_BELOW` is flagged *unsure*:
check its answer. ``benchmarks/results/crossval_*.json`` (``unlike_training``) holds, per
placement, the share of the cross-validation's wrong and right held-out windows it flags.
"""

from __future__ import annotations

import numpy as np

#: A window's answer is unsure below this top probability.
UNSURE_BELOW = 0.6


def unsure(probabilities: np.ndarray, floor: float = UNSURE_BELOW) -> np.ndarray:
    """Per window of ``probabilities`` (n, classes): is its top probability below ``floor``."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must be (windows, classes), not {probabilities.shape}")
    return probabilities.max(axis=1) < floor
