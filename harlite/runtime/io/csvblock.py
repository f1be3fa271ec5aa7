"""The fast path of CSV parsing: a whole block of lines at once, or None to go line by line.

A block qualifies when every line is a plain data line: valid UTF-8, no longer than the
line limit, exactly the layout's number of fields, no comment line, no stray carriage
return or NUL. Its numbers are then read column by column with a C parser: pandas' C reader
with its round-trip converter where pandas is installed (``pip install 'harlite[fast]'``),
else Python's own ``float`` mapped over each column. Both call the same correctly rounded
conversion (``PyOS_string_to_double``) that the line-by-line parser's ``float`` calls, so a
block gives exactly the numbers it would give line by line. Anything the fast path does not
accept (a bad number, an empty or ``nan`` field, a line of the wrong length) sends the whole
block to the line-by-line parser, which finds, numbers and explains the bad rows.
"""

from __future__ import annotations

import csv
import importlib
import io
import warnings

import numpy as np

#: Lines below which a block is read with ``float`` even where pandas is installed (a live
#: pipe's few lines are not worth pandas' per-call cost).
PANDAS_MIN_LINES = 512
#: The first pandas series without the round-trip converter harlite relies on (pandas 4).
PANDAS_BEFORE = (4, 0)
NEWLINE, HASH = ord("\n"), ord("#")
_UNSET = object()
_READ_CSV = _UNSET  # pandas' read_csv once looked for (None: not usable here)


def pandas_reader():
    """pandas' ``read_csv`` if a suitable pandas is installed, else None (imported once)."""
    global _READ_CSV
    if _READ_CSV is _UNSET:
        _READ_CSV = None
        try:
            pandas = importlib.import_module("pandas")
            version = tuple(int(p) for p in pandas.__version__.split(".")[:2])
            if version < PANDAS_BEFORE:
                _READ_CSV = pandas.read_csv
        except (ImportError, ValueError):
            pass
    return _READ_CSV


def plain_block(data: bytes, n_fields: int, delimiter: str, max_line: int) -> bytes | None:
    """The block's bytes with CRLF line ends turned into LF, if every line is a plain
    data line of ``n_fields`` fields (valid UTF-8, not too long, not blank, not a comment);
    else None. The checks run over the bytes at once (numpy)."""
    if len(delimiter) != 1 or not delimiter.isascii() or b"\x00" in data:
        return None
    raw = data
    carriage_returns = b"\r" in data
    if carriage_returns:
        data = data.replace(b"\r\n", b"\n")
        if b"\r" in data:
            return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    buffer = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(buffer == NEWLINE)
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(buffer))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    if not len(lengths) or lengths.min() == 0 or (buffer[starts[lengths > 0]] == HASH).any():
        return None
    # a line's raw bytes: the dropped \r included (the line reader's limit counts it)
    if lengths.max() + carriage_returns > max_line and max(map(len, raw.split(b"\n"))) > max_line:
        return None
    delimiters = np.flatnonzero(buffer == ord(delimiter))
    per_line = np.diff(np.searchsorted(delimiters, ends), prepend=0)
    if (per_line != n_fields - 1).any():
        return None
    return data


def parse_numbers(
    data: bytes,
    count: int,
    n_fields: int,
    delimiter: str,
    columns: tuple[int, ...],
    label: int | None,
) -> tuple[np.ndarray, list[str | None] | None] | None:
    """Numbers (count, len(columns)) and labels of a block that :func:`plain_block` accepted,
    or None when a field is not a plain finite-or-infinite number (the caller then parses
    the block line by line)."""
    read_csv = pandas_reader() if count >= PANDAS_MIN_LINES else None
    if read_csv is not None:
        return _with_pandas(read_csv, data, count, delimiter, columns, label)
    text = data.decode("utf-8").removesuffix("\n")
    fields = text.replace("\n", delimiter).split(delimiter)
    values = np.empty((count, len(columns)))
    try:
        for j, column in enumerate(columns):
            values[:, j] = np.fromiter(map(float, fields[column::n_fields]), np.float64, count)
    except ValueError:
        return None
    if np.isnan(values).any():
        return None  # explained line by line (the stream refuses NaN with its own reason)
    labels = None if label is None else stripped_labels(fields[label::n_fields])
    return values, labels


def _with_pandas(read_csv, data, count, delimiter, columns, label):
    used = sorted({*columns, *(() if label is None else (label,))})
    dtypes = {c: np.float64 for c in columns}
    if label is not None:
        dtypes[label] = object
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # float_precision's deprecation notice
            frame = read_csv(
                io.BytesIO(data),
                encoding="utf-8",
                sep=delimiter,
                header=None,
                usecols=used,
                dtype=dtypes,
                engine="c",
                float_precision="round_trip",
                na_filter=False,
                quoting=csv.QUOTE_NONE,
                skip_blank_lines=False,
                lineterminator="\n",
                low_memory=False,
            )
    except (ValueError, TypeError, OverflowError):
        return None
    except Exception:  # pandas' own ParserError and friends: go line by line
        return None
    if len(frame) != count:
        return None
    values = np.empty((count, len(columns)))
    for j, column in enumerate(columns):
        series = frame[column]
        if series.dtype != np.float64:
            return None
        values[:, j] = series.to_numpy()
    if np.isnan(values).any():
        return None
    labels = None
    if label is not None:
        raw = frame[label].tolist()
        if not all(isinstance(value, str) for value in set(raw)):
            return None  # a missing field pandas filled in: explained line by line
        labels = stripped_labels(raw)
    return values, labels


def stripped_labels(values: list[str]) -> list[str | None]:
    """Each label without surrounding blanks (None for an empty one), as the line parser
    gives it; a recording repeats few labels, so each distinct one is stripped once."""
    stripped = {value: value.strip() or None for value in set(values)}
    return list(map(stripped.__getitem__, values))
