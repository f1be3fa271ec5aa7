"""The user's harlite cache folder, and the small JSON files kept in it.

What is kept there can always be made again: built training windows, the backend timings of
``--backend auto`` (``backends.json``) and the filter coefficients of each filter design
(``filters.json``). A missing, damaged or read-only cache costs time, never a result.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from harlite.atomic import write_text_atomic


def cache_dir() -> Path:
    """``$HARLITE_CACHE_DIR``, else ``$XDG_CACHE_HOME/harlite``, else ``~/.cache/harlite``."""
    if os.environ.get("HARLITE_CACHE_DIR"):
        return Path(os.environ["HARLITE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "harlite"


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
