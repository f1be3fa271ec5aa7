"""When the model's own answer is unsure: its top probability below a floor.

The gravity check (:mod:`harlite.runtime.signal.domain_check`) sees a phone carried unlike
training; it cannot see a window that looks like training and is still answered wrongly (a
pocket's stairs taken for walking, a seated person for a standing one). Cross-validation
shows those wrong answers are mostly hesitant: the model spreads its probability over two
classes. A window whose top probability (after the device's placement rule) is below
:data:`UNSURE_BELOW` is flagged *unsure*: its answer is likely wrong. The floor was chosen
on the shipped models' leave-people-out cross-validation so that few right answers are
flagged; ``benchmarks/results/crossval_*.json`` (``unlike_training``) holds how many wrong
and right windows it flags, per placement.
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
