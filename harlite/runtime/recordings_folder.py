"""The conventions of a recordings folder that its reader (``harlite.train.recording_meta``)
and its writer (``harlite serve --record-dir``) share: the names of its own files, which files
are recordings, and how the index's header names a column.

They live in the runtime because the server, which writes recordings on the device, may not
import the training side.
"""

from __future__ import annotations

from pathlib import Path

from harlite.runtime.sources import is_recording_folder

INDEX_FILE = "recordings.csv"
SETTINGS_FILES = ("dataset.toml", "dataset.json")
#: Names the folder's own files take; nothing else (a label folder) may take them.
RESERVED_NAMES = (INDEX_FILE, *SETTINGS_FILES)
#: Recording files a folder may hold (Sensor Logger exports also as unzipped folders).
RECORDING_SUFFIXES = (".csv", ".csv.gz", ".zip")


def column_key(name: str) -> str:
    """The column an index header field names: ``File`` and `` file`` are ``file``."""
    return name.strip().lower()


def recording_files(root: Path, limit: int | None = None, pattern: str | None = None) -> list[Path]:
    """Recording files and Sensor Logger folders under ``root`` (those matching ``pattern``
    where given), sorted, hidden ones and the index left out."""
    found: list[Path] = []
    taken: set[Path] = set()
    for path in sorted(root.glob(pattern) if pattern else root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or path.name == INDEX_FILE:
            continue
        if taken.intersection(path.parents):
            continue  # inside a Sensor Logger folder already taken
        if (path.is_file() and path.name.lower().endswith(RECORDING_SUFFIXES)) or (
            is_recording_folder(path)
        ):
            found.append(path)
            taken.add(path)
            if limit is not None and len(found) >= limit:
                break
    return found
