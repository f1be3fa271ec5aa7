"""harlite.batch.reaper: processes a driver started end with it, even after kill -9
(Linux; needs psutil, the ``ray`` extra's)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from harlite.batch.reaper import descendants

pytest.importorskip("psutil", reason="the reaper needs psutil (pip install 'harlite[ray]')")

pytestmark = [
    pytest.mark.runtime,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)"),
]

DRIVER = """
import subprocess, sys, time
from harlite.batch import reaper
watchdog = reaper.watch()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except OSError:
        return False
    return state != "Z"


def test_descendants_are_found_with_their_start_times():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import os

        found = descendants(os.getpid())
        assert child.pid in found and found[child.pid] > 0  # its creation time
    finally:
        child.kill()
        child.wait()


def test_a_killed_drivers_children_are_ended():
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True)
    child = int(driver.stdout.readline())
    time.sleep(1.5)  # the watchdog notes the child
    assert alive(child)
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 15
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child)
