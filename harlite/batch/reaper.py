"""A watchdog that removes the processes a driver started once the driver is gone, however
it went (``kill -9`` included).

``harlite batch --engine ray`` without ``--address`` starts a local Ray cluster whose helper
processes (agents, workers) can outlive a driver killed without warning. :func:`watch`
starts ``python -m harlite.batch.reaper`` beside the driver: it notes the driver's descendants
every half second, and when the pipe from the driver closes (the driver exited or was
killed) it ends the noted processes that are still the same processes. It imports nothing
of harlite's, so that it is watching within a fraction of a second.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

#: Seconds between looks at the driver's descendants, and the grace before SIGKILL.
POLL_S = 0.5
GRACE_S = 2.0
READY_S = 10.0


def _parent_and_start(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a process, from /proc (None if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[1]), fields[19]


def descendants(root: int) -> dict[int, str]:
    """The processes below ``root``, with their start times (to tell a reused pid)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            info = _parent_and_start(int(entry.name))
            if info is not None:
                children.setdefault(info[0], []).append(int(entry.name))
                starts[int(entry.name)] = info[1]
    found: dict[int, str] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid not in found:
            found[pid] = starts[pid]
            todo += children.get(pid, [])
    return found


def _end(processes: dict[int, str]) -> None:
    """SIGTERM the noted processes that still exist, SIGKILL those left after a grace."""
    alive = {p: s for p, s in processes.items() if (_parent_and_start(p) or (0, ""))[1] == s}
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        alive = {p: s for p, s in alive.items() if (_parent_and_start(p) or (0, ""))[1] == s}
        if not alive:
            return
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def run(driver: int) -> None:
    """The watchdog's loop (in its own process): note, wait for the pipe to close, end."""
    me = os.getpid()
    since = int(_parent_and_start(me)[1])

    def started_since_me() -> dict[int, str]:
        """The driver's descendants started after this watchdog (the driver's older
        children are not the run's to end)."""
        return {p: s for p, s in descendants(driver).items() if p != me and int(s) >= since}

    noted: dict[int, str] = started_since_me()
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], POLL_S)
        if ready and not os.read(sys.stdin.fileno(), 1024):
            break  # the driver's end of the pipe closed: it is gone
        noted.update(started_since_me())
    noted.update(started_since_me())
    _end(noted)


def watch() -> subprocess.Popen | None:
    """Start the watchdog for this process (Linux only; None elsewhere). Keep the returned
    process: closing its stdin (or this process ending) makes it clean up."""
    if not Path("/proc/self/stat").exists():
        return None
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "harlite.batch.reaper", str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C to the driver's group does not reach it
    )
    ready, _, _ = select.select([watchdog.stdout], [], [], READY_S)  # watching from now on
    if ready:
        watchdog.stdout.readline()
    return watchdog


def release(watchdog: subprocess.Popen | None) -> None:
    """The driver is done: the watchdog ends what is left and exits."""
    if watchdog is not None and watchdog.stdin is not None:
        watchdog.stdin.close()
        try:
            watchdog.wait(timeout=GRACE_S + 5)
        except subprocess.TimeoutExpired:
            watchdog.kill()


if __name__ == "__main__":
    run(int(sys.argv[1]))
