"""A cache of built windows, keyed by the content of the input files and every setting."""

from __future__ import annotations

import contextlib
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harlite.runtime.model.bundle import sha256_file
from harlite.train.windowset import WindowSet

#: Bump when the way windows are built changes, so that old cache entries are never read.
CACHE_FORMAT = 1


def cache_key(files: Iterable[Path], root: Path, settings: dict[str, Any]) -> str:
    """A key that changes whenever an input file's content or any setting changes."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": CACHE_FORMAT, **settings}, sort_keys=True).encode())
    for path in sorted(files):
        # outside ``root``: a data set's settings file kept apart from its recordings
        name = path.relative_to(root) if path.is_relative_to(root) else path.resolve()
        digest.update(f"{name.as_posix()}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()[:32]


def cached_windows(
    key: str, cache_dir: Path | None, build: Callable[[], WindowSet]
) -> tuple[WindowSet, bool]:
    """Load the windows stored under ``key``, or build, store and return them.

    Entries are written atomically, so a crash never leaves a half-written entry under its
    final name; an unreadable entry is rebuilt. Returns the windows and whether they came
    from the cache. ``cache_dir=None`` turns the cache off.
    """
    if cache_dir is None:
        return build(), False
    path = Path(cache_dir) / f"windows-{key}.npz"
    if path.is_file():
        try:
            return WindowSet.load(path), True
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            path.unlink(missing_ok=True)
    windows = build()
    with contextlib.suppress(OSError):  # a read-only or full cache folder must not stop the work
        windows.save(path)
    return windows, False
