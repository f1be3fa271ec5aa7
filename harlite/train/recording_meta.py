"""What a folder of your own recordings holds: its settings, its index and its conventions.

A recordings folder is one recording per file, in any format ``harlite stream`` reads
(docs/own-data.md). Two optional files describe it:

- ``dataset.toml`` (or ``dataset.json``): settings shared by every file: the input format,
  column map, units, time unit, rate and delimiter (as ``harlite stream``'s options), the
  classes (``labels``), label renames (``rename``) and labels to leave out (``ignore``), the
  subject pattern, and the window-label rule;
- ``recordings.csv``: one row per recording: ``file`` (required), ``subject``, ``label`` (when
  the whole recording is one activity), ``placement``, ``split`` (``train``, ``val`` or
  ``test``), per-file ``acc_unit``/``gyro_unit``/``time_unit``/``rate``, and any other columns
  (kept as the recording's extra fields).

Without an index, every recording under the folder is used
(:func:`~harlite.runtime.io.recordings_folder.walk_recordings`: files, and unzipped exports each
one recording; links followed only inside the folder). A recording without a label column
or an index label takes its folder's name as its label (``WALKING/rec1.csv``,
``s01/WALKING/morning/``), and the subject is the number the subject pattern finds in its
path (``s03/…``, ``user07_…``). No file is read twice: paths are compared resolved.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from harlite.errors import DataError
from harlite.runtime.io.input_options import FORMATS
from harlite.runtime.io.recordings_folder import (
    DEFAULT_SUBJECT_PATTERN,
    INDEX_FILE,
    SETTINGS_FILES,
    column_key,
    settings_file,
    walk_recordings,
)
from harlite.runtime.io.recordings_folder import load_settings as _load_settings
from harlite.runtime.io.recordings_folder import recording_files as _recording_files
from harlite.runtime.io.sources import InputOptions, is_recording_folder
from harlite.runtime.rows import ACC_UNITS, GYRO_UNITS, TIME_UNITS, LabelMap
from harlite.runtime.signal.windower import WINDOW_LABEL_RULES

SPLITS = ("train", "val", "test")
#: The most digits a subject number may have (subjects are kept as 64-bit integers).
MAX_SUBJECT_DIGITS = 9
#: Index columns with a meaning; any other column is kept as an extra field.
_UNIT_TABLES = {"acc_unit": ACC_UNITS, "gyro_unit": GYRO_UNITS, "time_unit": TIME_UNITS}
INDEX_COLUMNS = ("file", "subject", "label", "placement", "split", "rate", *_UNIT_TABLES)


@dataclass(frozen=True)
class DatasetSettings:
    """``dataset.toml``: how every recording of the folder is read and labelled.

    Attributes:
        format, columns, acc_unit, gyro_unit, time_unit, rate, delimiter: as the options of
            ``harlite stream`` (None: the format's defaults, the rate from the timestamps).
        labels: the classes in the model's output order (None: every label found, sorted).
        rename: label in the files → class name (applied first).
        ignore: labels whose samples are left unlabelled (transitions, "other").
        subject_pattern: a regular expression whose first group finds the subject number in
            a file's path relative to the folder.
        window_label: how a window's label follows from its samples' labels
            (``uniform``, ``majority`` or ``center``; see :mod:`harlite.runtime.signal.windower`).
        recordings: where the recordings are, relative to the settings file (for a settings
            file kept apart from recordings you cannot or should not write into).
        index: the index file, relative to the settings file (default: the recordings
            folder's ``recordings.csv``, where there is one).
        files: a glob pattern choosing the recording files without an index (default: every
            ``.csv``, ``.csv.gz``, ``.zip`` and Sensor Logger folder), e.g. ``s*/*_sp.csv``.
        placement: where the phone was carried in every recording (``waist``, ``pocket``,
            ``hand``…) unless the index says otherwise.
        test_subjects, val_subjects: the subjects of the ``test`` and ``val`` splits unless
            the index says otherwise.
        source: the settings file, None without one.
    """

    format: str = "auto"
    columns: dict[str, str] | None = None
    acc_unit: str | None = None
    gyro_unit: str | None = None
    time_unit: str | None = None
    rate: float | None = None
    delimiter: str | None = None
    labels: tuple[str, ...] | None = None
    rename: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    subject_pattern: str = DEFAULT_SUBJECT_PATTERN
    window_label: str = "uniform"
    recordings: str | None = None
    index: str | None = None
    files: str | None = None
    placement: str | None = None
    test_subjects: tuple[int, ...] = ()
    val_subjects: tuple[int, ...] = ()
    source: Path | None = None

    @classmethod
    def read(cls, root: Path) -> DatasetSettings:
        """The folder's settings file, validated; defaults without one."""
        path = settings_file(root)
        return cls() if path is None else cls.from_dict(_load_settings(path), path)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path) -> DatasetSettings:
        """Validated settings; every problem names the file and the key."""
        known = {f.name for f in fields(cls)} - {"source"}
        for key in data:
            if key not in known:
                raise DataError(
                    f"unknown setting (known: {', '.join(sorted(known))})", path, None, key
                )
        values: dict[str, Any] = {"source": path}
        values |= _text_settings(data, path)
        if "rate" in data:
            values["rate"] = _positive(data["rate"], path, "rate")
        for key in ("columns", "rename"):
            if key in data:
                values[key] = _text_map(data[key], path, key)
        values |= _class_lists(data, path)
        values |= _subject_splits(data, path)
        if "subject_pattern" in data:
            values["subject_pattern"] = _subject_pattern(data["subject_pattern"], path)
        if "window_label" in data:
            values["window_label"] = _window_label_rule(data["window_label"], path)
        return cls(**values)

    def split_of(self, subject: int | None) -> str | None:
        """The split ``test_subjects``/``val_subjects`` give ``subject`` (None: neither)."""
        if subject in self.test_subjects:
            return "test"
        return "val" if subject in self.val_subjects else None

    def class_of(self, label: str | None) -> str | None:
        """The class a label in a file stands for (None: unlabelled or ignored)."""
        return self.label_map().class_of(label)

    def label_map(self) -> LabelMap:
        """The renames and ignores, as the runtime applies them to an input's labels."""
        return LabelMap(self.rename, self.ignore)

    def reading_options(self) -> InputOptions:
        """How to read each recording: format, column map, units, rate and delimiter."""
        return _input_options(self)

    @classmethod
    def load(cls, path: str | Path) -> DatasetSettings:
        """The settings of a ``dataset.toml``/``.json`` file, or of a recordings folder's own
        settings file (``harlite stream --data``); an error names a path without one."""
        path = Path(path)
        if path.is_dir():
            settings = cls.read(path)
            if settings.source is None:
                raise DataError(f"no {' or '.join(SETTINGS_FILES)} in this folder", path)
            return settings
        if not path.is_file():
            raise DataError("no such file or folder", path)
        if not path.name.lower().endswith((".toml", ".json")):
            raise DataError("not a dataset.toml/.json file", path)
        return cls.from_dict(_load_settings(path), path)


@dataclass(frozen=True)
class DatasetFolder:
    """Where a recordings data set is: its recordings folder, its settings and its index."""

    root: Path
    settings: DatasetSettings
    index: Path | None

    @classmethod
    def locate(cls, path: str | Path) -> DatasetFolder:
        """A recordings folder (with its own ``dataset.toml``, if any), or a settings file
        whose ``recordings`` key names the folder."""
        path = Path(path)
        if path.is_file():
            if not path.name.lower().endswith((".toml", ".json")):
                raise DataError("not a data set folder or a dataset.toml/.json file", path)
            settings = DatasetSettings.from_dict(_load_settings(path), path)
            root = path.parent / settings.recordings if settings.recordings else path.parent
            if not root.is_dir():
                raise DataError(f"no such folder: {root}", path, None, "recordings")
        else:
            settings, root = DatasetSettings.read(path), path
            if settings.recordings:
                raise DataError(
                    "'recordings' belongs in a settings file kept outside the folder; here the "
                    "folder is the recordings folder",
                    settings.source,
                    None,
                    "recordings",
                )
        if settings.index:
            index = settings.source.parent / settings.index
            if not index.is_file():
                raise DataError(f"no such index: {index}", settings.source, None, "index")
        else:
            index = root / INDEX_FILE if (root / INDEX_FILE).is_file() else None
        return cls(root, settings, index)

    def files(self) -> list[Path]:
        """The settings and index files (what the data set's description depends on)."""
        return [p for p in (self.settings.source, self.index) if p is not None]


@dataclass(frozen=True)
class Recording:
    """One recording of the folder and what is known about it.

    Attributes:
        path: the file (or Sensor Logger folder).
        name: its path relative to the data set folder.
        number: its position in the data set (1-based): the windows' experiment id.
        subject: the subject's number (the recording's number when the folder has no
            subjects).
        label: the class of the whole recording (index or folder), None if per row.
        label_origin: where ``label`` came from ("recordings.csv line N", "folder").
        placement, split: from the index, where given.
        options: how to read it (the settings with the index's per-file units and rate).
        extra: the index's other columns.
        where: "recordings.csv line N" or the file's name, for messages.
    """

    path: Path
    name: str
    number: int
    subject: int
    label: str | None
    label_origin: str | None
    placement: str | None
    split: str | None
    options: InputOptions
    extra: dict[str, str]
    where: str


def is_recordings_folder(root: Path) -> bool:
    """Whether ``root`` looks like a recordings data set: a settings file, or a folder with
    a settings file, an index, or recording files."""
    if root.is_file():
        return root.name.lower().endswith((".toml", ".json"))
    if any((root / name).is_file() for name in (*SETTINGS_FILES, INDEX_FILE)):
        return True
    return bool(_recording_files(root, limit=1))


def find_recordings(folder: DatasetFolder) -> list[Recording]:
    """The recordings of a data set: those its index lists, or every recording file in it."""
    root, settings = folder.root, folder.settings
    if folder.index is not None:
        found = _from_index(root, folder.index, settings)
    else:
        found = _from_files(root, settings)
    if not found:
        raise DataError("no recordings (.csv, .csv.gz, Sensor Logger exports) in this folder", root)
    return _check_subjects(found, root)


def _from_files(root: Path, settings: DatasetSettings) -> list[Recording]:
    pattern = re.compile(settings.subject_pattern)
    walk = walk_recordings(root, pattern=settings.files)
    if walk.refused:
        path, reason = walk.refused[0]
        more = f" (and {len(walk.refused) - 1} more)" if len(walk.refused) > 1 else ""
        raise DataError(
            f"{reason}{more}: a data set reads each recording once, from inside its folder "
            "(links are followed only there); move or copy the recording in, or remove the "
            "link",
            path,
        )
    recordings = []
    for number, path in enumerate(walk.files, start=1):
        name = path.relative_to(root).as_posix()
        label = _folder_label(name)
        subject = _subject_from_path(name, pattern, settings)
        recordings.append(
            Recording(
                path=path,
                name=name,
                number=number,
                subject=subject,
                label=label,
                label_origin="folder" if label else None,
                placement=settings.placement,
                split=settings.split_of(subject),
                options=_input_options(settings),
                extra={},
                where=name,
            )
        )
    return recordings


def _from_index(root: Path, index: Path, settings: DatasetSettings) -> list[Recording]:
    pattern = re.compile(settings.subject_pattern)
    rows = _read_index(index)
    recordings: list[Recording] = []
    seen: dict[Path, tuple[str, int]] = {}
    for number, (line, row) in enumerate(rows, start=1):
        where = f"{index.name} line {line}"
        name = row["file"].strip()
        path = _index_path(root, name, index, line)
        if path in seen:
            first, first_line = seen[path]
            again = "listed twice" if first == name else f"the same file as {first}"
            raise DataError(f"{name} is {again} (line {first_line})", index, line, "file")
        seen[path] = (name, line)
        subject_text = row.get("subject", "").strip()
        if subject_text:
            subject = _subject_number(subject_text, index, line, "subject")
            if subject is None:
                raise DataError(
                    f"subject {subject_text!r} has no number (use e.g. 7 or s07)",
                    index,
                    line,
                    "subject",
                )
        else:
            subject = _subject_from_path(name, pattern, settings, index)
        split = row.get("split", "").strip() or settings.split_of(subject)
        if split is not None and split not in SPLITS:
            raise DataError(
                f"split must be {', '.join(SPLITS)}, not {split!r}", index, line, "split"
            )
        label = settings.class_of(row.get("label", "").strip() or None)
        origin = where if label else None
        if not row.get("label", "").strip():  # no label given: the LABEL/ folder's, if any
            label = _folder_label(os.path.normpath(name))
            origin = "folder" if label else None
        recordings.append(
            Recording(
                path=path,
                name=name,
                number=number,
                subject=subject,
                label=label,
                label_origin=origin,
                placement=row.get("placement", "").strip() or settings.placement,
                split=split,
                options=_input_options(settings, row, index, line),
                extra={k: v for k, v in row.items() if k not in INDEX_COLUMNS},
                where=where,
            )
        )
    return recordings


def _index_path(root: Path, name: str, index: Path, line: int) -> Path:
    """The recording an index row names, resolved (links followed, ``.`` and ``..`` gone):
    it must lie inside the data set folder."""
    if not name:
        raise DataError("empty file name", index, line, "file")
    path = (root / name).resolve()
    if root.resolve() not in path.parents:
        raise DataError(f"{name!r} lies outside the data set folder", index, line, "file")
    if not (path.is_file() or is_recording_folder(path)):
        raise DataError(f"no such recording: {name}", index, line, "file")
    return path


def _read_index(index: Path) -> list[tuple[int, dict[str, str]]]:
    """The index's rows with their line numbers; the header must name ``file``."""
    try:
        text = index.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("not UTF-8 text", index) from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DataError("a NUL byte: not a text CSV", index, line)
    reader = csv.reader(text.splitlines())
    try:
        return _index_rows(reader, index)
    except csv.Error as error:
        raise DataError(f"not a readable CSV: {error}", index, reader.line_num) from None


def _index_rows(reader, index: Path) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for fields_ in reader:
        line = reader.line_num
        if not fields_ or not any(f.strip() for f in fields_):
            continue
        if header is None:
            header = [column_key(f) for f in fields_]
            if "file" not in header:
                raise DataError("the header must have a 'file' column", index, line)
            if len(set(header)) != len(header):
                raise DataError("a column is named twice in the header", index, line)
            continue
        if len(fields_) != len(header):
            raise DataError(f"expected {len(header)} fields, found {len(fields_)}", index, line)
        rows.append((line, dict(zip(header, fields_, strict=True))))
    if header is None:
        raise DataError("empty index", index)
    return rows


def _input_options(
    settings: DatasetSettings,
    row: dict[str, str] | None = None,
    index: Path | None = None,
    line: int | None = None,
) -> InputOptions:
    """The settings' reading options with the index row's per-file units and rate; a unit
    declared in both places must agree."""
    units = {key: getattr(settings, key) for key in _UNIT_TABLES}
    rate = settings.rate
    for key, table in _UNIT_TABLES.items():
        value = (row or {}).get(key, "").strip()
        if not value:
            continue
        if value not in table:
            raise DataError(
                f"unknown unit {value!r} (choose from {', '.join(table)})", index, line, key
            )
        if units[key] is not None and units[key] != value:
            raise DataError(
                f"mixed units declared: {value} here, {units[key]} in {settings.source.name}",
                index,
                line,
                key,
            )
        units[key] = value
    rate_text = (row or {}).get("rate", "").strip()
    if rate_text:
        file_rate = _positive(rate_text, index, "rate", line)
        if rate is not None and rate != file_rate:
            raise DataError(
                f"rate declared twice: {file_rate:g} here, {rate:g} in {settings.source.name}",
                index,
                line,
                "rate",
            )
        rate = file_rate
    return InputOptions(
        format=settings.format,
        columns=settings.columns,
        acc_unit=units["acc_unit"],
        gyro_unit=units["gyro_unit"],
        time_unit=units["time_unit"],
        rate_hz=rate,
        delimiter=settings.delimiter,
    )


def _folder_label(name: str) -> str | None:
    """The label a recording's folder gives it: ``WALKING/s01.csv`` is ``WALKING`` (None at
    the top of the data set)."""
    parent = PurePosixPath(name).parent
    return parent.name if parent.parts else None


def _subject_number(
    text: str, path: Path | None, line: int | None = None, key: str | None = None
) -> int | None:
    """The last number in ``text`` (None: none), of at most MAX_SUBJECT_DIGITS digits."""
    digits = re.findall(r"\d+", text)
    if not digits:
        return None
    if len(digits[-1].lstrip("0")) > MAX_SUBJECT_DIGITS:
        raise DataError(
            f"subject number {digits[-1][:12]}… has more than {MAX_SUBJECT_DIGITS} digits",
            path,
            line,
            key,
        )
    return int(digits[-1])


def _subject_from_path(
    name: str, pattern: re.Pattern, settings: DatasetSettings, where: Path | None = None
) -> int:
    """The subject the pattern's first group finds in the path, 0 where it finds none."""
    match = pattern.search(name)
    if match is None:
        return 0
    source, key = settings.source or where, "subject_pattern"
    if match.group(1) is None:
        raise DataError(
            f"matches {name!r} without its group (an optional group, after ? or |): make the "
            "group required, as in s(\\d+)",
            source,
            None,
            key,
        )
    subject = _subject_number(match.group(1), source, None, key)
    if subject is None:
        raise DataError(
            f"its group finds {match.group(1)!r} in {name!r}: no number", source, None, key
        )
    return subject


def _check_subjects(recordings: list[Recording], root: Path) -> list[Recording]:
    """Subjects everywhere or nowhere (then each recording is its own subject); one split
    per subject."""
    without = [r for r in recordings if r.subject == 0]
    if without and len(without) < len(recordings):
        raise DataError(
            f"no subject for {without[0].name} (others have one): give it in {INDEX_FILE} "
            "or name the file after its subject (s07_…)",
            root,
        )
    if without:
        recordings = [replace(r, subject=r.number) for r in recordings]
    split_of: dict[int, Recording] = {}
    for recording in recordings:
        if recording.split is None:
            continue
        first = split_of.setdefault(recording.subject, recording)
        if first.split != recording.split:
            raise DataError(
                f"subject {recording.subject} is in both splits: {first.split} ({first.where}) "
                f"and {recording.split}",
                root,
                None,
                "split",
            )
    return recordings


def _brief(value: Any) -> str:
    """``value`` for a message: at most 40 characters."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to write out (sys.int_info)
        return "an integer too long to write out"
    return text if len(text) <= 40 else text[:40] + "…"


def _check_files_pattern(pattern: str, path: Path) -> None:
    """``files`` is a glob under the recordings folder: not empty, not absolute, no ``..``."""
    parts = PurePosixPath(pattern).parts
    if not pattern.strip():
        raise DataError("an empty pattern", path, None, "files")
    if PurePosixPath(pattern).is_absolute() or PureWindowsPath(pattern).anchor:
        raise DataError(
            f"{pattern!r} is absolute: give a pattern relative to the recordings folder "
            '(e.g. s*/*.csv), and the folder itself with recordings = "…"',
            path,
            None,
            "files",
        )
    if ".." in parts:
        raise DataError(f"{pattern!r} leaves the recordings folder ('..')", path, None, "files")


