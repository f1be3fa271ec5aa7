"""The conventions of a recordings folder that its reader (``harlite.train.recording_meta``)
and its writer (``harlite serve --record-dir``) share: the names of its own files, which files
are recordings, and how the index's header names a column.

They live in the runtime because the server, which writes recordings on the device, may not
import the training side.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

from harlite.errors import DataError
from harlite.runtime.io.sources import is_recording_folder

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

INDEX_FILE = "recordings.csv"
SETTINGS_FILES = ("dataset.toml", "dataset.json")
#: Names the folder's own files take; nothing else (a label folder) may take them.
RESERVED_NAMES = (INDEX_FILE, *SETTINGS_FILES)
#: Recording files a folder may hold (Sensor Logger exports also as unzipped folders).
RECORDING_SUFFIXES = (".csv", ".csv.gz", ".zip")
#: The subject number in a file's path: ``s01``, ``subject_3``, ``user07``, ``p12``…
#: (``subject_pattern`` in the settings replaces it).
DEFAULT_SUBJECT_PATTERN = r"(?i)(?:^|[/_\-. ])(?:s|subject|user|u|p|participant)[_\- ]?(\d+)"


def settings_file(folder: Path) -> Path | None:
    """The folder's settings file (the first of :data:`SETTINGS_FILES` there), if any."""
    return next((folder / n for n in SETTINGS_FILES if (folder / n).is_file()), None)


def files_glob(folder: Path) -> str | None:
    """The ``files`` glob of the folder's settings (which files are its recordings when it
    has no index), None without one; a settings file that cannot be read raises
    :class:`~harlite.errors.DataError`."""
    path = settings_file(folder)
    pattern = None if path is None else load_settings(path).get("files")
    return pattern if isinstance(pattern, str) else None


def subject_pattern(folder: Path) -> str:
    """The folder's ``subject_pattern`` setting, else :data:`DEFAULT_SUBJECT_PATTERN`; a
    settings file that cannot be read raises :class:`~harlite.errors.DataError`."""
    path = settings_file(folder)
    pattern = None if path is None else load_settings(path).get("subject_pattern")
    return pattern if isinstance(pattern, str) else DEFAULT_SUBJECT_PATTERN


def load_settings(path: Path) -> dict[str, Any]:
    """A settings file's table (TOML or JSON); a file that cannot be read raises
    :class:`~harlite.errors.DataError` naming it (and the line and key of a number too long
    to read)."""
    try:
        if path.suffix == ".toml":
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"not valid {path.suffix[1:].upper()}: {error}", path) from None
    except ValueError:  # an integer longer than Python converts (sys.int_info)
        raise _long_number_error(path) from None
    except RecursionError:
        raise DataError("nested too deeply", path) from None
    if not isinstance(data, dict):
        raise DataError("expected a table of settings", path)
    return data


def _long_number_error(path: Path) -> DataError:
    """The error for a settings file holding an integer too long to read, naming its line
    and key."""
    text = path.read_text(encoding="utf-8", errors="replace")
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300
    found = next((m for m in re.finditer(r"\d+", text) if len(m.group()) > limit), None)
    if found is None:
        return DataError("a number too long to read", path)
    before = text[: found.start()]
    keys = re.findall(r'(?m)^\s*([A-Za-z0-9_\-]+)\s*=|"([^"\\]*)"\s*:', before)
    key = next((a or b for a, b in reversed(keys)), None)
    digits = len(found.group())
    return DataError(f"a number of {digits:,} digits", path, before.count("\n") + 1, key)


def column_key(name: str) -> str:
    """The column an index header field names: ``File`` and `` file`` are ``file``."""
    return name.strip().lower()


@dataclass
class FolderWalk:
    """What a recordings folder holds: its recordings (files and export folders, by the path
    under the folder), and what was left out, each with the reason."""

    files: list[Path] = field(default_factory=list)
    refused: list[tuple[Path, str]] = field(default_factory=list)


def recording_files(root: Path, limit: int | None = None, pattern: str | None = None) -> list[Path]:
    """Recording files and export folders under ``root`` (those matching ``pattern`` where
    given), sorted, hidden ones and the index left out; see :func:`walk_recordings`."""
    return walk_recordings(root, limit, pattern).files


def walk_recordings(root: Path, limit: int | None = None, pattern: str | None = None) -> FolderWalk:
    """Every recording under ``root``: files ending in :data:`RECORDING_SUFFIXES`, and
    folders that hold an unzipped export themselves (each one recording, labelled by the
    folder it is in), those matching ``pattern`` (a glob relative to ``root``) where given.

    Links, to files and folders alike, are followed where they lead inside ``root``; a link
    out of it, a broken link, a loop, and a second way to a file or folder already found are
    left out and listed in ``refused`` (for the reader to report: nothing vanishes unsaid).
    """
    top = root.resolve()
    walk = FolderWalk()
    parts = PurePosixPath(pattern).parts if pattern else None
    seen: dict[Path, Path] = {top: root}  # real path -> the path it was first found by
    stack = [(root, PurePosixPath(), top, frozenset({top}))]
    while stack:
        folder, relative, here, ancestors = stack.pop()
        try:
            entries = sorted(entry.name for entry in os.scandir(folder))
        except OSError as error:
            walk.refused.append((folder, f"cannot be read: {error.strerror or error}"))
            continue
        below = []
        for name in entries:
            if name.startswith(".") or name == INDEX_FILE:
                continue
            path, real = folder / name, here / name
            problem = None
            if path.is_symlink():
                real = path.resolve()
                if not real.exists():
                    problem = "a broken link"
                elif real != top and top not in real.parents:
                    problem = f"a link to {real}, outside the data set folder"
            wanted = parts is None or _matches((*relative.parts, name), parts)
            if not real.is_dir():
                if not (wanted and name.lower().endswith(RECORDING_SUFFIXES)):
                    continue
            elif real in ancestors:
                problem = problem or "a link to a folder that holds it (a loop)"
            if problem is None and real in seen:
                first = seen[real].relative_to(root).as_posix()
                problem = f"the same {'folder' if real.is_dir() else 'file'} as {first} (a link)"
            if problem is not None:
                walk.refused.append((path, problem))
                continue
            seen[real] = path
            if real.is_dir() and not (wanted and is_recording_folder(path, nested=False)):
                below.append((path, relative / name, real, ancestors | {real}))
                continue
            walk.files.append(path)
            if limit is not None and len(walk.files) >= limit:
                return walk
        stack += below
    walk.files.sort(key=lambda path: path.relative_to(root).parts)
    return walk


def _matches(parts: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Whether a relative path matches a glob's parts (``**``: any number of folders)."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])
