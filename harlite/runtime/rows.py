"""Sample rows, the seam between what reads input (:mod:`harlite.runtime.io`) and the signal
path (:mod:`harlite.runtime.signal`): the units rows are converted from, the rows themselves,
how their labels map to the model's classes, and the one table of reasons a row is refused.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

#: Multiply by these to get the runtime's units (g, rad/s, seconds).
ACC_UNITS: dict[str, float] = {"g": 1.0, "m/s2": 1.0 / 9.80665}
GYRO_UNITS: dict[str, float] = {"rad/s": 1.0, "deg/s": math.pi / 180.0}
TIME_UNITS: dict[str, float] = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}

# Reasons a row is refused: the keys of a summary's ``bad_row_reasons``, one table for files,
# streams and pushes (BAD_ROW_REASONS below lists them with where they arise).
NOT_UTF8 = "not UTF-8 text"
TOO_LONG = "line too long"
FIELD_COUNT = "wrong number of fields"
MISSING = "missing value"
NOT_A_NUMBER = "not a number"
NOT_A_ROW = "neither a header nor a data line"
NON_FINITE = "non-finite value"
OUT_OF_RANGE = "value out of plausible sensor range"
TIME_OUT_OF_RANGE = "timestamp out of plausible range"
BACKWARDS = "timestamp went backwards"
REPEATED = "timestamp repeated"
JUMPED = "timestamp jumped ahead"
OUTSIDE_GYRO = "outside the gyroscope's time span"
BACKWARDS_IN_SENSOR = "timestamp repeated or went backwards"
BEFORE_GYRO = "before the first gyroscope sample"
AFTER_GYRO = "after the last gyroscope sample"
NO_GYRO = "no gyroscope sample at all"
BAD_ENTRY = "bad push entry"
NOT_A_PUSH = "not a Sensor Logger push"
TOO_LARGE = "MQTT message too large"
OTHER_SESSION = "from another phone or session (harlite serve shows several)"

#: Every bad-row reason and the stage that gives it.
BAD_ROW_REASONS: dict[str, str] = {
    NOT_UTF8: "reading a line",
    TOO_LONG: "reading a line",
    FIELD_COUNT: "parsing a line",
    MISSING: "parsing a line",
    NOT_A_NUMBER: "parsing a line",
    NOT_A_ROW: "finding a file's layout",
    NON_FINITE: "checking a sample's values",
    OUT_OF_RANGE: "checking a sample's values",
    TIME_OUT_OF_RANGE: "checking a sample's time",
    BACKWARDS: "the stream's clock",
    REPEATED: "the stream's clock",
    JUMPED: "the stream's clock",
    OUTSIDE_GYRO: "aligning a phone's gyroscope onto its accelerometer",
    BACKWARDS_IN_SENSOR: "aligning a phone's gyroscope onto its accelerometer",
    BEFORE_GYRO: "aligning a phone's gyroscope onto its accelerometer",
    AFTER_GYRO: "aligning a phone's gyroscope onto its accelerometer",
    NO_GYRO: "aligning a phone's gyroscope onto its accelerometer",
    BAD_ENTRY: "reading a phone's push",
    NOT_A_PUSH: "reading an MQTT message",
    TOO_LARGE: "reading an MQTT message",
    OTHER_SESSION: "reading an MQTT message",
}


#: Bad rows listed one by one (all are counted), in a run's summary and a live session's page.
LISTED_BAD_ROWS = 20


@dataclass
class RowCounts:
    """The one tally of a stream's rows: rows read, samples accepted, windows made, bad rows
    by reason with the first :data:`LISTED_BAD_ROWS` listed. ``harlite stream`` (a run's
    summary), ``harlite serve`` (a live session) and training (a recording's report) keep it.
    """

    rows: int = 0
    samples: int = 0
    windows: int = 0
    bad_row_reasons: Counter[str] = field(default_factory=Counter)
    first_bad_rows: list[dict] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        """Bad rows of every reason."""
        return sum(self.bad_row_reasons.values())

    def bad_row(self, line: int, reason: str, detail: str = "") -> None:
        """Count one bad row (and list it while fewer than the limit are)."""
        self.bad_row_reasons[reason] += 1
        if len(self.first_bad_rows) < LISTED_BAD_ROWS:
            self.first_bad_rows.append(
                {"line": line, "reason": reason, **({"detail": detail} if detail else {})}
            )

    def read(self, parsed: ParsedRows) -> None:
        """A parsed batch: its rows counted, its bad lines counted and listed."""
        self.rows += len(parsed.rows) + len(parsed.bad)
        for line, reason, detail in parsed.bad:
            self.bad_row(line, reason, detail)

    def refused(self, rejected: Iterable[tuple[int, str]]) -> None:
        """Samples the stream refused, as (line, reason)."""
        for line, reason in rejected:
            self.bad_row(line, reason)

    def reasons_by_count(self) -> dict[str, int]:
        """Bad rows by reason, the most common first."""
        return dict(self.bad_row_reasons.most_common())


@dataclass(frozen=True)
class Units:
    """Units of the input's acceleration, angular rate and time columns."""

    acc: str = "g"
    gyro: str = "rad/s"
    time: str = "s"

    def __post_init__(self) -> None:
        for name, value, table in (
            ("acc", self.acc, ACC_UNITS),
            ("gyro", self.gyro, GYRO_UNITS),
            ("time", self.time, TIME_UNITS),
        ):
            if value not in table:
                raise ValueError(f"unknown {name} unit {value!r}: choose from {', '.join(table)}")

    def scale(self) -> np.ndarray:
        """Per-column factors for a (t, acc xyz, gyro xyz) row."""
        acc, gyro = ACC_UNITS[self.acc], GYRO_UNITS[self.gyro]
        return np.array([TIME_UNITS[self.time], acc, acc, acc, gyro, gyro, gyro])


@dataclass
class ParsedRows:
    """A batch of parsed lines.

    ``rows`` (n, 7): time [s], acc xyz [g], gyro xyz [rad/s]; ``lines`` the 1-based line of
    each row; ``labels`` per row (None without a label column); ``bad`` (line, reason,
    detail) of the lines that could not be parsed.
    """

    rows: np.ndarray
    lines: np.ndarray
    labels: list[str | None] | None
    bad: list[tuple[int, str, str]]


@dataclass(frozen=True)
class LabelMap:
    """How the label names in an input become the model's classes: renamed first
    (``rename``: name in the file → class), then those in ``ignore`` left unlabelled, as a
    data set's ``dataset.toml`` says (``rename``, ``ignore``).

    ``rename`` may be given as a mapping; it is kept as sorted pairs, so that a LabelMap is
    hashable like the settings that carry it (batch workers key their classifiers by them).
    """

    rename: tuple[tuple[str, str], ...] | Mapping[str, str] = ()
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pairs = self.rename.items() if isinstance(self.rename, Mapping) else self.rename
        object.__setattr__(self, "rename", tuple(sorted((str(a), str(b)) for a, b in pairs)))
        object.__setattr__(self, "ignore", tuple(self.ignore))
        object.__setattr__(self, "_names", dict(self.rename))

    def class_of(self, label: str | None) -> str | None:
        """The class a label in a file stands for (None: unlabelled or ignored)."""
        if label is None:
            return None
        label = self._names.get(label, label)
        return None if label in self.ignore or not label else label
