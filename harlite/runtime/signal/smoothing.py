"""Smoothing of successive window predictions: a moving average of probabilities or a vote."""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

SMOOTHING_KINDS = ("mean", "vote")


class Smoother:
    """Causal smoothing over the last ``size`` predictions of a stream.

    ``mean`` averages the probability vectors; ``vote`` takes the most frequent label (ties go
    to the most recent of the tied labels). Either way a change of activity shows up about
    ``(size - 1) / 2`` predictions later than without smoothing: :meth:`delay_s` says how long
    that is for a given hop.
    """

    def __init__(self, kind: str, size: int) -> None:
        if kind not in SMOOTHING_KINDS:
            raise ValueError(f"smoothing must be one of {', '.join(SMOOTHING_KINDS)}, not {kind!r}")
        if size < 1:
            raise ValueError(f"smoothing size must be at least 1, not {size}")
        self.kind = kind
        self.size = size
        self._recent: deque[np.ndarray] = deque(maxlen=size)

    def reset(self) -> None:
        """Forget earlier predictions (after a gap in the stream)."""
        self._recent.clear()

    def delay_s(self, hop_s: float) -> float:
        """Average delay the smoothing adds to a change of activity, in seconds."""
        return (self.size - 1) / 2 * hop_s

    def update(self, probabilities: np.ndarray) -> tuple[int, float]:
        """Add one prediction's probabilities; return the smoothed (class index, confidence)."""
        self._recent.append(probabilities)
        if self.kind == "mean":
            mean = np.mean(self._recent, axis=0)
            best = int(np.argmax(mean))
            return best, float(mean[best])
        votes = [int(np.argmax(p)) for p in self._recent]
        counts = Counter(votes)
        top = max(counts.values())
        best = next(v for v in reversed(votes) if counts[v] == top)
        return best, top / len(votes)

    @property
    def spec(self) -> str:
        """The ``--smooth`` text that makes this smoother, e.g. ``mean:5``."""
        return f"{self.kind}:{self.size}"

    def describe(self) -> str:
        """E.g. ``mean of 5``."""
        return f"{self.kind} of {self.size}"


def parse_smoothing(spec: str | None) -> Smoother | None:
    """``none``, ``mean:5`` or ``vote:3`` (kind and number of predictions) to a Smoother."""
    if spec is None or spec.strip().lower() in ("", "none"):
        return None
    kind, _, size = spec.strip().lower().partition(":")
    try:
        count = int(size) if size else 5
    except ValueError:
        raise ValueError(f"smoothing {spec!r}: the size after ':' must be an integer") from None
    return Smoother(kind, count)
