"""Download, verify and install the UCI data sets.

``install_dataset`` fetches the official zip (resuming a partial download, retrying with
back-off), or takes one the user already has (``source``), extracts it safely, checks that
it holds the expected layout, and only then moves it into place: an interrupted run leaves
the previous state, never a half-extracted data set.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harlite.atomic import atomic_dir, write_text_atomic
from harlite.errors import DataError, HarliteError
from harlite.folders import data_dir
from harlite.runtime.model.bundle import sha256_file
from harlite.train.archive import safe_extract
from harlite.train.datasets import HAPT, UCI_HAR, detect_layout


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set comes from and how to cite it."""

    name: str
    url: str
    layout: str
    citation: str


DATASETS: dict[str, DatasetSource] = {
    "hapt": DatasetSource(
        name="hapt",
        url="https://archive.ics.uci.edu/static/public/341/"
        "smartphone+based+recognition+of+human+activities+and+postural+transitions.zip",
        layout=HAPT,
        citation="Reyes-Ortiz, Oneto, Samà, Parra, Anguita. Transition-Aware Human Activity "
        "Recognition Using Smartphones. Neurocomputing, 2015.",
    ),
    "uci-har": DatasetSource(
        name="uci-har",
        url="https://archive.ics.uci.edu/static/public/240/"
        "human+activity+recognition+using+smartphones.zip",
        layout=UCI_HAR,
        citation="Anguita, Ghio, Oneto, Parra, Reyes-Ortiz. A Public Domain Dataset for Human "
        "Activity Recognition Using Smartphones. ESANN 2013.",
    ),
}

#: progress(bytes_done, bytes_total or None)
Progress = Callable[[int, int | None], None]


class DownloadError(HarliteError):
    """The download failed after every retry."""


def default_data_dir() -> Path:
    """Where data sets are installed: :func:`harlite.folders.data_dir`."""
    return data_dir()


def fetch(
    url: str,
    target: str | Path,
    *,
    timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 2.0,
    progress: Progress | None = None,
) -> Path:
    """Download ``url`` to ``target``, resuming from ``target.part`` after any failure.

    Each attempt asks the server for the bytes not yet received (HTTP Range); a server that
    ignores Range sends everything again. The file appears under ``target`` only complete.
    """
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            _fetch_once(url, part, timeout, progress)
            os.replace(part, target)
            return target
        except (urllib.error.URLError, http.client.HTTPException, OSError, DownloadError) as error:
            if (
                isinstance(error, urllib.error.HTTPError)
                and 400 <= error.code < 500
                and error.code not in (408, 416, 429)
            ):
                raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from None
            last_error = error
    raise DownloadError(f"{url}: failed after {retries + 1} attempts: {last_error}")


def _fetch_once(url: str, part: Path, timeout: float, progress: Progress | None) -> None:
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "harlite"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # nothing left to send: the part file is complete
            return
        raise
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        with part.open("ab" if have else "wb") as sink:
            while block := response.read(1 << 16):
                sink.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
    if total is not None and done != total:
        raise DownloadError(f"connection closed after {done} of {total} bytes")


def install_dataset(
    name: str,
    dest: str | Path | None = None,
    *,
    source: str | Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    **fetch_options: float,
) -> Path:
    """Install data set ``name`` (``hapt`` or ``uci-har``) under ``dest`` and return it.

    Args:
        dest: target folder (default: ``default_data_dir() / name``).
        source: an already downloaded zip or an extracted folder; nothing is downloaded.
        url: download from here instead of UCI.
        sha256: the zip's expected SHA-256; a mismatch is an error.
        force: replace an existing, valid installation.
    """
    if name not in DATASETS:
        raise HarliteError(f"unknown data set {name!r}: choose from {', '.join(DATASETS)}")
    spec = DATASETS[name]
    dest = Path(dest) if dest else default_data_dir() / name
    if not force and _holds_layout(dest, spec.layout):
        return dest

    if source is not None and Path(source).is_dir():
        if detect_layout(source) != spec.layout:
            raise DataError(f"does not hold the {name} data set", source)
        with atomic_dir(dest) as tmp:
            shutil.copytree(source, tmp, dirs_exist_ok=True)
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        archive = Path(source)
        if not archive.is_file():
            raise DataError("file not found", archive)
    else:
        # Downloaded first, outside the extraction folder: a download killed midway leaves
        # only its resumable .part file.
        downloads = dest.parent / ".harlite-downloads"
        archive = fetch(
            url or spec.url, downloads / f"{name}.zip", progress=progress, **fetch_options
        )
    _install_archive(archive, dest, name, url or spec.url, sha256)
    if source is None:
        archive.unlink(missing_ok=True)
    return dest


def _install_archive(archive: Path, dest: Path, name: str, url: str, sha256: str | None) -> None:
    """Check, extract and install a data set's zip atomically at ``dest``."""
    spec = DATASETS[name]
    with tempfile.TemporaryDirectory(prefix=".harlite-extract-", dir=dest.parent) as work:
        digest = sha256_file(archive)
        if sha256 and digest != sha256.lower():
            raise DataError(f"SHA-256 is {digest}, expected {sha256}", archive)
        staging = Path(work) / "extract"
        safe_extract(archive, staging)
        root = _unwrap(staging, spec.layout, archive)
        with atomic_dir(dest) as tmp:
            for child in root.iterdir():
                shutil.move(str(child), tmp / child.name)
            record = {
                "dataset": name,
                "url": url,
                "archive": archive.name,
                "sha256": digest,
                "citation": spec.citation,
            }
            write_text_atomic(tmp / "harlite-source.json", json.dumps(record, indent=2) + "\n")


def _unwrap(folder: Path, layout: str, archive: Path) -> Path:
    """Find the data set inside an extracted archive, opening one nested zip if need be.

    UCI's zips wrap the data: the UCI HAR zip holds ``UCI HAR Dataset.zip``.
    """
    for _ in range(2):
        try:
            if detect_layout(folder) == layout:
                return folder
        except DataError:
            pass
        children = [c for c in folder.iterdir() if c.name != "__MACOSX"]
        if len(children) == 1 and children[0].is_dir():
            folder = children[0]
            continue
        zips = [c for c in children if c.suffix.lower() == ".zip"]
        if len(zips) != 1:
            break
        inner = folder / (zips[0].stem + ".extracted")
        safe_extract(zips[0], inner)
        zips[0].unlink()
        folder = inner
    try:
        if detect_layout(folder) == layout:
            return folder
    except DataError:
        pass
    raise DataError(f"the archive does not hold the expected {layout} layout", archive)


def _holds_layout(folder: Path, layout: str) -> bool:
    try:
        return folder.is_dir() and detect_layout(folder) == layout
    except DataError:
        return False
