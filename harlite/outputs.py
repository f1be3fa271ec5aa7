"""Where results may be written: never onto an input, and never by replacing a special file.

A regular file (or a new path) is written atomically: a temporary file beside it, renamed into
place when complete. A FIFO or a character device (a pipe someone reads, a terminal,
``/dev/null``), or ``-`` for stdout, is written straight into: renaming onto such a path would
replace the device with a regular file. Any other kind of file (a socket, a block device, a
folder) is refused. A symlink is followed: its target decides, and a link to a regular file
has that file replaced, the link kept.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from harlite.atomic import atomic_file
from harlite.errors import HarliteError

STDOUT = "-"


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path through links, or hard links."""
    a, b = Path(a), Path(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def inside(path: str | Path, folder: str | Path) -> bool:
    """Whether ``path`` lies inside ``folder`` (links resolved)."""
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def refuse_inputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path]) -> None:
    """Raise before anything is written if an output would replace an input, or land inside
    an input that is a folder (a recording exported as a folder). Inputs that are not files
    (``-``, ``udp:PORT``) never match."""
    inputs = [Path(i) for i in inputs if str(i) != STDOUT]
    for output in outputs:
        if output is None or str(output) == STDOUT:
            continue
        for source in inputs:
            if same_file(output, source) or (source.is_dir() and inside(output, source)):
                raise HarliteError(
                    f"{output}: is an input ({source}); writing there would destroy it: "
                    "choose another output"
                )


def kind_of(path: str | Path) -> str:
    """``regular`` (or a new path), ``stream`` (FIFO, character device, stdout), else an
    error naming the path and what it is."""
    if str(path) == STDOUT:
        return "stream"
    try:
        mode = os.stat(path).st_mode  # follows links: the target decides
    except FileNotFoundError:
        return "regular"
    except OSError as error:
        raise HarliteError(f"{path}: cannot write here: {error.strerror or error}") from None
    if stat.S_ISREG(mode):
        return "regular"
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return "stream"
    what = "a folder" if stat.S_ISDIR(mode) else "a special file (socket or block device)"
    raise HarliteError(f"{path}: is {what}; give a file, a FIFO, a character device or '-'")


@contextlib.contextmanager
def output_file(path: str | Path, mode: str = "w", encoding: str | None = None) -> Iterator[IO]:
    """Open an output for writing: atomically for a regular file (the old content stays
    until the new one is complete, links kept), straight into a FIFO, a character device or
    stdout (``-``). Errors name the path."""
    if kind_of(path) == "stream":
        if str(path) == STDOUT:
            yield sys.stdout.buffer if "b" in mode else sys.stdout
            return
        try:
            handle = open(path, mode, encoding=encoding)  # noqa: SIM115  closed below
        except OSError as error:
            raise HarliteError(f"{path}: cannot write: {error.strerror or error}") from None
        with handle:
            yield handle
        return
    target = Path(os.path.realpath(path))
    stack = contextlib.ExitStack()
    try:
        handle = stack.enter_context(atomic_file(target, mode, encoding=encoding))
    except OSError as error:
        raise HarliteError(f"{path}: cannot write: {error.strerror or error}") from None
    with stack:
        yield handle


def is_regular(path: str | Path) -> bool:
    """Whether ``path`` is (now) a regular file, whose size and hash mean something."""
    try:
        return str(path) != STDOUT and stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False
