"""Recordings made from the live page, written as a recordings folder that ``harlite train
--data`` reads (docs/own-data.md): ``LABEL/[sNN_]STAMP_DEVICE.csv`` in the canonical format
(seconds, g, rad/s), listed with their metadata in ``recordings.csv``.

A recording is written to a temporary file beside its final name as the samples come, and
renamed into place when it stops (a crash leaves no half recording under a real name); the
index is rewritten atomically. Every recording keeps its own file (a name already taken gets
``_2``, ``_3``…), and the name is chosen and the index rewritten under a lock on the folder,
so servers sharing a folder neither replace each other's files nor lose each other's rows.
The first index of a folder lists every recording the folder already held; a user's index
keeps its columns (matched by name as the reader matches them), its rows and their fields.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harlite.atomic import new_file_mode, write_text_atomic
from harlite.errors import DataError, HarliteError
from harlite.runtime.io.recordings_folder import (
    INDEX_FILE,
    RESERVED_NAMES,
    column_key,
    files_glob,
    subject_pattern,
    walk_recordings,
)

HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"
#: A label is a folder name: letters, digits, space, ``_ . -``, at most 40 characters.
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_. -]{0,39}$")
PLACEMENT_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")
#: Files of one recording name at most (``NAME.csv``, ``NAME_2.csv``…).
MAX_SAME_NAME = 1000
#: Seconds a stop waits for another server sharing the folder to finish its index update.
LOCK_WAIT_S = 5.0
#: What of a device's name goes into a recording's file name: its words (runs of letters and
#: digits), at most this many characters.
DEVICE_WORDS = re.compile(r"[A-Za-z0-9]+")
MAX_DEVICE_IN_NAME = 32
#: A name that starts like a subject number (``s3``, ``P30``, ``user-2``): the reader's
#: default subject pattern (``subject_pattern`` in docs/own-data.md) would take its digits
#: for the subject of a recording made without one.
LOOKS_LIKE_SUBJECT = re.compile(r"(?i)(?:s|u|p|user|subject|participant)-?[0-9]")


def device_file_name(device: str) -> str:
    """The device's name as a part of a file name: only ``[A-Za-z0-9-]``, at most
    :data:`MAX_DEVICE_IN_NAME` characters (``Galaxy S23`` → ``GalaxyS23``, ``Pixel 7`` →
    ``Pixel-7``, ``Zoë's phone`` → ``ZoesPhone``): accents dropped, words joined so that no
    separator comes before a letter, where a subject pattern would look for ``s07``; a name
    that starts like one gets ``phone`` before it, and one with no letter or digit is
    ``phone-`` and a hash of it."""
    plain = unicodedata.normalize("NFKD", device).encode("ascii", "ignore").decode("ascii")
    name = ""
    for word in DEVICE_WORDS.findall(plain.replace("'", "")):
        if not name:
            name = word
        elif word[0].isdigit():
            name += "-" + word
        else:
            name += word[0].upper() + word[1:]
    if LOOKS_LIKE_SUBJECT.match(name):
        name = "phone" + name
    if name:
        return name[:MAX_DEVICE_IN_NAME].rstrip("-")
    return "phone-" + hashlib.sha256(device.encode("utf-8", "surrogatepass")).hexdigest()[:8]


class RecordingError(HarliteError):
    """A recording request that cannot be carried out (the reason is for the page)."""


class RecordingLost(RecordingError):
    """A recording that could not be written or saved (disk full, folder gone…)."""


@dataclass(frozen=True)
class RecordingRequest:
    """What the page asks to record: the label, and optionally subject and placement."""

    label: str
    subject: int | None = None
    placement: str | None = None

    @classmethod
    def from_json(cls, data: object) -> RecordingRequest:
        """Check the page's request body (``{"label": …, "subject": …, "placement": …}``)."""
        if not isinstance(data, dict):
            raise RecordingError("the request must be a JSON object")
        label = data.get("label")
        if not isinstance(label, str) or not LABEL_PATTERN.match(label.strip()):
            raise RecordingError(
                "label: 1 to 40 letters, digits, spaces, '_', '.' or '-', starting with a "
                "letter or digit"
            )
        if label.strip().lower() in RESERVED_NAMES:
            raise RecordingError(
                f"label: {label.strip()!r} is the name of the recordings folder's own file "
                f"({', '.join(RESERVED_NAMES)}); choose another"
            )
        subject = data.get("subject")
        if subject in (None, ""):
            subject = None
        elif isinstance(subject, str) and subject.strip().isdigit():
            subject = int(subject.strip())
        if subject is not None and (
            isinstance(subject, bool) or not isinstance(subject, int) or not 0 <= subject < 10000
        ):
            raise RecordingError("subject: a whole number from 0 to 9999, or empty")
        placement = data.get("placement") or None
        if placement is not None and (
            not isinstance(placement, str) or not PLACEMENT_PATTERN.match(placement)
        ):
            raise RecordingError("placement: a lower-case word such as waist, pocket or hand")
        return cls(label.strip(), subject, placement)


@dataclass(frozen=True)
class SavedRecording:
    """A finished recording: where it is (relative to the folder) and what it holds."""

    file: str
    label: str
    samples: int
    duration_s: float

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "label": self.label,
            "samples": self.samples,
            "duration_s": round(self.duration_s, 3),
        }


