"""Sensor CSV text: column mapping, units and line-by-line parsing into sample rows.

The canonical format (docs/stream.md)::

    t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label
    0.00,1.0213,-0.1245,0.0957,-0.0012,0.0210,0.0044,STANDING

``t`` in seconds, acceleration in g, angular rate in rad/s; ``label`` (an activity name,
empty for unlabelled) is optional. Other headers are mapped by name (``time``,
``timestamp``, ``ax``, ``accel_x``, ``gyr_x``, ``wx`` …, case and units in brackets ignored)
or explicitly with ``--columns``; files without a header take the canonical column order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from harlite.runtime.io.csvblock import parse_numbers, plain_block
from harlite.runtime.io.lines import MAX_LINE_BYTES as MAX_LINE_BYTES
from harlite.runtime.io.lines import LineBlock, LineProblem
from harlite.runtime.rows import ACC_UNITS as ACC_UNITS
from harlite.runtime.rows import (
    FIELD_COUNT,
    MISSING,
    NOT_A_NUMBER,
    ParsedRows,
    Units,
)
from harlite.runtime.rows import GYRO_UNITS as GYRO_UNITS
from harlite.runtime.rows import NOT_UTF8 as NOT_UTF8
from harlite.runtime.rows import TIME_UNITS as TIME_UNITS
from harlite.runtime.rows import TOO_LONG as TOO_LONG
from harlite.runtime.spec import RAW_CHANNELS

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

TIME = "t"
SIGNALS = RAW_CHANNELS
LABEL = "label"
CANONICAL_COLUMNS = (TIME, *SIGNALS, LABEL)

#: Header names recognised for each canonical column (after normalisation, see _normalise).
ALIASES: dict[str, tuple[str, ...]] = {
    TIME: ("t", "time", "timestamp", "ts", "seconds", "time_s", "seconds_elapsed"),
    LABEL: ("label", "activity", "activity_label", "class"),
}
for _axis in "xyz":
    ALIASES[f"acc_{_axis}"] = tuple(
        f"{prefix}{_axis}"
        for prefix in ("acc_", "a", "acc", "accel_", "accel", "accelerometer_", "acceleration_")
    )
    ALIASES[f"gyro_{_axis}"] = tuple(
        f"{prefix}{_axis}"
        for prefix in ("gyro_", "g", "gyro", "gyr_", "gyr", "w", "gyroscope_", "rotation_rate_")
    )


@dataclass(frozen=True)
class ColumnLayout:
    """Where each canonical column sits in a line; ``time``/``label`` may be absent."""

    n_fields: int
    signals: tuple[int, ...]
    time: int | None = None
    label: int | None = None
    names: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """E.g. ``t=time, acc_x=ax, …`` for messages."""
        if not self.names:
            return "positional"
        parts = [] if self.time is None else [f"t={self.names[self.time]}"]
        parts += [f"{c}={self.names[i]}" for c, i in zip(SIGNALS, self.signals, strict=True)]
        if self.label is not None:
            parts.append(f"label={self.names[self.label]}")
        return ", ".join(parts)


def _normalise(name: str) -> str:
    name = name.strip().strip('"').strip("'").lower()
    name = re.sub(r"\s*[\[(].*?[\])]\s*$", "", name)  # "time [ms]", "ax (m/s^2)"
    return re.sub(r"[\s.\-/]+", "_", name)


def parse_columns_option(spec: str) -> dict[str, str]:
    """``--columns`` as a mapping canonical → header name.

    Either ``t=time,acc_x=ax,…`` (rename header columns) or a plain list
    ``t,acc_x,…,gyro_z`` giving the order of a header-less input (``-`` skips a column).
    """
    items = [item.strip() for item in spec.split(",")]
    if all("=" in item for item in items):
        mapping = {}
        for item in items:
            key, _, value = item.partition("=")
            key = key.strip()
            if key not in CANONICAL_COLUMNS:
                raise ValueError(
                    f"--columns: unknown column {key!r} (use {', '.join(CANONICAL_COLUMNS)})"
                )
            mapping[key] = value.strip()
        return mapping
    if any("=" in item for item in items):
        raise ValueError("--columns: give either name=header pairs or a plain list, not both")
    unknown = [item for item in items if item not in CANONICAL_COLUMNS and item != "-"]
    if unknown:
        raise ValueError(f"--columns: unknown column(s) {', '.join(unknown)}")
    return {item: str(position) for position, item in enumerate(items) if item != "-"}


def layout_from_header(header: list[str], columns: dict[str, str] | None = None) -> ColumnLayout:
    """Map header names to the canonical columns (aliases, or the ``--columns`` mapping)."""
    names = [_normalise(h) for h in header]
    found: dict[str, int] = {}
    for canonical in CANONICAL_COLUMNS:
        wanted = (
            (_normalise(columns[canonical]),)
            if columns and canonical in columns
            else ALIASES[canonical]
        )
        for alias in wanted:
            if alias in names:
                found[canonical] = names.index(alias)
                break
    missing = [c for c in SIGNALS if c not in found]
    if missing:
        raise ValueError(
            f"no column for {', '.join(missing)} in the header ({', '.join(header)[:200]}); "
            "name them like the canonical header t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z "
            "or map them with --columns"
        )
    return ColumnLayout(
        n_fields=len(header),
        signals=tuple(found[c] for c in SIGNALS),
        time=found.get(TIME),
        label=found.get(LABEL),
        names=tuple(h.strip() for h in header),
    )


def positional_layout(n_fields: int, columns: dict[str, str] | None = None) -> ColumnLayout:
    """Layout of a header-less input: the ``--columns`` list, else the canonical order."""
    if columns:
        if not all(v.isdigit() for v in columns.values()):
            raise ValueError("a header-less input needs --columns as a plain list of columns")
        where = {k: int(v) for k, v in columns.items()}
        if any(c not in where for c in SIGNALS):
            raise ValueError("--columns must name acc_x … gyro_z")
        return ColumnLayout(
            n_fields=n_fields,
            signals=tuple(where[c] for c in SIGNALS),
            time=where.get(TIME),
            label=where.get(LABEL),
        )
    signals = len(SIGNALS)
    if n_fields in (signals + 1, signals + 2):  # time first, then the label if present
        label = signals + 1 if n_fields == signals + 2 else None
        return ColumnLayout(n_fields, tuple(range(1, signals + 1)), 0, label)
    if n_fields == signals:
        return ColumnLayout(n_fields, tuple(range(signals)))
    raise ValueError(
        f"{n_fields} fields and no header: expected t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"
        "[,label] (or acc and gyro alone with --rate), or map them with --columns"
    )


def sniff_delimiter(line: str) -> str:
    """The delimiter of a header or first line: comma, semicolon or tab."""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def is_numeric_line(fields: list[str]) -> bool:
    """Whether every field parses as a number."""
    try:
        for value in fields:
            float(value)
    except ValueError:
        return False
    return True


def is_data_line(fields: list[str]) -> bool:
    """Whether a first line is data rather than a header: all numbers, or the canonical
    order with a label last (``0.00,1.0,…,0.03,WALKING``)."""
    if is_numeric_line(fields):
        return True
    canonical_with_label = len(SIGNALS) + 2
    return (
        len(fields) == canonical_with_label
        and is_numeric_line(fields[:-1])
        and bool(fields[-1].strip())
    )


def unquote(fields: list[str]) -> list[str]:
    """Fields without the double quotes a spreadsheet may put around each of them."""
    return [f.strip().strip('"') for f in fields]


def is_quoted(fields: list[str]) -> bool:
    """Whether every field of a line is in double quotes."""
    return all(len(f.strip()) >= 2 and f.strip()[0] == f.strip()[-1] == '"' for f in fields)


class RowParser:
    """Parses data lines of one input into sample rows in the runtime's units.

    Args:
        layout: where the columns are.
        units: the input's units.
        delimiter: field separator.
        rate_hz: when given, samples are taken as evenly spaced at this rate (times are
            the first sample's time plus line index / rate); required without a time column.
        quoted: the fields are in double quotes (removed before parsing).
    """

    def __init__(
        self,
        layout: ColumnLayout,
        units: Units,
        delimiter: str = ",",
        rate_hz: float | None = None,
        quoted: bool = False,
    ) -> None:
        if layout.time is None and rate_hz is None:
            raise ValueError("the input has no time column: give its sample rate with --rate")
        if rate_hz is not None and not rate_hz > 0:
            raise ValueError(f"--rate must be positive, not {rate_hz}")
        self.layout = layout
        self.delimiter = delimiter
        self.rate_hz = rate_hz
        self.quoted = quoted
        self._scale = units.scale()
        self._columns = ((layout.time,) if layout.time is not None else ()) + layout.signals
        self._names = ((TIME,) if layout.time is not None else ()) + SIGNALS
        self._data_lines = 0  # data lines seen, good or bad: the sample index with --rate
        self._time_origin: float | None = None

    def parse(self, lines: list[tuple[int, str | LineProblem]]) -> ParsedRows:
        """Parse (line number, text) pairs; a :class:`LineProblem` is counted as a bad row."""
        values: list[list[float]] = []
        numbers: list[int] = []
        indices: list[int] = []
        labels: list[str | None] | None = [] if self.layout.label is not None else None
        bad: list[tuple[int, str, str]] = []
        columns, n_fields, delimiter = self._columns, self.layout.n_fields, self.delimiter
        label_at = self.layout.label
        quoted = self.quoted
        for number, text in lines:
            if text.__class__ is LineProblem:
                self._data_lines += 1
                bad.append((number, text.reason, text.detail))
                continue
            if not text or text.isspace() or text.startswith("#"):
                continue
            index = self._data_lines
            self._data_lines += 1
            if quoted:
                text = text.replace('"', "")
            fields = text.split(delimiter)
            if len(fields) != n_fields:
                bad.append((number, FIELD_COUNT, f"expected {n_fields}, found {len(fields)}"))
                continue
            try:
                row = [float(fields[c]) for c in columns]
            except ValueError:
                bad.append((number, *self._explain(fields)))
                continue
            values.append(row)
            numbers.append(number)
            indices.append(index)
            if labels is not None:
                label = fields[label_at].strip()
                labels.append(label or None)
        rows = self._to_rows(values, indices)
        return ParsedRows(rows, np.asarray(numbers, dtype=np.int64), labels, bad)

    def parse_block(self, block: LineBlock) -> ParsedRows:
        """Parse a block of lines at once where every line is plain data (the fast path of
        :mod:`~harlite.runtime.io.csvblock`), else line by line; the result is the same."""
        layout = self.layout
        data = None
        if not self.quoted and block.count > 1:
            data = plain_block(block.data, layout.n_fields, self.delimiter, block.max_line)
        parsed = None
        if data is not None:
            parsed = parse_numbers(
                data, block.count, layout.n_fields, self.delimiter, self._columns, layout.label
            )
        if parsed is None:
            return self.parse(block.lines())
        values, labels = parsed
        indices = np.arange(self._data_lines, self._data_lines + block.count)
        self._data_lines += block.count
        rows = self._to_rows(values, indices)
        lines = np.arange(block.first, block.first + block.count, dtype=np.int64)
        return ParsedRows(rows, lines, labels, [])

    def _explain(self, fields: list[str]) -> tuple[str, str]:
        for name, column in zip(self._names, self._columns, strict=True):
            value = fields[column]
            try:
                float(value)
            except ValueError:
                if not value.strip():
                    return MISSING, f"field {name!r} is empty"
                return NOT_A_NUMBER, f"field {name!r} is {value.strip()[:30]!r}"
        return NOT_A_NUMBER, ""

    def _to_rows(self, values, indices) -> np.ndarray:
        if not len(values):
            return np.empty((0, 7))
        parsed = np.asarray(values, dtype=np.float64)
        rows = np.empty((len(parsed), 7))
        if self.layout.time is None:
            rows[:, 0] = 0.0
            rows[:, 1:] = parsed
        else:
            rows[:] = parsed
        rows *= self._scale
        if self.rate_hz is not None:
            index = np.asarray(indices, dtype=np.float64)
            if self._time_origin is None:
                first = rows[0, 0] if self.layout.time is not None else 0.0
                self._time_origin = first - index[0] / self.rate_hz
            rows[:, 0] = self._time_origin + index / self.rate_hz
        return rows
