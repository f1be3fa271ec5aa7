"""Errors that harlite reports to a user as a message, never as a traceback."""

from __future__ import annotations

from pathlib import Path


class HarliteError(Exception):
    """Base class of every error harlite reports to the user as a plain message."""


class DataError(HarliteError):
    """Bad input data: names the file and, where known, the 1-based line and the field."""

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