def _text_settings(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The settings given as one text each, checked: the files pattern, units and format."""
    values: dict[str, Any] = {}
    for key in (
        "format",
        "acc_unit",
        "gyro_unit",
        "time_unit",
        "delimiter",
        "recordings",
        "index",
        "files",
        "placement",
    ):
        if key in data:
            values[key] = _text(data[key], path, key)
    if "files" in values:
        _check_files_pattern(values["files"], path)
    for key, table in _UNIT_TABLES.items():
        if key in values and values[key] not in table:
            raise DataError(
                f"unknown unit {values[key]!r} (choose from {', '.join(table)})",
                path,
                None,
                key,
            )
    if "format" in values and values["format"] not in FORMATS:
        raise DataError(f"format must be {', '.join(FORMATS)}", path, None, "format")
    return values


def _class_lists(data: dict[str, Any], path: Path) -> dict[str, tuple[str, ...]]:
    """``labels`` (two or more, none twice) and ``ignore``."""
    values: dict[str, tuple[str, ...]] = {}
    for key in ("labels", "ignore"):
        if key in data:
            values[key] = _text_list(data[key], path, key)
    if "labels" in values and len(set(values["labels"])) != len(values["labels"]):
        raise DataError("a class is listed twice", path, None, "labels")
    if "labels" in values and len(values["labels"]) < 2:
        raise DataError("give two or more classes", path, None, "labels")
    return values


def _subject_splits(data: dict[str, Any], path: Path) -> dict[str, tuple[int, ...]]:
    """``test_subjects`` and ``val_subjects``, with no subject in both."""
    values: dict[str, tuple[int, ...]] = {}
    for key in ("test_subjects", "val_subjects"):
        if key in data:
            values[key] = _subject_list(data[key], path, key)
    if set(values.get("test_subjects", ())) & set(values.get("val_subjects", ())):
        raise DataError(
            "a subject is both a test and a validation subject", path, None, "val_subjects"
        )
    return values


def _subject_pattern(value: Any, path: Path) -> str:
    """``subject_pattern``: a regular expression with a group for the subject number."""
    pattern = _text(value, path, "subject_pattern")
    try:
        if re.compile(pattern).groups < 1:
            raise DataError("needs a group: (\\d+)", path, None, "subject_pattern")
    except re.error as error:
        raise DataError(
            f"not a regular expression: {error}", path, None, "subject_pattern"
        ) from None
    return pattern


def _window_label_rule(value: Any, path: Path) -> str:
    """``window_label``: one of :data:`WINDOW_LABEL_RULES`."""
    rule = _text(value, path, "window_label")
    if rule not in WINDOW_LABEL_RULES:
        raise DataError(f"choose from {', '.join(WINDOW_LABEL_RULES)}", path, None, "window_label")
    return rule


def _text(value: Any, path: Path, key: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"expected text, not {_brief(value)}", path, None, key)
    return value


def _positive(value: Any, path: Path | None, key: str, line: int | None = None) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"expected a number, not {_brief(value)}", path, line, key) from None
    except OverflowError:  # an integer beyond any float
        number = float("inf")
    if number == float("inf"):
        raise DataError(f"too large a number: {_brief(value)}", path, line, key)
    if not number > 0:
        raise DataError(f"must be a positive number, not {_brief(value)}", path, line, key)
    return number


def _text_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DataError("expected a list of names", path, None, key)
    return tuple(value)


def _subject_list(value: Any, path: Path, key: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 10**MAX_SUBJECT_DIGITS
        for v in value
    ):
        raise DataError(
            f"expected a list of subject numbers (at most {MAX_SUBJECT_DIGITS} digits)",
            path,
            None,
            key,
        )
    return tuple(value)


def _text_map(value: Any, path: Path, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise DataError("expected a table of name = name", path, None, key)
    return dict(value)