class Recorder:
    """One recording in progress: samples appended as the session releases them.

    Args:
        folder: the recordings folder (made if needed).
        request: label, subject, placement.
        device, session, platform: the phone's ids and platform, kept in the index.
        max_s: the longest recording; :meth:`full` says when it is reached.

    Raises :class:`RecordingError` when the folder cannot be written or its index read.
    """

    def __init__(
        self,
        folder: Path,
        request: RecordingRequest,
        *,
        device: str,
        session: str,
        platform: str,
        max_s: float,
    ) -> None:
        self.folder = Path(folder)
        self.request = request
        self.device, self.session, self.platform = device, session, platform
        self.max_s = max_s
        self.started = datetime.now(timezone.utc)
        stamp = self.started.strftime("%Y%m%dT%H%M%SZ")
        phone = device_file_name(device)
        subject = f"s{request.subject:02d}_" if request.subject is not None else ""
        #: the file's name as planned (another recording may take it first: see stop)
        self.name = f"{request.label}/{subject}{stamp}_{phone}.csv"
        self.path = self.folder / self.name
        self.samples = 0
        self.first: float | None = None
        self.last: float | None = None
        try:  # a new folder is made (the reader refuses a missing one)
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise RecordingError(f"cannot make {self.folder}: {error.strerror or error}") from None
        # an index it could not add to, or a first index it could not write, refuses at once
        index = IndexTable.read(self.folder) or IndexTable.of_files(self.folder)
        check_label(self.folder, request.label, index)
        check_subject(self.folder, request.subject, index)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
            )
            os.chmod(tmp, new_file_mode())  # as the index and any file the user makes
        except OSError as error:
            raise RecordingError(
                f"cannot write into {self.path.parent}: {error.strerror or error}"
            ) from None
        self._tmp = Path(tmp)
        self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._handle.write(HEADER + "\n")

    @property
    def duration_s(self) -> float:
        return 0.0 if self.first is None else self.last - self.first

    @property
    def full(self) -> bool:
        """The recording has reached ``max_s``."""
        return self.duration_s >= self.max_s

    def add(self, rows: np.ndarray) -> None:
        """Append rows (t [s], acc [g], gyro [rad/s]) as they were released.

        Raises :class:`RecordingLost` when they cannot be written (the recording is over;
        what was written stays in its temporary file, named in the reason)."""
        if not len(rows):
            return
        buffer = io.StringIO()
        np.savetxt(buffer, rows, fmt=["%.6f"] + ["%.9g"] * 6, delimiter=",")
        try:
            self._handle.write(buffer.getvalue())
        except OSError as error:
            self._close_quietly()
            raise RecordingLost(self._lost("cannot be written", error)) from None
        if self.first is None:
            self.first = float(rows[0, 0])
        self.last = float(rows[-1, 0])
        self.samples += len(rows)

    def stop(self) -> SavedRecording:
        """Finish: the file renamed into place under a name no other recording has, its line
        added to the index.

        Raises :class:`RecordingLost` when it cannot be saved or indexed, and
        :class:`RecordingError` when nothing was recorded."""
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as error:
            self._close_quietly()
            raise RecordingLost(self._lost("could not be saved", error)) from None
        if self.samples == 0:
            self._tmp.unlink(missing_ok=True)
            raise RecordingError("nothing was recorded (no samples came while recording)")
        try:
            with folder_lock(self.folder):
                index = IndexTable.read(self.folder) or IndexTable.of_files(self.folder)
                self.name = self._free_name(index.files())
                self.path = self.folder / self.name
                os.replace(self._tmp, self.path)
                index.append(self._index_row())
                write_text_atomic(self.folder / INDEX_FILE, index.text())
        except (OSError, RecordingError) as error:
            saved = self.path.is_file() and not self._tmp.exists()
            what = f"saved but not added to {INDEX_FILE}" if saved else "could not be saved"
            raise RecordingLost(self._lost(what, error)) from None
        return SavedRecording(self.name, self.request.label, self.samples, self.duration_s)

    def abort(self) -> None:
        """Drop the recording (its temporary file removed)."""
        self._close_quietly()
        self._tmp.unlink(missing_ok=True)

    def _close_quietly(self) -> None:
        with contextlib.suppress(OSError):  # the failure that brought us here is reported
            self._handle.close()

    def _lost(self, what: str, error: Exception) -> str:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        kept = f" (what was recorded is in {self._tmp})" if self._tmp.exists() else ""
        return f"recording {self.name} {what}: {reason}{kept}"

    def _free_name(self, taken: set[str]) -> str:
        stem = self.name.removesuffix(".csv")
        for number in range(1, MAX_SAME_NAME + 1):
            name = self.name if number == 1 else f"{stem}_{number}.csv"
            if name not in taken and not (self.folder / name).exists():
                return name
        raise RecordingError(f"{MAX_SAME_NAME} recordings are named {self.name} already")

    def _index_row(self) -> dict[str, str]:
        rate = (self.samples - 1) / self.duration_s if self.duration_s > 0 else None
        return {
            "file": self.name,
            "label": self.request.label,
            "subject": "" if self.request.subject is None else str(self.request.subject),
            "placement": self.request.placement or "",
            "device": self.device,
            "session": self.session,
            "platform": self.platform,
            "started_utc": self.started.isoformat(timespec="seconds"),
            "duration_s": f"{self.duration_s:.3f}",
            "samples": str(self.samples),
            "rate_hz": "" if rate is None else f"{rate:.2f}",
        }


