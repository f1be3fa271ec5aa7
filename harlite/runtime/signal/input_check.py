"""Is the input what the model expects? Units and rate judged from the samples themselves.

A stream in the wrong unit classifies without a single bad row, and wrongly: acceleration in
m/s² read as g (the default) has a magnitude near 9.8 where a phone at rest or walking
averages about 1 g. A stream far slower than the model's rate gives no windows at all. Both
are said as warnings, with the option that fixes them.
"""

from __future__ import annotations

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.rows import ACC_UNITS

#: Samples whose median acceleration magnitude decides the unit check.
UNIT_SAMPLES = 500
#: The fewest samples a unit judgement is made on (at the end of a short stream).
FEWEST_SAMPLES = 25
#: Median |acc| (in g) accepted as plausible.
PLAUSIBLE_G = (0.5, 2.0)
#: Below this input rate the model's windows cannot be filled honestly: refused unless the
#: user allows it (``--allow-low-rate``).
MIN_RATE_HZ = 10.0
#: Samples (at least) and seconds of signal after which the input rate is judged.
RATE_SAMPLES = 20
RATE_SECONDS = 2.0
#: Input this far below the lowest rate a model was trained on gets a warning.
VALIDATED_RATE_SHARE = 0.8


class LowRateError(HarliteError):
    """The input is slower than :data:`MIN_RATE_HZ` and low rates were not allowed."""


_G_PER_MS2 = ACC_UNITS["m/s2"]


class InputCheck:
    """Collects what the checks need from accepted samples; each warning is given once.

    Args:
        validated_rates_hz: the input rates the model was trained on (its manifest's
            ``training_domain``); input well below the lowest gets a warning.
        allow_low_rate: classify input below :data:`MIN_RATE_HZ` (with a warning) instead of
            refusing it with :class:`LowRateError`.
    """

    def __init__(
        self, validated_rates_hz: tuple[float, ...] = (), allow_low_rate: bool = False
    ) -> None:
        self.validated_rates_hz = tuple(validated_rates_hz)
        self.allow_low_rate = allow_low_rate
        self.warnings: list[str] = []
        self._norms: list[np.ndarray] = []
        self._collected = 0
        self._units_judged = False
        self._rate_judged = False
        self._times: list[np.ndarray] = []

    def add(self, rows: np.ndarray) -> list[str]:
        """Note accepted rows (t, acc xyz [g], gyro xyz); return new warnings."""
        new: list[str] = []
        if not self._rate_judged and len(rows):
            new += self._judge_rate(rows[:, 0])
        if not self._units_judged and len(rows):
            take = rows[: UNIT_SAMPLES - self._collected]
            self._norms.append(np.linalg.norm(take[:, 1:4], axis=1))
            self._collected += len(take)
            if self._collected >= UNIT_SAMPLES:
                new += self._judge_units()
        return self._keep(new)

    def finish(self, samples: int, duration_s: float) -> list[str]:
        """The stream ended: judge what is still open; return new warnings."""
        new: list[str] = []
        if not self._units_judged and self._collected >= FEWEST_SAMPLES:
            new += self._judge_units()
        if not self._rate_judged and samples > 1 and duration_s > 0:
            new += self._rate_verdict((samples - 1) / duration_s)
        return self._keep(new)

    def _judge_rate(self, times: np.ndarray) -> list[str]:
        """Judge the rate by the median step between the first samples, once they span
        enough of them and of time (a pause or a glitch among them does not sway it)."""
        self._times.append(np.asarray(times[: RATE_SAMPLES * 4], dtype=np.float64))
        seen = np.concatenate(self._times)
        if len(seen) < RATE_SAMPLES or seen[-1] - seen[0] < RATE_SECONDS:
            return []
        steps = np.diff(seen)
        steps = steps[steps > 0]
        return self._rate_verdict(1.0 / float(np.median(steps))) if len(steps) else []

    def _rate_verdict(self, rate: float) -> list[str]:
        self._rate_judged = True
        if rate < MIN_RATE_HZ:
            text = (
                f"input rate {rate:.1f} Hz is below what this model was validated for "
                f"(at least {MIN_RATE_HZ:g} Hz; the model runs at 50 Hz): its samples are too "
                "far apart for the model's windows"
            )
            if not self.allow_low_rate:
                raise LowRateError(
                    f"{text}. Record at {MIN_RATE_HZ:g} Hz or more (20–100 Hz is usual), or "
                    "pass --allow-low-rate to classify it anyway"
                )
            return [f"{text} (classified anyway: --allow-low-rate)"]
        lowest = min(self.validated_rates_hz, default=None)
        if lowest and rate < VALIDATED_RATE_SHARE * lowest:
            trained = ", ".join(f"{r:g}" for r in self.validated_rates_hz)
            return [
                f"input rate {rate:.1f} Hz is below what this model was validated for (trained "
                f"on recordings at {trained} Hz): upsampled windows lack the faster motion; "
                "expect lower accuracy"
            ]
        return []

    def _judge_units(self) -> list[str]:
        self._units_judged = True
        median = float(np.median(np.concatenate(self._norms)))
        self._norms = []
        low, high = PLAUSIBLE_G
        if low <= median <= high:
            return []
        if low <= median * _G_PER_MS2 <= high:
            return [
                f"acceleration looks like m/s² read as g (median |acc| {median:.2f} g, "
                "about 1 g expected): use --acc-unit m/s2"
            ]
        if low <= median / _G_PER_MS2 <= high:
            return [
                f"acceleration looks like g read as m/s² (median |acc| {median:.3f} g, "
                "about 1 g expected): use --acc-unit g"
            ]
        return [
            f"median |acc| is {median:.3g} g, far from the 1 g of gravity: check the input's "
            "acceleration unit (--acc-unit) and columns"
        ]

    def _keep(self, new: list[str]) -> list[str]:
        self.warnings += new
        return new
