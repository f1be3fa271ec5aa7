"""Silence native (C++) output that Python's own streams cannot intercept."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_output_silenced(enabled: bool = True, fds: tuple[int, ...] = (2,)) -> Iterator[None]:
    """Point file descriptors ``fds`` at /dev/null for the duration (TensorFlow's absl logging
    and the TFLite converter print notices that no setting turns off). Exceptions still
    propagate; set HARLITE_VERBOSE=1 to see everything."""
    if not enabled or os.environ.get("HARLITE_VERBOSE"):
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in fds}
    try:
        with open(os.devnull, "w") as devnull:
            for fd in fds:
                os.dup2(devnull.fileno(), fd)
            yield
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