def check_label(folder: Path, label: str, index: IndexTable) -> None:
    """Refuse (:class:`RecordingError`) a label the folder's reader would misread: one its
    subject pattern takes for a subject (``s01``: the reader would give the recordings of
    that label folder a subject, and refuse a folder where others have none), or one that
    differs only in case from a label the folder has (on a case-insensitive disk both would
    share one folder, as two classes)."""
    try:
        pattern = re.compile(subject_pattern(folder))
    except (re.error, DataError) as error:
        raise RecordingError(f"the recordings folder's subject_pattern: {error}") from None
    if (found := pattern.search(f"{label}/")) is not None:
        raise RecordingError(
            f"label: {label!r} reads as subject {found.group(1 if pattern.groups else 0)} to "
            "the data set's reader "
            f"(its subject pattern matches {found.group(0).strip(' /_-.')!r}); choose a label "
            "that does not, and give the subject in the subject field"
        )
    column = index.column("label")
    known = {row[column] for row in index.rows if column is not None and column < len(row)}
    with contextlib.suppress(OSError):
        known |= {entry.name for entry in os.scandir(folder) if entry.is_dir()}
    twins = sorted(name for name in known if name.casefold() == label.casefold() != name)
    if label not in known and twins:
        raise RecordingError(
            f"label: {label!r} differs only in case from {twins[0]!r}, which this folder has "
            f"(the two would share one folder on some disks); use {twins[0]!r}"
        )


