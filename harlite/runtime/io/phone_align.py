"""One phone's sensors put onto the accelerometer's instants: the one rule that the app
export reader (:mod:`harlite.runtime.io.app_exports`) and the live push path
(:mod:`harlite.runtime.io.push`) both use, so that a session pushed live gives the samples of
its export.

The gyroscope (and, for acceleration without gravity, the gravity sensor) is interpolated at
each accelerometer instant (``np.interp``: its first or last value held at the edges). An
accelerometer row more than :data:`EDGE_MARGIN_S` outside the gyroscope's time span is a bad
row (:data:`OUTSIDE_GYRO`); those within it take the gyroscope's first or last sample, as the
sensors of one recording start and stop a few milliseconds apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from harlite.runtime.rows import AFTER_GYRO, BEFORE_GYRO, NO_GYRO, OUTSIDE_GYRO
from harlite.runtime.rows import BACKWARDS_IN_SENSOR as BACKWARDS_IN_SENSOR

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

#: How far outside the gyroscope's time span an accelerometer row may lie and still take the
#: gyroscope's first or last sample: the sensors of one recording start and stop a few
#: milliseconds apart (a sample period or two at the 20–500 Hz phones record at).
EDGE_MARGIN_S = 0.05


@dataclass(frozen=True)
class Scales:
    """Factors from a phone's units to the runtime's: time, acceleration, gyroscope, and
    gravity to acceleration."""

    time: float
    acc: float
    gyro: float
    gravity: float = 1.0


class Followed(Protocol):
    """A sensor interpolated at the accelerometer's instants: its first sample ever (None:
    none yet) and the samples that interpolation still needs (the last is the latest known)."""

    first: float | None
    times: np.ndarray
    values: np.ndarray


@dataclass(frozen=True)
class Aligned:
    """What :func:`align_phone` made of the accelerometer samples it was given."""

    rows: np.ndarray  #: (n, 7): t [s], acc [g], gyro [rad/s]
    lines: np.ndarray  #: the line (or sample number) of each row
    bad: list[tuple[int, str, str]]  #: (line, reason, detail) of the rows refused
    #: how many of the given samples are settled (rows or bad); the rest wait for later
    #: samples of the other sensors
    settled: int
    #: the time (the phone's unit) of the last row, None when there is none
    until: float | None


def interpolate(series: Followed, times: np.ndarray) -> np.ndarray:
    """The series' xyz values at ``times`` (edges held; NaN where it has no samples)."""
    if len(series.times) == 0:
        return np.full((len(times), 3), np.nan)
    return np.column_stack([np.interp(times, series.times, series.values[:, i]) for i in range(3)])


def align_phone(
    acc: tuple[np.ndarray, np.ndarray, np.ndarray],
    gyro: Followed,
    gravity: Followed | None,
    scales: Scales,
    *,
    final: bool,
    where: str = "",
) -> Aligned:
    """Accelerometer samples ``acc`` (times in time order, raw xyz values, lines) as rows.

    ``final``: the other sensors will send nothing more (the end of a recording, or a file
    reader that has read them past these times), so every sample is settled; otherwise the
    samples after the latest gyroscope (or gravity) sample wait. ``gravity`` is added to
    acceleration that lacks it; None when the acceleration has it.
    """
    times, values, lines = acc
    margin = EDGE_MARGIN_S / scales.time  # in the phone's time unit
    known = gyro.first is not None and len(gyro.times) > 0
    if not known:
        settled = len(times) if final else 0
        before = np.ones(settled, bool)
        after = np.zeros(settled, bool)
    else:
        last = float(gyro.times[-1])
        before = times < gyro.first - margin
        if final:
            settled = len(times)
            after = times > last + margin
        else:
            horizon = last if gravity is None else min(last, float(gravity.times[-1]))
            settled = int(np.searchsorted(times, horizon, side="right"))
            after = np.zeros(len(times), bool)
    before, after = before[:settled], after[:settled]
    prefix = f"{where}, " if where else ""
    first = BEFORE_GYRO if known else NO_GYRO
    bad = [(int(n), OUTSIDE_GYRO, prefix + first) for n in lines[:settled][before]]
    bad += [(int(n), OUTSIDE_GYRO, prefix + AFTER_GYRO) for n in lines[:settled][after]]
    keep = np.flatnonzero(~(before | after))
    times, values, lines = times[keep], values[keep], lines[keep]
    if gravity is not None:
        values = values + interpolate(gravity, times) * scales.gravity
    rows = np.empty((len(times), 7))
    rows[:, 0] = times * scales.time
    rows[:, 1:4] = values * scales.acc
    rows[:, 4:7] = interpolate(gyro, times) * scales.gyro
    until = float(times[-1]) if len(times) else None
    return Aligned(rows, lines, bad, settled, until)
