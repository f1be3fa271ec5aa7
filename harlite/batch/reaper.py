"""A watchdog that removes the processes a driver started once the driver is gone, however
it went (``kill -9`` included).

``harlite batch --engine ray`` without ``--address`` starts a local Ray cluster whose helper
processes (agents, workers) can outlive a driver killed without warning. :func:`watch`
starts ``python -m harlite.batch.reaper`` beside the driver: it notes the driver's descendants
every half second (psutil, from the ``ray`` extra), and when the pipe from the driver closes
(the driver exited or was killed) it ends the noted processes that are still the same
processes. It imports nothing of harlite's, so that it is watching within a fraction of a
second.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys

#: Seconds between looks at the driver's descendants, and the grace before SIGKILL.
POLL_S = 0.5
GRACE_S = 2.0
READY_S = 10.0


def descendants(root: int) -> dict[int, float]:
    """The processes below ``root``, with their creation times (to tell a reused pid)."""
    import psutil

    try:
        children = psutil.Process(root).children(recursive=True)
    except psutil.Error:
        return {}
    found = {}
    for child in children:
        try:
            found[child.pid] = child.create_time()
        except psutil.Error:  # it ended meanwhile
            continue
    return found


def _still_the_same(processes: dict[int, float]) -> list:
    """The noted processes that exist and are still the ones noted (a pid may be reused)."""
    import psutil

    alive = []
    for pid, created in processes.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == created:
                alive.append(process)
        except psutil.Error:
            continue
    return alive


def _end(processes: dict[int, float]) -> None:
    """SIGTERM the noted processes that still exist, SIGKILL those left after a grace."""
    import psutil

    alive = _still_the_same(processes)
    for process in alive:
        try:
            process.terminate()
        except psutil.Error:
            continue
    _, left = psutil.wait_procs(alive, timeout=GRACE_S)
    for process in left:
        try:
            process.kill()
        except psutil.Error:
            continue


def run(driver: int) -> None:
    """The watchdog's loop (in its own process): note, wait for the pipe to close, end."""
    import psutil

    me = os.getpid()
    since = psutil.Process(me).create_time()

    def started_since_me() -> dict[int, float]:
        """The driver's descendants started after this watchdog (the driver's older
        children are not the run's to end)."""
        return {p: t for p, t in descendants(driver).items() if p != me and t >= since}

    noted: dict[int, float] = started_since_me()
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], POLL_S)
        if ready and not os.read(sys.stdin.fileno(), 1024):
            break  # the driver's end of the pipe closed: it is gone
        noted.update(started_since_me())
    noted.update(started_since_me())
    _end(noted)


def watch() -> subprocess.Popen | None:
    """Start the watchdog for this process (None where it cannot run: not POSIX, or no
    psutil). Keep the returned process: closing its stdin (or this process ending) makes it
    clean up."""
    try:
        import psutil  # noqa: F401  the watchdog needs it (the ``ray`` extra has it)
    except ImportError:
        return None
    if os.name != "posix":  # select() on pipes
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
