"""A data set made of other data sets: windows of several placements trained as one.

A mixture is a TOML (or JSON) file listing its parts::

    labels = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]

    [[parts]]
    data = "../../../shared/data/hapt"     # any data set harlite reads (folder or settings file)
    placement = "waist"                     # where the phone was carried

    [[parts]]
    data = "sp-sw-har.toml"
    placement = "pocket"
    subject_offset = 1000                   # default: 1000 × the part's position (0, 1000, …)

Paths are relative to the mixture file. Subject ids of part ``i`` become
``subject_offset + subject`` so that subjects of different data sets never meet; each part
keeps its own test subjects (never trained or tuned on) and default validation subjects.
Every part's windows carry its placement (:attr:`WindowSet.placement`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harlite.errors import DataError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: The key that makes a settings file a mixture.
PARTS_KEY = "parts"
#: A part's default subject offset is this times its position.
DEFAULT_OFFSET_STEP = 1000
_PART_KEYS = ("data", "placement", "subject_offset")


@dataclass(frozen=True)
class MixturePart:
    """One data set of a mixture."""

    data: Path
    placement: str
    subject_offset: int


@dataclass(frozen=True)
class Mixture:
    """A mixture file: its classes (None: the first part's) and parts."""

    source: Path
    labels: tuple[str, ...] | None
    parts: tuple[MixturePart, ...]

    def part_of(self, subject: int) -> MixturePart:
        """The part a (shifted) subject id belongs to."""
        owner = self.parts[0]
        for part in self.parts:
            if subject >= part.subject_offset >= owner.subject_offset:
                owner = part
        return owner


def is_mixture(path: Path) -> bool:
    """Whether ``path`` is a settings file with a ``parts`` list."""
    if not path.is_file() or not path.name.lower().endswith((".toml", ".json")):
        return False
    try:
        return PARTS_KEY in _load(path)
    except DataError:
        return False


def read_mixture(path: str | Path) -> Mixture:
    """The validated mixture file; every problem names the file and the key."""
    path = Path(path)
    data = _load(path)
    unknown = set(data) - {PARTS_KEY, "labels"}
    if unknown:
        raise DataError(f"unknown setting (known: labels, {PARTS_KEY})", path, None, min(unknown))
    labels = data.get("labels")
    if labels is not None and (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(v, str) and v for v in labels)
        or len(set(labels)) != len(labels)
    ):
        raise DataError("expected a list of two or more distinct class names", path, None, "labels")
    raw_parts = data[PARTS_KEY]
    if not isinstance(raw_parts, list) or not raw_parts:
        raise DataError("expected a list of [[parts]] tables", path, None, PARTS_KEY)
    parts = []
    for i, raw in enumerate(raw_parts):
        key = f"{PARTS_KEY}[{i}]"
        if not isinstance(raw, dict):
            raise DataError("expected a table", path, None, key)
        unknown = set(raw) - set(_PART_KEYS)
        if unknown:
            raise DataError(
                f"unknown setting {min(unknown)!r} (known: {', '.join(_PART_KEYS)})",
                path,
                None,
                key,
            )
        if not isinstance(raw.get("data"), str) or not raw["data"]:
            raise DataError("expected the path of a data set", path, None, f"{key}.data")
        where = path.parent / raw["data"]
        if not where.exists():
            raise DataError(f"no such data set: {where}", path, None, f"{key}.data")
        placement = raw.get("placement", "")
        if not isinstance(placement, str):
            raise DataError("expected text", path, None, f"{key}.placement")
        offset = raw.get("subject_offset", DEFAULT_OFFSET_STEP * i)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise DataError("expected a whole number ≥ 0", path, None, f"{key}.subject_offset")
        parts.append(MixturePart(where, placement, offset))
    offsets = [p.subject_offset for p in parts]
    if len(set(offsets)) != len(offsets):
        raise DataError("two parts have the same subject_offset", path, None, PARTS_KEY)
    return Mixture(path, tuple(labels) if labels else None, tuple(parts))


def _load(path: Path) -> dict[str, Any]:
    try:
        if path.suffix.lower() == ".toml":
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"not a readable settings file: {error}", path) from None
    if not isinstance(data, dict):
        raise DataError("expected a table of settings", path)
    return data
