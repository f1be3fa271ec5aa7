"""Safe extraction of downloaded zip archives."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from harlite.errors import DataError

#: Refuse archives that would unpack to more than this (zip bombs).
MAX_UNPACKED_BYTES = 8 << 30
MAX_MEMBERS = 200_000
#: Above this much unpacked data, an archive may expand at most MAX_RATIO times its packed
#: size (the UCI zips expand about 4×; a bomb of repeated bytes, a thousand times).
RATIO_CHECKED_ABOVE = 64 << 20
MAX_RATIO = 100
#: The longest name of one file or folder most file systems take.
MAX_NAME_BYTES = 255


def _member_path(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath | None:
    """The member's relative path, None for macOS metadata; DataError if it is unsafe."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise DataError(f"archive member has an absolute path: {info.filename!r}", archive)
    if ".." in path.parts:
        raise DataError(f"archive member escapes the folder ('..'): {info.filename!r}", archive)
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 where the zip records no Unix type
    if kind == stat.S_IFLNK:
        raise DataError(f"archive member is a symbolic link: {info.filename!r}", archive)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise DataError(f"archive member is not a plain file: {info.filename!r}", archive)
    if any(len(part.encode("utf-8")) > MAX_NAME_BYTES for part in path.parts):
        raise DataError(
            f"archive member has a name longer than {MAX_NAME_BYTES} bytes: "
            f"{info.filename[:60]!r}…",
            archive,
        )
    if path.parts and path.parts[0] == "__MACOSX":
        return None
    return path


def _check_plan(planned: list[tuple[zipfile.ZipInfo, PurePosixPath | None]], archive: Path):
    """No member twice, and no member that is a file where another needs a folder."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for info, path in planned:
        if path is None or not path.parts:
            continue
        if info.is_dir():
            folders.add(path)
        elif path in files:
            raise DataError(f"archive holds {info.filename!r} twice", archive)
        else:
            files.add(path)
        folders.update(path.parents)
    clash = sorted(files & folders)
    if clash:
        raise DataError(f"archive holds {str(clash[0])!r} as a file and as a folder", archive)


def _check_size(members: list[zipfile.ZipInfo], archive: Path) -> None:
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise DataError("archive would unpack to more than 8 GiB", archive)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > RATIO_CHECKED_ABOVE and unpacked / packed > MAX_RATIO:
        raise DataError(
            f"archive would unpack to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB: "
            f"a compression ratio of {unpacked / packed:,.0f} (limit {MAX_RATIO}; a zip bomb?)",
            archive,
        )


def safe_extract(archive: str | Path, dest: str | Path) -> list[Path]:
    """Extract a zip into ``dest``, refusing absolute paths, ``..``, links and zip bombs.

    Every member is checked before anything is written; CRCs are checked while extracting.
    Returns the extracted files.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise DataError(
                    f"archive has {len(members)} members (limit {MAX_MEMBERS})", archive
                )
            _check_size(members, archive)
            planned = [(m, _member_path(m, archive)) for m in members]
            _check_plan(planned, archive)
            written = []
            for info, path in planned:
                if path is None or not path.parts:
                    continue
                target = dest.joinpath(*path.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, target.open("wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
                written.append(target)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DataError(f"not a valid zip archive or corrupt: {error}", archive) from None
    except zipfile.LargeZipFile as error:
        raise DataError(str(error), archive) from None
    return written
