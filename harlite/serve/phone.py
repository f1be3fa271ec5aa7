"""The phone page at ``/phone/``: the server's bundle exported by ``harlite export web``.

The server does no conversion itself (it runs on the device, without the training tools):
on the first request for the page it runs ``harlite export web`` in a child process, in the
background (a server nobody opens the page of spends nothing on it), and keeps the page in
the user's cache folder under a key of the bundle's manifest, the page's and the C core's
sources and harlite's version, so the next start finds it at once. Where the export cannot
be made (no TensorFlow to read the weights, no clang for wasm32), ``/phone/`` says why, and
the rest of the server runs as ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import harlite
from harlite.atomic import atomic_dir
from harlite.folders import cache_dir

log = logging.getLogger("harlite.serve")

#: The conversion room (read as files, never imported from here).
CONVERT = Path(harlite.__file__).parent / "convert"
#: The page's sources.
WEB_SOURCES = CONVERT / "web"
#: What /phone/ serves, and the type of each.
FILES = {
    "index.html": "text/html",
    "harlite.js": "text/javascript",
    "harlite-model.js": "text/javascript",
    "phone.js": "text/javascript",
    "style.css": "text/css",
    "sw.js": "text/javascript",
    "harlite.wasm": "application/wasm",
    "harlite-phone.html": "text/html",
}
#: Files given as downloads, not pages of this origin (the one-file page runs inline
#: scripts, which this server's pages may not).
DOWNLOADS = ("harlite-phone.html", "harlite.wasm")
#: Seconds the export may take (about 15 here; a Raspberry Pi is slower).
BUILD_TIMEOUT_S = 900
#: Characters of the export's error kept for the page.
MAX_REASON = 2000


def page_key(bundle: Path) -> str:
    """The cache key of ``bundle``'s page: its manifest (which holds its files' hashes), the
    version, and what makes the page: its sources, the C core and the code that exports it
    (a working copy changes them without a new version)."""
    digest = hashlib.sha256(harlite.__version__.encode())
    makers = [*WEB_SOURCES.iterdir(), *(CONVERT / "c").iterdir(), *CONVERT.glob("*.py")]
    for path in [bundle / "manifest.json", *sorted(makers)]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:20]


def page_folder(bundle: Path) -> Path:
    """Where the page of ``bundle`` is kept: ``CACHE/phone/KEY``."""
    return cache_dir() / "phone" / page_key(bundle)


@dataclass
class PhonePage:
    """The page of one bundle: ``folder`` once built, else ``building`` or ``failure``."""

    bundle: Path
    folder: Path | None = None
    building: bool = False
    failure: str | None = None
    task: asyncio.Task | None = None

    def start_building(self) -> None:
        """Build the page in the background, once (a failure is kept until a restart; a
        page built that has left the cache since is built again)."""
        if self.task is None or (self.task.done() and self.failure is None):
            self.building = True
            self.task = asyncio.get_running_loop().create_task(build_page(self))

    def stop_building(self) -> None:
        """The server stops: a build in progress is ended (its child process killed)."""
        if self.task is not None:
            self.task.cancel()

    def find(self) -> bool:
        """Take the cached page if there is one."""
        folder = page_folder(self.bundle)
        if all((folder / name).is_file() for name in FILES):
            self.folder = folder
        return self.folder is not None

    async def build(self) -> None:
        """Export the page in a child process (``harlite export web``) into the cache; why
        not, in ``failure``, where that fails (kept: a failed build is not tried again)."""
        if self.find():
            return
        self.building = True
        try:
            await self._export(page_folder(self.bundle))
            self.find()
        except _ExportFailed as failed:
            self.failure = str(failed)
        except OSError as error:
            self.failure = f"the page could not be kept in {cache_dir()}: {error}"
        finally:
            self.building = False
        if self.failure:
            log.warning("the phone page is not available: %s", self.failure)

    async def _export(self, folder: Path) -> None:
        """``harlite export web`` into ``folder``, or :class:`_ExportFailed` saying why not."""
        with atomic_dir(folder) as work:
            bundle = str(self.bundle.resolve())  # never read as an option ("-x")
            command = [sys.executable, "-m", "harlite.cli", "export", "web", bundle,
                       "--out", str(work)]  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                stderr = await asyncio.wait_for(_tail(process), BUILD_TIMEOUT_S)
            except BaseException as stopped:  # the time is up, or the server stops
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
                if isinstance(stopped, asyncio.TimeoutError):
                    raise _ExportFailed(
                        f"harlite export web took over {BUILD_TIMEOUT_S} s"
                    ) from None
                raise
            if process.returncode != 0:
                text = stderr.decode("utf-8", "replace").strip()
                raise _ExportFailed(text[-MAX_REASON:] or f"exit status {process.returncode}")

    def status(self) -> str:
        """What /phone/ says while there is no page."""
        if self.building:
            return (
                "The phone page is being built (harlite export web, a minute or so): "
                "this page reloads itself."
            )
        if self.failure:
            return (
                f"The phone page could not be built: {self.failure} (restart the server "
                "once that is fixed, or export the page elsewhere: docs/phone-page.md)"
            )
        return "The phone page is not built yet."


class _ExportFailed(Exception):
    """The export ended with an error (its message is the export's own)."""


async def _tail(process: asyncio.subprocess.Process) -> bytes:
    """The end of a child's stderr (the last ``4 * MAX_REASON`` bytes: its error, however
    much it wrote before), once it has exited."""
    kept = b""
    while chunk := await process.stderr.read(1 << 16):
        kept = (kept + chunk)[-4 * MAX_REASON :]
    await process.wait()
    return kept


async def build_page(page: PhonePage) -> None:
    """:meth:`PhonePage.build`; anything unforeseen kept as the page's ``failure`` too (the
    page then says why instead of being "not built yet" for good)."""
    try:
        await page.build()
    except Exception as unexpected:
        page.building = False
        page.failure = f"{type(unexpected).__name__}: {unexpected}"
        log.warning("the phone page is not available: %s", page.failure)
