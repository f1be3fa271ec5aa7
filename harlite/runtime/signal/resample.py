"""Streaming resampling of timestamped sensor samples onto the model's uniform grid."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: Grid points this close past the last sample (as a fraction of a step) are taken as
#: reached: timestamps parsed from text ("0.06") and grid times computed as k × 0.02 differ
#: in the last bit, and the last sample of a stream must not wait forever for a successor.
_GRID_TOLERANCE = 1e-6


@dataclass(frozen=True)
class ResampledPiece:
    """Samples on the uniform grid; ``restart`` marks the first piece after a gap.

    ``times`` (n,), ``values`` (n, channels), ``codes`` (n,) integer labels taken from the
    nearest input sample.
    """

    times: np.ndarray
    values: np.ndarray
    codes: np.ndarray
    restart: bool


class Resampler:
    """Linear interpolation of an uneven, timestamped stream onto ``rate_hz``, in chunks.

    The grid starts at the first sample's time. A pause between two samples longer than
    ``max_gap_s`` is not interpolated across: the grid starts again at the sample after it,
    and that piece is flagged ``restart`` so the caller can restart its windows. Input that
    already lies on the grid comes out unchanged. Memory is constant: only the last sample
    is kept between calls.
    """

    def __init__(self, rate_hz: float, max_gap_s: float) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive, not {rate_hz}")
        if max_gap_s <= 0:
            raise ValueError(f"max_gap_s must be positive, not {max_gap_s}")
        self.step = 1.0 / rate_hz
        self.max_gap_s = max_gap_s
        self.gaps = 0
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample starts a new grid."""
        self._last: tuple[float, np.ndarray, int] | None = None
        self._origin: float | None = None
        self._next_k = 0

    def push(
        self, times: np.ndarray, values: np.ndarray, codes: np.ndarray
    ) -> list[ResampledPiece]:
        """Add samples with strictly increasing ``times`` (s); return the grid samples now due.

        Returns one piece per stretch without a gap (usually one; none when no grid point
        became due).
        """
        if len(times) == 0:
            return []
        previous = self._last[0] if self._last is not None else times[0]
        steps = np.diff(times, prepend=previous)
        gap_starts = np.flatnonzero(steps > self.max_gap_s).tolist()
        self.gaps += len(gap_starts)
        bounds = sorted({0, *gap_starts, len(times)})
        pieces = []
        for a, b in itertools.pairwise(bounds):
            restart = a in gap_starts
            if restart or self._origin is None:
                self.reset()
                self._origin = float(times[a])
            piece = self._interpolate(times[a:b], values[a:b], codes[a:b], restart)
            if len(piece.times) or piece.restart:
                pieces.append(piece)
        return pieces

    def _interpolate(
        self, times: np.ndarray, values: np.ndarray, codes: np.ndarray, restart: bool
    ) -> ResampledPiece:
        if self._last is not None:
            t0, v0, c0 = self._last
            times = np.concatenate(([t0], times))
            values = np.concatenate((v0[np.newaxis], values))
            codes = np.concatenate(([c0], codes))
        self._last = (float(times[-1]), values[-1].copy(), int(codes[-1]))

        reach = (times[-1] - self._origin) / self.step + _GRID_TOLERANCE
        last_k = int(np.floor(reach))
        k = np.arange(self._next_k, last_k + 1)
        self._next_k = max(self._next_k, last_k + 1)
        grid = self._origin + k * self.step
        out = np.empty((len(grid), values.shape[1]))
        for channel in range(values.shape[1]):
            out[:, channel] = np.interp(grid, times, values[:, channel])
        right = np.clip(np.searchsorted(times, grid), 0, len(times) - 1)
        left = np.clip(right - 1, 0, len(times) - 1)
        nearer_left = np.abs(grid - times[left]) <= np.abs(times[right] - grid)
        nearest = np.where(nearer_left, left, right)
        # A sample on the grid (to the tolerance of its text form) is taken as it is, not
        # interpolated a few ulps away from itself.
        on_grid = np.abs(times[nearest] - grid) <= _GRID_TOLERANCE * self.step
        out[on_grid] = values[nearest[on_grid]]
        return ResampledPiece(grid, out, codes[nearest], restart)
