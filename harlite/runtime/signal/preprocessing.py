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

The low-passes' coefficients have one source: a bundle records them in its manifest
(``preprocessing.noise_sos``, ``gravity_sos``) and the device filters with those
(:meth:`FilterDesign.with_sections`); only training, which has no bundle yet, designs them
with ``scipy.signal``. Each section starts from its steady state, in closed form
(:func:`steady_state`), so a process with a bundle never imports ``scipy.signal`` (about a
second).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from harlite.runtime.signal._sosfilt import sosfilt
from harlite.runtime.spec import MODEL_CHANNELS, RAW_CHANNELS, SAMPLE_RATE_HZ

N_RAW = len(RAW_CHANNELS)
N_OUT = len(MODEL_CHANNELS)


def steady_state(sos: ArrayLike) -> np.ndarray:
    """The state ``(sections, 2)`` of each direct form II transposed section after a unit
    step held forever (what ``scipy.signal.sosfilt_zi`` gives), in closed form.

    A section with DC gain ``g = (b0+b1+b2) / (1+a1+a2)`` fed a constant ``u`` settles at
    ``z1 = (b1 + b2 − (a1+a2)·g)·u``, ``z2 = (b2 − a2·g)·u`` and passes ``g·u`` to the next
    (docs/deploy.md gives the same recipe to app developers). Rows must have ``a0 = 1``.
    """
    state = np.empty((len(sos), 2))
    u = 1.0
    for i, (b0, b1, b2, _, a1, a2) in enumerate(np.asarray(sos, dtype=np.float64)):
        gain = (b0 + b1 + b2) / (1.0 + a1 + a2)
        state[i] = ((b1 + b2 - (a1 + a2) * gain) * u, (b2 - a2 * gain) * u)
        u *= gain
    return state


@dataclass(frozen=True)
class FilterSections:
    """The two low-passes as second-order sections, one row ``b0 b1 b2 a0 a1 a2`` per
    section (scipy's ``sos`` layout), read-only.

    Checked on creation, since a manifest can carry any numbers: each array is (sections, 6),
    finite, with ``a0 = 1``, both poles of every section inside the unit circle (a filter that
    does not settle would feed the model ever larger numbers) and a gain of 1 at 0 Hz (the
    gravity the model sees is the signal's mean, unscaled).
    """

    noise_sos: np.ndarray
    gravity_sos: np.ndarray

    def __post_init__(self) -> None:
        for name in ("noise_sos", "gravity_sos"):
            sos = np.array(getattr(self, name), dtype=np.float64)
            _check_sections(sos, name)
            sos.setflags(write=False)
            object.__setattr__(self, name, sos)

    @classmethod
    def designed(cls, design: FilterDesign) -> FilterSections:
        """Butterworth low-passes of ``design``, designed now with ``scipy.signal``."""
        from scipy import signal  # about a second: only a process without a bundle pays it

        def butter(cutoff_hz: float) -> np.ndarray:
            return signal.butter(
                design.order, cutoff_hz, btype="low", fs=design.sample_rate_hz, output="sos"
            )

        return cls(butter(design.noise_cutoff_hz), butter(design.gravity_cutoff_hz))


def _check_sections(sos: np.ndarray, name: str) -> None:
    if sos.ndim != 2 or sos.shape[1] != 6 or len(sos) == 0:
        raise ValueError(f"{name} must be rows of 6 coefficients, not shape {sos.shape}")
    if not np.isfinite(sos).all():
        raise ValueError(f"{name} must hold finite numbers")
    if not (sos[:, 3] == 1.0).all():
        raise ValueError(f"{name} must have a0 = 1 in every row (normalised sections)")
    a1, a2 = sos[:, 4], sos[:, 5]
    if not ((np.abs(a2) < 1.0) & (np.abs(a1) < 1.0 + a2)).all():
        raise ValueError(f"{name} must be stable (every section's poles inside the unit circle)")
    with np.errstate(all="ignore"):  # absurd numbers overflow: refused just below
        gain = np.prod(sos[:, :3].sum(axis=1) / (1.0 + a1 + a2))
    if not abs(gain - 1.0) < 0.01:  # loose: a very low cutoff rounds its gain a little
        raise ValueError(
            f"{name} must be a low-pass passing 0 Hz unchanged (gain {gain:.6g}, not 1)"
        )


@dataclass(frozen=True)
class FilterDesign:
    """Settings of the filter bank; every field goes into bundles and window-cache keys.

    A design read from a bundle also carries the bundle's own coefficients
    (:meth:`with_sections`), and :meth:`sections` returns those; equality, hashing and
    :meth:`to_dict` concern the settings only.
    """

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

    def with_sections(self, sections: FilterSections) -> FilterDesign:
        """This design, filtering with ``sections`` (a bundle's own) instead of designing."""
        copy = FilterDesign(**self.to_dict())
        object.__setattr__(copy, "_sections", sections)
        return copy

    def sections(self) -> FilterSections:
        """The coefficients the filter bank runs: those given to :meth:`with_sections`, else
        designed now from the settings (``scipy.signal``)."""
        given = self.__dict__.get("_sections")
        return given if given is not None else FilterSections.designed(self)

    def noise_sos(self) -> np.ndarray:
        """Second-order sections of the noise low-pass (a copy of :meth:`sections`' own)."""
        return self.sections().noise_sos.copy()

    def gravity_sos(self) -> np.ndarray:
        """Second-order sections of the gravity low-pass (a copy of :meth:`sections`' own)."""
        return self.sections().gravity_sos.copy()

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON types."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterDesign:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(data) - {f.name for f in fields(cls)}
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

    ``design`` gives the median kernel and the filters' coefficients
    (:meth:`FilterDesign.sections`): a bundle's design (``Bundle.design``) filters with the
    bundle's own, a bare one (training) designs them with ``scipy.signal``.

    Example:
        >>> pre = Preprocessor()
        >>> out = pre.process(raw)          # raw: (n, 6) acc xyz [g], gyro xyz [rad/s]
        >>> out.shape
        (n, 9)
    """

    def __init__(self, design: FilterDesign | None = None) -> None:
        self.design = design or FilterDesign()
        sections = self.design.sections()
        self._noise_sos = sections.noise_sos
        self._gravity_sos = sections.gravity_sos
        # Steady-state filter state for a unit step, scaled by the first sample on start.
        self._noise_zi_unit = steady_state(sections.noise_sos)[:, :, np.newaxis]
        self._gravity_zi_unit = steady_state(sections.gravity_sos)[:, :, np.newaxis]
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
