"""Fast, strict parsing of whitespace-separated numeric text files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from harlite.errors import DataError


def read_numeric_table(path: str | Path, n_cols: int | None = None) -> np.ndarray:
    """Read a file of whitespace-separated numbers into a float64 (rows, cols) array.

    Vectorised (numpy's C parser); on any failure the file is scanned again line by line so
    the error names the exact line and what is wrong with it. Blank lines are skipped.

    Raises:
        DataError: missing file, non-UTF-8 bytes, a non-numeric or non-finite value, or a row
            whose number of values differs from ``n_cols`` (or from the first row).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": raised below
            table = np.loadtxt(path, dtype=np.float64, ndmin=2, encoding="utf-8", comments=None)
    except (ValueError, UnicodeDecodeError):
        _raise_first_bad_line(path, n_cols)
        raise  # unreachable unless the scan found nothing; keep the original error then
    if table.size == 0:
        raise DataError("file holds no data", path)
    if n_cols is not None and table.shape[1] != n_cols:
        _raise_first_bad_line(path, n_cols)
    if not np.isfinite(table).all():
        _raise_first_bad_line(path, n_cols)
    return table


def _raise_first_bad_line(path: Path, n_cols: int | None) -> None:
    """Scan ``path`` line by line and raise a DataError for the first bad line."""
    expected = n_cols
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError("not UTF-8 text (binary or corrupt file?)", path, number) from None
            fields = line.split()
            if not fields:
                continue
            if expected is None:
                expected = len(fields)
            if len(fields) != expected:
                raise DataError(f"expected {expected} values, found {len(fields)}", path, number)
            for column, text in enumerate(fields, start=1):
                try:
                    value = float(text)
                except ValueError:
                    raise DataError(
                        f"value {column} is not a number: {text[:40]!r}", path, number
                    ) from None
                if not np.isfinite(value):
                    raise DataError(f"value {column} is not finite: {text!r}", path, number)
