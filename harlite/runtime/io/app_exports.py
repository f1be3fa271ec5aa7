"""Recordings exported by phone apps, read as they are: Sensor Logger and phyphox.

Both apps export one CSV per sensor (a zip, or the folder it unpacks to), each with its own
timestamps; the gyroscope is interpolated onto the accelerometer's timestamps, and
accelerometer rows outside the gyroscope's time span are counted as bad rows (those within
:data:`EDGE_MARGIN_S` of it, as when one sensor starts a few milliseconds after the other,
take the gyroscope's first or last sample). The members are read side by side in blocks, so
that memory does not grow with a recording's length.

- **Sensor Logger** (Android and iOS; layouts documented in the app's
  ``awesome-sensor-logger`` repository, UNITS.md and CROSSPLATFORM.md): ``TotalAcceleration.csv``
  (acceleration with gravity; Android) or ``Accelerometer.csv`` + ``Gravity.csv`` (iOS),
  ``Gyroscope.csv``, each with ``time`` (ns since the epoch), ``seconds_elapsed``, ``z``, ``y``,
  ``x`` (m/s², rad/s), and ``Metadata.csv`` (``platform``, ``standardisation``, ``sensors``…).
  iOS acceleration and gravity have the opposite sign to Android's unless the app's
  "Standardise Units & Frames" was on: such recordings are turned to Android's convention,
  which the models use. The app's in-recording annotations, ``Annotation.csv`` (``time``,
  ``seconds_elapsed``, ``text``, ``millisecond_press_duration``), label the samples: each
  annotation's text from its time to the next annotation (an empty text ends a label;
  samples before the first annotation are unlabelled).
- **phyphox** (its export "CSV (Comma, decimal point)", or the tab or semicolon variants; a
  zip with one CSV per data set and ``meta/device.csv``, ``meta/time.csv``): either one CSV
  holding acceleration and gyroscope columns (``Raw Data.csv``), or one CSV per sensor
  (``Accelerometer.csv``, ``Gyroscope.csv``…). Headers name quantity, axis and unit:
  ``"Time (s)","Acceleration x (m/s^2)"``, ``"Gyroscope x (rad/s)"``, ``"X (m/s^2)"`` (the
  quantity then comes from the file's name). Linear acceleration (gravity removed) is used
  only with a gravity set to add back.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from harlite.errors import DataError
from harlite.runtime.io.input_options import PHYPHOX, SENSOR_LOGGER, InputOptions
from harlite.runtime.io.lines import MAX_LINE_BYTES, read_lines
from harlite.runtime.io.phone_align import EDGE_MARGIN_S, Scales, align_phone
from harlite.runtime.io.sensorcsv import (
    LineProblem,
    ParsedRows,
    RowParser,
    Units,
    layout_from_header,
    sniff_delimiter,
    unquote,
)
from harlite.runtime.rows import ACC_UNITS, BACKWARDS_IN_SENSOR, GYRO_UNITS

#: The most one exported CSV may hold (an hour at 100 Hz is about 30 MB); a larger one (or a
#: zip bomb) is refused before it is read.
MAX_MEMBER_BYTES = 256 << 20
#: The most an annotations file may hold (a label every second for a day is about 3 MB).
MAX_ANNOTATION_BYTES = 8 << 20

Member = Path | zipfile.ZipInfo
#: (times [s or file units], xyz values, line numbers)
Series = tuple[np.ndarray, np.ndarray, np.ndarray]


class ExportFiles:
    """The CSV files of an export (a folder, a zip, or one CSV: phyphox's single-set export),
    read with bounded memory. A folder's CSVs are those in it and in its subfolders, or with
    ``nested=False`` those in it and in its ``meta/`` folder (phyphox's) only."""

    def __init__(self, path: Path, nested: bool = True) -> None:
        self.path = path
        self.bad: list[tuple[int, str, str]] = []
        if path.is_file() and path.suffix.lower() == ".csv":
            self.path = path.parent  # members are named relative to it, as in a folder
            self.members = {path.name: path}
            return
        if path.is_dir():
            inner = path.glob("*/*.csv") if nested else path.glob("meta/*.csv")
            self.members: dict[str, Member] = {
                p.relative_to(path).as_posix(): p
                for p in sorted([*path.glob("*.csv"), *inner])
                if p.is_file()
            }
            return
        try:
            with zipfile.ZipFile(path) as archive:
                self.members = {
                    info.filename.strip("/"): info
                    for info in archive.infolist()
                    if info.filename.lower().endswith(".csv") and info.filename.count("/") <= 2
                }
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as error:
            raise DataError(f"not a readable zip or folder: {error}", path) from None

    def by_name(self) -> dict[str, str]:
        """Top-level CSV file name → member key (a zip's single top folder is looked into)."""
        return {
            Path(key).name: key
            for key in self.members
            if key.count("/") == 0 or (key.count("/") == 1 and not key.startswith("meta/"))
        }

    def first_line(self, key: str) -> str:
        """The member's first line (its header), '' if unreadable; reads one line's worth."""
        try:
            lines = self.text(key, MAX_LINE_BYTES).splitlines()
        except DataError:
            return ""
        return lines[0] if lines else ""

    def text(self, key: str, limit: int = 1 << 16) -> str:
        """A small member's whole text (metadata), at most ``limit`` bytes."""
        archive, handle = self._open(key)
        try:
            return handle.read(limit).decode("utf-8-sig", errors="replace")
        finally:
            handle.close()
            if archive is not None:
                archive.close()

    def lines(self, key: str) -> Iterator[list[tuple[int, str | LineProblem]]]:
        """The member's numbered lines in blocks, stopping past MAX_MEMBER_BYTES whatever
        size a zip declared."""
        where = f"{self.path}/{key}"
        archive, handle = self._open(key)
        read = 0

        def bounded(n: int) -> bytes:
            nonlocal read
            block = handle.read(n)
            read += len(block)
            if read > MAX_MEMBER_BYTES:
                raise DataError(
                    f"larger than the {MAX_MEMBER_BYTES >> 20} MiB an exported file may "
                    "hold here (its size in the zip is wrong: a zip bomb?)",
                    where,
                )
            return block

        try:
            yield from read_lines(bounded, 1 << 20)
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as error:
            raise DataError(f"cannot read: {error}", where) from None
        finally:
            handle.close()
            if archive is not None:
                archive.close()

    def xyz_blocks(
        self, key: str, make_parser: Callable[[list[str], str, str], RowParser]
    ) -> Iterator[Series]:
        """(times, xyz values, line numbers) of one three-axis CSV, block by block (a member
        is never held whole); ``make_parser(header fields, where, delimiter)`` gives the
        parser. Rows whose time repeats or goes back are counted as bad."""
        where = f"{self.path}/{key}"
        parser, name, last = None, Path(key).name, -np.inf
        decimal_comma = False
        for block in self.lines(key):
            if parser is None:
                if not block or isinstance(block[0][1], LineProblem):
                    raise DataError("empty or not text", where)
                header = block[0][1]
                delimiter = sniff_delimiter(header)
                parser = make_parser(unquote(header.split(delimiter)), where, delimiter)
                decimal_comma = delimiter == ";"
                block = block[1:]
            if decimal_comma:
                block = [
                    (n, t if isinstance(t, LineProblem) else t.replace(",", ".")) for n, t in block
                ]
            parsed = parser.parse(block)
            self.bad += [(n, r, f"{name}: {d}") for n, r, d in parsed.bad]
            times = parsed.rows[:, 0]
            keep = times > np.maximum.accumulate(np.concatenate(([last], times[:-1])))
            for line in parsed.lines[~keep]:
                self.bad.append((int(line), BACKWARDS_IN_SENSOR, name))
            if len(times):
                last = max(last, float(times.max()))
            yield times[keep], parsed.rows[keep, 1:4], parsed.lines[keep]
        if parser is None:
            raise DataError("empty or not text", where)

    def take_bad(self) -> list[tuple[int, str, str]]:
        """The bad rows found since the last call."""
        bad, self.bad = self.bad, []
        return bad

    def _open(self, key: str) -> tuple[zipfile.ZipFile | None, IO[bytes]]:
        source = self.members[key]
        where = f"{self.path}/{key}"
        size = source.stat().st_size if isinstance(source, Path) else source.file_size
        if size > MAX_MEMBER_BYTES:
            raise DataError(
                f"{size / 1e6:,.0f} MB: larger than the {MAX_MEMBER_BYTES >> 20} MiB an exported "
                "file may hold here (a zip bomb, or split the recording)",
                where,
            )
        if isinstance(source, Path):
            return None, source.open("rb")
        archive = zipfile.ZipFile(self.path)
        try:
            return archive, archive.open(source)
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError, RuntimeError) as error:
            archive.close()
            raise DataError(f"cannot read: {error}", where) from None


class FollowingSeries:
    """A sensor read alongside the accelerometer, to be interpolated at its times: read
    ahead just far enough, its samples before those times let go (np.interp's result needs
    only the two samples around each time, so it is the whole series' result)."""

    def __init__(self, blocks: Iterator[Series]) -> None:
        self._blocks = blocks
        self.times = np.empty(0)
        self.values = np.empty((0, 3))
        self.first: float | None = None  #: its first time (None: no sample yet)
        self.ended = False

    def cover(self, until: float) -> None:
        """Read on until a sample at or after ``until``, or the end."""
        while not self.ended and not (len(self.times) and self.times[-1] >= until):
            block = next(self._blocks, None)
            if block is None:
                self.ended = True
            elif len(block[0]):
                self.first = float(block[0][0]) if self.first is None else self.first
                self.times = np.concatenate((self.times, block[0]))
                self.values = np.concatenate((self.values, block[1]))

    def let_go(self, before: float) -> None:
        """Forget the samples no time after ``before`` needs (one is kept before it)."""
        keep_from = max(int(np.searchsorted(self.times, before, side="right")) - 1, 0)
        self.times, self.values = self.times[keep_from:], self.values[keep_from:]

    def drain(self) -> None:
        """Read what is left (its bad rows are still counted), keeping nothing."""
        for _ in self._blocks:
            pass


def aligned_rows(
    files: ExportFiles,
    acc: Iterator[Series],
    gyro: FollowingSeries,
    gravity: FollowingSeries | None,
    scales: Scales,
    acc_name: str,
) -> Iterator[ParsedRows]:
    """Rows (t [s], acc [g], gyro [rad/s]) at the accelerometer's times, block by block, by
    :func:`~harlite.runtime.io.phone_align.align_phone` (the push path's rule too): gravity
    (for acceleration without it) is added, the gyroscope interpolated; the accelerometer's
    rows outside the gyroscope's time span (by more than EDGE_MARGIN_S) are bad rows."""
    margin = EDGE_MARGIN_S / scales.time  # in the files' time unit
    for times, values, lines in acc:
        if len(times):
            end = float(times[-1])
            if gravity is not None:
                gravity.cover(end)
            gyro.cover(end + margin)  # read past these times: every row is settled
        acc_block = (times, values, lines)
        done = align_phone(acc_block, gyro, gravity, scales, final=True, where=acc_name)
        if len(times) and gravity is not None:
            gravity.let_go(float(times[-1]))
        if done.until is not None:
            gyro.let_go(done.until)
        yield ParsedRows(done.rows, done.lines, None, done.bad + files.take_bad())
    for series in (gyro, gravity):
        if series is not None:
            series.drain()
    if files.bad:
        yield ParsedRows(np.empty((0, 7)), np.empty(0, np.int64), None, files.take_bad())


def _three_axis_parser(names: dict[str, str]):
    """A parser factory for CSVs whose x/y/z columns are ``names`` (+ ``t``)."""

    def make(header: list[str], where: str, delimiter: str) -> RowParser:
        mapping = {"t": names["t"]}
        for axis in "xyz":
            mapping[f"acc_{axis}"] = mapping[f"gyro_{axis}"] = names[axis]
        try:
            layout = layout_from_header(header, mapping)
        except ValueError as error:
            raise DataError(str(error), where, 1) from None
        return RowParser(layout, Units("g", "rad/s", "s"), delimiter)

    return make


# --- Sensor Logger -------------------------------------------------------------------------

SENSOR_LOGGER_HEADER = "time,seconds_elapsed"
SENSOR_LOGGER_NAMES = {"t": "time", "x": "x", "y": "y", "z": "z"}


@dataclass(frozen=True)
class SensorLoggerMetadata:
    """What ``Metadata.csv`` says (None: no metadata file, or the field is absent)."""

    platform: str | None = None
    standardised: bool | None = None
    sensors: tuple[str, ...] = ()

    @classmethod
    def read(cls, files: ExportFiles) -> SensorLoggerMetadata | None:
        key = files.by_name().get("Metadata.csv")
        if key is None:
            return None
        rows = list(csv.DictReader(io.StringIO(files.text(key))))
        if not rows:
            return cls()
        row = {k.strip().lower(): (v or "").strip() for k, v in rows[0].items() if k}
        standard = row.get("standardisation", "").lower()
        return cls(
            platform=row.get("platform", "").lower() or None,
            standardised={"true": True, "false": False}.get(standard),
            sensors=tuple(s for s in row.get("sensors", "").split("|") if s),
        )

    @property
    def flips_acceleration(self) -> bool:
        """iOS without "Standardise Units & Frames": acceleration has Android's opposite sign."""
        return self.platform == "ios" and not self.standardised


@dataclass(frozen=True)
class Annotations:
    """Sensor Logger's ``Annotation.csv`` as labels: each annotation's text holds from its
    time [s] until the next one's; an empty text leaves the samples after it unlabelled."""

    times: np.ndarray
    texts: tuple[str | None, ...]

    @classmethod
    def read(cls, files: ExportFiles, key: str, time_scale: float) -> Annotations | None:
        """The annotations with a time, in time order; None when none carries a text."""
        where = f"{files.path}/{key}"
        text = files.text(key, MAX_ANNOTATION_BYTES + 1)
        if len(text.encode()) > MAX_ANNOTATION_BYTES:
            raise DataError(f"larger than {MAX_ANNOTATION_BYTES >> 20} MiB", where)
        reader = csv.reader(io.StringIO(text))
        header = [h.strip().lower() for h in next(reader, [])]
        if "time" not in header or "text" not in header:
            raise DataError(f"expected the columns time and text, found {header}", where, 1)
        at, said = header.index("time"), header.index("text")
        found: list[tuple[float, str | None]] = []
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            line = reader.line_num
            try:
                time = float(fields[at]) * time_scale
            except (IndexError, ValueError):
                raise DataError("not a time", where, line, "time") from None
            if not np.isfinite(time):
                raise DataError("not a time", where, line, "time")
            label = fields[said].strip() if said < len(fields) else ""
            found.append((time, label or None))
        if not any(label for _, label in found):
            return None
        found.sort(key=lambda item: item[0])
        return cls(np.array([t for t, _ in found]), tuple(label for _, label in found))

    def labels_at(self, times: np.ndarray) -> list[str | None]:
        """The label of each sample time [s]."""
        index = np.searchsorted(self.times, times, side="right") - 1
        texts = (None, *self.texts)  # index -1 (before the first annotation) → None
        return [texts[i + 1] for i in index.tolist()]


class SensorLoggerSource:
    """A recording exported by the Sensor Logger app (a zip, or the folder it unpacks to);
    see the module's docstring for the files used."""

    def __init__(self, path: str | Path, options: InputOptions | None = None) -> None:
        self.options = options or InputOptions(format=SENSOR_LOGGER)
        self.path = Path(path)
        self.name = str(path)
        self.units = self.options.units(SENSOR_LOGGER)
        self.layout = None
        self.metadata: SensorLoggerMetadata | None = None

    def __iter__(self) -> Iterator[ParsedRows]:
        files = ExportFiles(self.path)
        found = files.by_name()
        self.metadata = metadata = SensorLoggerMetadata.read(files)
        parse = _three_axis_parser(SENSOR_LOGGER_NAMES)
        gravity = None
        if "TotalAcceleration.csv" in found:
            acc_name = "TotalAcceleration.csv"
        elif "Accelerometer.csv" in found and "Gravity.csv" in found:
            acc_name = "Accelerometer.csv"
            gravity = FollowingSeries(files.xyz_blocks(found["Gravity.csv"], parse))
        else:
            raise DataError(self._missing_acceleration(found, metadata), self.path)
        if "Gyroscope.csv" not in found:
            raise DataError(self._missing_gyroscope(metadata), self.path)
        gyro = FollowingSeries(files.xyz_blocks(found["Gyroscope.csv"], parse))
        scale = self.units.scale()
        acc_scale = -scale[1] if metadata is not None and metadata.flips_acceleration else scale[1]
        acc = files.xyz_blocks(found[acc_name], parse)
        annotations = (
            Annotations.read(files, found["Annotation.csv"], scale[0])
            if "Annotation.csv" in found
            else None
        )
        for parsed in aligned_rows(
            files, acc, gyro, gravity, Scales(scale[0], acc_scale, scale[4]), acc_name
        ):
            if annotations is not None:
                parsed.labels = annotations.labels_at(parsed.rows[:, 0])
            yield parsed

    @staticmethod
    def _missing_acceleration(found: dict[str, str], metadata: SensorLoggerMetadata | None) -> str:
        if metadata is None and not (set(found) & {"Gyroscope.csv", "Accelerometer.csv"}):
            return (
                "no TotalAcceleration.csv, nor Accelerometer.csv with Gravity.csv "
                "(not a Sensor Logger export?)"
            )
        listed = (
            f" (Metadata.csv lists: {', '.join(metadata.sensors)})"
            if metadata and metadata.sensors
            else ""
        )
        return (
            "this Sensor Logger recording has no acceleration with gravity: no "
            f"TotalAcceleration.csv, nor Accelerometer.csv with Gravity.csv{listed}. Turn on "
            "Accelerometer (and on iOS Gravity) in Sensor Logger's sensor list and record again"
        )

    @staticmethod
    def _missing_gyroscope(metadata: SensorLoggerMetadata | None) -> str:
        listed = (
            f" (Metadata.csv lists: {', '.join(metadata.sensors)})"
            if metadata and metadata.sensors
            else ""
        )
        return (
            f"this Sensor Logger recording has no Gyroscope.csv: it was made without the "
            f"gyroscope{listed}. Turn on Gyroscope in Sensor Logger's sensor list and record "
            "again: the models need the accelerometer and the gyroscope"
        )


# --- phyphox ------------------------------------------------------------------------------

PHYPHOX_TIME = "time (s)"
#: "Acceleration x (m/s^2)", "Gyroscope x (rad/s)", "X (m/s^2)"
_PHYPHOX_COLUMN = re.compile(r"^(?P<what>.*?)\s*\b(?P<axis>[xyz])\s*\((?P<unit>[^)]+)\)$", re.I)
_PHYPHOX_UNITS = {
    "m/s^2": ("acc", "m/s2"),
    "m/s²": ("acc", "m/s2"),
    "g": ("acc", "g"),
    "rad/s": ("gyro", "rad/s"),
    "deg/s": ("gyro", "deg/s"),
    "°/s": ("gyro", "deg/s"),
}


@dataclass(frozen=True)
class PhyphoxSet:
    """Three axis columns of one kind in one CSV of a phyphox export."""

    key: str
    kind: str  # "acc" (with gravity), "linear", "gravity" or "gyro"
    unit: str
    names: dict[str, str]  # t, x, y, z → header names


def _kind(what: str, unit_kind: str) -> str:
    what = what.lower()
    if unit_kind == "gyro":
        return "gyro"
    if "linear" in what or "without g" in what:
        return "linear"
    if "gravity" in what:
        return "gravity"
    return "acc"


def phyphox_sets(key: str, header: list[str]) -> list[PhyphoxSet]:
    """The three-axis column sets a phyphox CSV's header holds."""
    names = [h.strip() for h in header]
    lowered = [n.lower() for n in names]
    if not lowered or lowered[0] != PHYPHOX_TIME:
        return []
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for name in names[1:]:
        match = _PHYPHOX_COLUMN.match(name)
        if not match or match["unit"].strip().lower() not in _PHYPHOX_UNITS:
            continue
        unit_kind, unit = _PHYPHOX_UNITS[match["unit"].strip().lower()]
        what = match["what"] or Path(key).stem  # "X (m/s^2)" in "Accelerometer.csv"
        kind = _kind(what, unit_kind)
        groups.setdefault((kind, unit), {"t": names[0]})[match["axis"].lower()] = name
    return [
        PhyphoxSet(key, kind, unit, columns)
        for (kind, unit), columns in groups.items()
        if {"x", "y", "z"} <= set(columns)
    ]


class PhyphoxSource:
    """A recording exported by phyphox: a zip or folder of CSVs, or one CSV holding both
    sensors; see the module's docstring."""

    def __init__(self, path: str | Path, options: InputOptions | None = None) -> None:
        self.options = options or InputOptions(format=PHYPHOX)
        self.path = Path(path)
        self.name = str(path)
        self.layout = None

    def __iter__(self) -> Iterator[ParsedRows]:
        files = ExportFiles(self.path)
        sets: list[PhyphoxSet] = []
        for key in files.members:
            if key.startswith("meta/") or "/meta/" in key:
                continue
            header = files.first_line(key)
            sets += phyphox_sets(
                key, unquote(header.split(sniff_delimiter(header))) if header else []
            )
        if not sets:
            raise DataError(
                'no phyphox data: no CSV whose header starts with "Time (s)" and names '
                "x, y, z columns with their units",
                self.path,
            )
        by_kind = {s.kind: s for s in sets}
        acc_set, gravity, gravity_scale = by_kind.get("acc"), None, 1.0
        if acc_set is None and "linear" in by_kind and "gravity" in by_kind:
            acc_set, gravity_set = by_kind["linear"], by_kind["gravity"]
            gravity_blocks = files.xyz_blocks(
                gravity_set.key, _three_axis_parser(gravity_set.names)
            )
            gravity = FollowingSeries(gravity_blocks)
            gravity_scale = ACC_UNITS[gravity_set.unit] / ACC_UNITS[acc_set.unit]
        elif acc_set is None and "linear" in by_kind:
            raise DataError(
                "this phyphox export has linear acceleration only (gravity removed: "
                '"Acceleration without g"); the models need acceleration with gravity. Record '
                'with phyphox\'s "Acceleration with g" (the accelerometer) and the gyroscope',
                self.path,
            )
        elif acc_set is None:
            raise DataError(
                "this phyphox export has no acceleration: record with phyphox's accelerometer "
                '("Acceleration with g") and gyroscope together',
                self.path,
            )
        gyro_set = by_kind.get("gyro")
        if gyro_set is None:
            raise DataError(
                "this phyphox export has no gyroscope (rotation rate) columns: record the "
                "accelerometer and the gyroscope in one experiment (e.g. a phyphox "
                "experiment with both sensors); the models need both",
                self.path,
            )
        gyro = FollowingSeries(files.xyz_blocks(gyro_set.key, _three_axis_parser(gyro_set.names)))
        acc = files.xyz_blocks(acc_set.key, _three_axis_parser(acc_set.names))
        acc_unit = self.options.acc_unit or acc_set.unit
        gyro_unit = self.options.gyro_unit or gyro_set.unit
        scales = Scales(1.0, ACC_UNITS[acc_unit], GYRO_UNITS[gyro_unit], gravity_scale)
        yield from aligned_rows(files, acc, gyro, gravity, scales, Path(acc_set.key).name)


# --- telling exports apart -----------------------------------------------------------------


def export_kind(path: Path, nested: bool = True) -> str | None:
    """``"sensorlogger"`` or ``"phyphox"`` for a folder, zip or lone CSV those apps export;
    None for anything else (a plain CSV, a folder of recordings). ``nested=False``: a folder
    is an export only if it holds the export's files itself (not in a subfolder)."""
    try:
        if path.is_file() and path.suffix.lower() == ".csv":
            return (
                PHYPHOX
                if _first_line(path).strip().strip('"').lower().startswith(PHYPHOX_TIME)
                else None
            )
        if not (path.is_dir() or (path.is_file() and zipfile.is_zipfile(path))):
            return None
        files = ExportFiles(path, nested)
    except (DataError, OSError):
        return None
    keys = set(files.members)
    if any(
        k == "meta/device.csv" or k.endswith("/meta/device.csv") or k.endswith("meta/time.csv")
        for k in keys
    ):
        return PHYPHOX
    names = files.by_name()
    if "Metadata.csv" in names:
        return SENSOR_LOGGER
    for key in names.values():
        header = files.first_line(key).strip().lower()
        if header.startswith(SENSOR_LOGGER_HEADER):
            return SENSOR_LOGGER
        if header.strip('"').startswith(PHYPHOX_TIME):
            return PHYPHOX
    return None


def _first_line(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.readline(4096).decode("utf-8-sig", errors="replace")
