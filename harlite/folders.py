"""The user's harlite folders (cache and data, where the platform keeps them: platformdirs),
and the small JSON files kept in the cache.

What is kept there can always be made again: built training windows and the backend timings
of ``--backend auto`` (``backends.json``). A missing, damaged or read-only cache costs time,
never a result.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import platformdirs

from harlite.atomic import write_text_atomic

APP = "harlite"


def cache_dir() -> Path:
    """``$HARLITE_CACHE_DIR``, else the platform's user cache folder: on Linux
    ``$XDG_CACHE_HOME/harlite`` or ``~/.cache/harlite``, on macOS
    ``~/Library/Caches/harlite``, on Windows under ``%LOCALAPPDATA%``."""
    if os.environ.get("HARLITE_CACHE_DIR"):
        return Path(os.environ["HARLITE_CACHE_DIR"])
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def data_dir() -> Path:
    """``$HARLITE_DATA_DIR``, else the platform's user data folder: on Linux
    ``$XDG_DATA_HOME/harlite`` or ``~/.local/share/harlite``, on macOS
    ``~/Library/Application Support/harlite``, on Windows under ``%LOCALAPPDATA%``."""
    if os.environ.get("HARLITE_DATA_DIR"):
        return Path(os.environ["HARLITE_DATA_DIR"])
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def read_json_cache(name: str) -> dict[str, Any]:
    """The entries of cache file ``name``; empty when there is none or it is damaged."""
    try:
        entries = json.loads((cache_dir() / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return entries if isinstance(entries, dict) else {}


def write_json_cache(name: str, entries: dict[str, Any]) -> None:
    """Replace cache file ``name`` atomically; a cache that cannot be written is skipped
    (a read-only home: the value is worked out again next time)."""
    with contextlib.suppress(OSError):
        write_text_atomic(cache_dir() / name, json.dumps(entries, indent=1, sort_keys=True))
