"""Recordings made from the live page, written as a recordings folder that ``harlite train
--data`` reads (docs/own-data.md): ``LABEL/[sNN_]STAMP_DEVICE.csv`` in the canonical format
(seconds, g, rad/s), listed with their metadata in ``recordings.csv``.

A recording is written to a temporary file beside its final name as the samples come, and
renamed into place when it stops (a crash leaves no half recording under a real name); the
index is rewritten atomically.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError

INDEX = "recordings.csv"
HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"
#: The index's columns: those training reads, then the recording's metadata.
INDEX_COLUMNS = (
    "file", "label", "subject", "placement", "device", "session", "platform",
    "started_utc", "duration_s", "samples", "rate_hz",
)  # fmt: skip
#: A label is a folder name: letters, digits, space, ``_ . -``, at most 40 characters.
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_. -]{0,39}$")
PLACEMENT_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")


class RecordingError(HarliteError):
    """A recording request that cannot be carried out (the reason is for the page)."""


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
        phone = hashlib.sha256(device.encode()).hexdigest()[:8]
        subject = f"s{request.subject:02d}_" if request.subject is not None else ""
        self.name = f"{request.label}/{subject}{stamp}_{phone}.csv"
        self.path = self.folder / self.name
        self.samples = 0
        self.first: float | None = None
        self.last: float | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
            )
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
        """Append rows (t [s], acc [g], gyro [rad/s]) as they were released."""
        if not len(rows):
            return
        buffer = io.StringIO()
        np.savetxt(buffer, rows, fmt=["%.6f"] + ["%.9g"] * 6, delimiter=",")
        self._handle.write(buffer.getvalue())
        if self.first is None:
            self.first = float(rows[0, 0])
        self.last = float(rows[-1, 0])
        self.samples += len(rows)

    def stop(self) -> SavedRecording:
        """Finish: the file renamed into place, its line added to the index."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if self.samples == 0:
            self._tmp.unlink(missing_ok=True)
            raise RecordingError("nothing was recorded (no samples came while recording)")
        os.replace(self._tmp, self.path)
        self._add_to_index()
        return SavedRecording(self.name, self.request.label, self.samples, self.duration_s)

    def abort(self) -> None:
        """Drop the recording (its temporary file removed)."""
        if not self._handle.closed:
            self._handle.close()
        self._tmp.unlink(missing_ok=True)

    def _add_to_index(self) -> None:
        index = self.folder / INDEX
        rows: list[dict[str, str]] = []
        columns = list(INDEX_COLUMNS)
        if index.is_file():
            with index.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                columns += [c for c in reader.fieldnames or [] if c not in columns]
                rows = list(reader)
        else:  # an index lists the whole data set: recordings already here stay in it
            rows = [
                {"file": path.relative_to(self.folder).as_posix(), "label": path.parent.name}
                for pattern in ("*/*.csv", "*/*.csv.gz", "*/*.zip")
                for path in sorted(self.folder.glob(pattern))
                if not path.name.startswith(".") and path != self.path
            ]
        rate = (self.samples - 1) / self.duration_s if self.duration_s > 0 else ""
        rows.append(
            {
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
                "rate_hz": f"{rate:.2f}" if rate != "" else "",
            }
        )
        text = io.StringIO()
        writer = csv.DictWriter(
            text, columns, restval="", extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(index, text.getvalue())