def check_subject(folder: Path, subject: int | None, index: IndexTable) -> None:
    """Refuse (:class:`RecordingError`) a subject given or left out unlike the folder's other
    recordings: the reader takes a subject for every recording or for none, and refuses the
    whole folder otherwise (``harlite data info`` and ``train`` would fail on it). A row has
    a subject where its ``subject`` field is not empty or the subject pattern finds one in
    its file's path. A folder already mixed refuses nothing more."""
    pattern = re.compile(subject_pattern(folder))  # check_label found it compiles
    file_at, subject_at = index.column("file"), index.column("subject")
    having: list[str] = []
    lacking: list[str] = []
    for row in index.rows:
        name = row[file_at].strip() if file_at is not None and file_at < len(row) else ""
        given = row[subject_at].strip() if subject_at is not None and subject_at < len(row) else ""
        (having if given or pattern.search(name) else lacking).append(name)
    rule = "harlite train takes a subject for every recording or for none"
    if subject is None and having and not lacking:
        raise RecordingError(
            f"subject: the folder's other recordings have one ({having[0]}: {rule}); give "
            "this recording's subject"
        )
    if subject is not None and lacking and not having:
        raise RecordingError(
            f"subject: the folder's other recordings have none ({lacking[0]}: {rule}); leave "
            f"it empty, or first give theirs in {INDEX_FILE}"
        )


@contextlib.contextmanager
def folder_lock(folder: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold the lock on ``folder`` (on the folder itself: no file is added) while a recording
    takes its name and the index is rewritten; another process holding it ``wait_s`` without
    rewriting the index is an error. (A server saving many recordings at shutdown takes and
    frees the lock for each: the wait is renewed whenever the index changed, or a busy
    machine would let this polling wait starve and lose a recording.)"""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + wait_s
        seen = _index_stamp(folder)
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if (now := _index_stamp(folder)) != seen:  # the holder is getting on
                    seen, deadline = now, time.monotonic() + wait_s
                elif time.monotonic() > deadline:
                    raise RecordingError(
                        f"another program has held {folder} locked for {wait_s:g} s"
                    ) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _index_stamp(folder: Path) -> tuple[int, int, int] | None:
    """What changes when the folder's index is rewritten (it is replaced: a new inode)."""
    try:
        found = os.stat(folder / INDEX_FILE)
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


@dataclass
class IndexTable:
    """The index as written: the user's header spelling, rows and fields kept as they are;
    columns are found by name as the reader finds them (:func:`column_key`)."""

    header: list[str]
    rows: list[list[str]]

    @classmethod
    def read(cls, folder: Path) -> IndexTable | None:
        """The folder's index, None where it has none (or an empty one); one that cannot be
        read or has no ``file`` column raises :class:`RecordingError`."""
        path = folder / INDEX_FILE
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise RecordingError(f"cannot read {path}: {error}") from None
        try:
            rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(row)]
        except csv.Error as error:
            raise RecordingError(f"cannot read {path}: {error}") from None
        if not rows:
            return None
        table = cls(rows[0], rows[1:])
        if table.column("file") is None:
            raise RecordingError(f"{path} has no 'file' column: recordings cannot be added")
        return table

    @classmethod
    def of_files(cls, folder: Path) -> IndexTable:
        """A first index: every recording the folder holds (those its settings' ``files``
        glob chooses), labelled by its folder: what the reader takes from a folder without an
        index. Settings it cannot read, or a link the reader refuses, raise
        :class:`RecordingError` (an index would hide what the reader reports)."""
        try:
            walk = walk_recordings(folder, pattern=files_glob(folder))
        except DataError as error:
            raise RecordingError(f"cannot read the folder's settings: {error}") from None
        if walk.refused:
            path, reason = walk.refused[0]
            raise RecordingError(f"{path}: {reason} (harlite data info refuses the folder)")
        rows = []
        for path in walk.files:
            label = path.parent.name if path.parent != folder else ""
            rows.append([path.relative_to(folder).as_posix(), label])
        return cls(["file", "label"], rows)

    def column(self, key: str) -> int | None:
        """The position of the column named ``key`` (the first, where named twice)."""
        keys = [column_key(name) for name in self.header]
        return keys.index(key) if key in keys else None

    def files(self) -> set[str]:
        """The file names the index lists."""
        at = self.column("file")
        return {row[at].strip() for row in self.rows if at < len(row)}

    def append(self, values: dict[str, str]) -> None:
        """Add a row; columns the index lacks are added (existing rows get empty fields;
        a row with more fields than the header is kept as it is)."""
        width = len(self.header)
        self.header += [key for key in values if self.column(key) is None]
        self.rows = [row + [""] * (len(self.header) - len(row)) if len(row) <= width else row
                     for row in self.rows]  # fmt: skip
        row = [""] * len(self.header)
        for key, value in values.items():
            row[self.column(key)] = value
        self.rows.append(row)

    def text(self) -> str:
        """The index as CSV text."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return out.getvalue()
