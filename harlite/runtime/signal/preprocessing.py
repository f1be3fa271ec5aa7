"""The UCI HAR preprocessing as a causal, stateful filter bank.

The same object builds the training windows (fed a whole recording at once) and runs on the
device (fed a few samples at a time); both give the same output, so the model sees in the
field exactly what it saw in training.

Per raw channel (acc xyz in g, gyro xyz in rad/s, 50 Hz):

1. a causal median filter over the last 3 samples;
2. a 3rd-order Butterworth low-pass at 20 Hz (noise);
3. for acceleration only, a 3rd-order Butterworth low-pass at 0.3 Hz of the result: gravity.

Output per sample, in the notebook's order: body_acc xyz (total − gravity), body_gyro xyz,
total_acc xyz.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from harlite.runtime.signal._sosfilt import sosfilt
from harlite.runtime.signal.filter_cache import filter_coefficients
from harlite.runtime.spec import MODEL_CHANNELS, RAW_CHANNELS, SAMPLE_RATE_HZ

N_RAW = len(RAW_CHANNELS)


def _signal():
    """``scipy.signal``, imported when filters are designed: it takes about a second, which
    commands that only read manifests or print help, and a process whose design is cached
    (:mod:`harlite.runtime.signal.filter_cache`), should not pay."""
    from scipy import signal

    return signal


N_OUT = len(MODEL_CHANNELS)


@dataclass(frozen=True)
class FilterDesign:
    """Settings of the filter bank; every field goes into bundles and cache keys."""

    sample_rate_hz: float = SAMPLE_RATE_HZ
    median_kernel: int = 3
    noise_cutoff_hz: float = 20.0
    gravity_cutoff_hz: float = 0.3
    order: int = 3

    def __post_init__(self) -> None:
        if self.median_kernel < 1 or self.median_kernel % 2 == 0:
            raise ValueError(
                f"median_kernel must be a positive odd number, not {self.median_kernel}"
            )
        nyquist = self.sample_rate_hz / 2
        for name in ("noise_cutoff_hz", "gravity_cutoff_hz"):
            cutoff = getattr(self, name)
            if not 0 < cutoff < nyquist:
                raise ValueError(f"{name} must lie in (0, {nyquist}) Hz, not {cutoff}")
        if self.order < 1:
            raise ValueError(f"order must be at least 1, not {self.order}")

    def noise_sos(self) -> np.ndarray:
        """Second-order sections of the noise low-pass."""
        return _signal().butter(
            self.order, self.noise_cutoff_hz, btype="low", fs=self.sample_rate_hz, output="sos"
        )

    def gravity_sos(self) -> np.ndarray:
        """Second-order sections of the gravity low-pass."""
        return _signal().butter(
            self.order, self.gravity_cutoff_hz, btype="low", fs=self.sample_rate_hz, output="sos"
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON types."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterDesign:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown filter settings: {', '.join(sorted(unknown))}")
        return cls(**data)


def _causal_median(padded: np.ndarray, kernel: int) -> np.ndarray:
    """Median of each sample and the ``kernel - 1`` before it; ``padded`` holds that history."""
    if kernel == 1:
        return padded.copy()
    if kernel == 3:
        a, b, c = padded[:-2], padded[1:-1], padded[2:]
        return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    view = np.lib.stride_tricks.sliding_window_view(padded, kernel, axis=0)
    return np.median(view, axis=-1)


class Preprocessor:
    """Causal, stateful UCI HAR filter bank: raw (n, 6) samples in, model (n, 9) channels out.

    Feed a recording in one call or in chunks of any size: the output is the same. The state
    starts from the first sample (as if the signal had been constant before it), so a stream
    starts without a transient. Call :meth:`reset` to start a new, unrelated stream.

    Example:
        >>> pre = Preprocessor()
        >>> out = pre.process(raw)          # raw: (n, 6) acc xyz [g], gyro xyz [rad/s]
        >>> out.shape
        (n, 9)
    """

    def __init__(self, design: FilterDesign | None = None) -> None:
        self.design = design or FilterDesign()
        coefficients = filter_coefficients(self.design)
        self._noise_sos = coefficients.noise_sos
        self._gravity_sos = coefficients.gravity_sos
        # Steady-state filter state for a unit step, scaled by the first sample on start.
        self._noise_zi_unit = coefficients.noise_zi[:, :, np.newaxis]
        self._gravity_zi_unit = coefficients.gravity_zi[:, :, np.newaxis]
        self.reset()

    def reset(self) -> None:
        """Forget the stream: the next sample starts a new one."""
        self._history: np.ndarray | None = None
        self._noise_zi: np.ndarray | None = None
        self._gravity_zi: np.ndarray | None = None

    def _start(self, first: np.ndarray) -> None:
        self._history = np.repeat(first[np.newaxis, :], self.design.median_kernel - 1, axis=0)
        self._noise_zi = self._noise_zi_unit * first
        self._gravity_zi = self._gravity_zi_unit * first[:3]

    def process(self, samples: ArrayLike) -> np.ndarray:
        """Filter the next samples of the stream.

        Args:
            samples: shape (n, 6): acc x, y, z in g, then gyro x, y, z in rad/s. All finite.

        Returns:
            float64 array (n, 9): body_acc xyz, body_gyro xyz, total_acc xyz.
        """
        x = np.asarray(samples, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != N_RAW:
            raise ValueError(f"samples must have shape (n, {N_RAW}), not {x.shape}")
        if len(x) == 0:
            return np.empty((0, N_OUT))
        if not np.isfinite(x).all():
            # A NaN would stay in the filter state forever: callers must drop such samples.
            raise ValueError("samples contain NaN or infinite values")
        if self._history is None:
            self._start(x[0])
        padded = np.concatenate((self._history, x))
        keep = self.design.median_kernel - 1
        self._history = padded[len(padded) - keep :] if keep else padded[:0]
        median = _causal_median(padded, self.design.median_kernel)
        filtered, self._noise_zi = sosfilt(self._noise_sos, median, self._noise_zi)
        total_acc = filtered[:, :3]
        gravity, self._gravity_zi = sosfilt(self._gravity_sos, total_acc, self._gravity_zi)
        out = np.empty((len(x), N_OUT))
        out[:, 0:3] = total_acc - gravity
        out[:, 3:6] = filtered[:, 3:6]
        out[:, 6:9] = total_acc
        return out


def preprocess_recording(raw: ArrayLike, design: FilterDesign | None = None) -> np.ndarray:
    """Run the filter bank over one whole recording, as training does."""
    return Preprocessor(design).process(raw)
