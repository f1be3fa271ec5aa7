"""Errors that harlite reports to a user as a message, never as a traceback."""

from __future__ import annotations

from pathlib import Path


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters (C0, C1, DEL: escape and operating-
    system-command sequences) and other unprintable ones are written as ``\\xNN``/``\\uNNNN``.
    Untrusted text (headers, datagrams, file content) passes through this before it is shown.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class HarliteError(Exception):
    """Base class of every error harlite reports to the user as a plain message."""


class DataError(HarliteError):
    """Bad input data: names the input and, where known, the 1-based line and the field.

    ``path`` may be a file or any other input name (``stdin``, ``udp://127.0.0.1:5555``): it
    is shown as given.
    """

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
        self.reason = printable(message)
        where = []
        if path is not None:
            where.append(printable(str(path)))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {printable(field)!r}")
        super().__init__(f"{', '.join(where)}: {self.reason}" if where else self.reason)


class SettingError(HarliteError):
    """A setting out of range; ``setting`` names it (as in ``ClassifierSettings``), so that
    the CLI can name its option."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"{setting}: {message}")


#: What ``harlite[train]`` adds to the device runtime.
TRAINING_MODULES = ("tensorflow", "tf_keras", "keras", "sklearn", "matplotlib")


def missing_training_tools(module: str) -> str:
    """The message for a training command run where the training tools are not installed."""
    return (
        f"this command needs the training tools, and {module} is not installed (the device "
        "runtime alone is): pip install 'harlite[train]'"
    )
