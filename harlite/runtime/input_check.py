"""Is the input what the model expects? Units and rate judged from the samples themselves.

A stream in the wrong unit classifies without a single bad row, and wrongly: acceleration in
m/s² read as g (the default) has a magnitude near 9.8 where a phone at rest or walking
averages about 1 g. A stream far slower than the model's rate gives no windows at all. Both
are said as warnings, with the option that fixes them.
"""

from __future__ import annotations

import numpy as np

from harlite.runtime.sensorcsv import ACC_UNITS

#: Samples whose median acceleration magnitude decides the unit check.
UNIT_SAMPLES = 500
#: The fewest samples a unit judgement is made on (at the end of a short stream).
FEWEST_SAMPLES = 25
#: Median |acc| (in g) accepted as plausible.
PLAUSIBLE_G = (0.5, 2.0)
#: Below this input rate the model's windows cannot be filled honestly.
MIN_RATE_HZ = 10.0

_G_PER_MS2 = ACC_UNITS["m/s2"]


class InputCheck:
    """Collects what the checks need from accepted samples; each warning is given once."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self._norms: list[np.ndarray] = []
        self._collected = 0
        self._units_judged = False
        self._rate_judged = False

    def add(self, rows: np.ndarray) -> list[str]:
        """Note accepted rows (t, acc xyz [g], gyro xyz); return new warnings."""
        new: list[str] = []
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
            self._rate_judged = True
            rate = (samples - 1) / duration_s
            if rate < MIN_RATE_HZ:
                new.append(
                    f"input rate {rate:.1f} Hz is below what this model was validated for "
                    f"(at least {MIN_RATE_HZ:g} Hz; the model runs at 50 Hz): its samples are "
                    "too far apart to be interpolated into windows (see --max-gap)"
                )
        return self._keep(new)

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
