#!/usr/bin/env python3
"""The phone page of ``harlite export web`` in headless Chromium, fed a recording.

    python tools/web_port.py PAGE_DIR CSV [--via push|android|ios]
    python tools/web_port.py --check     # can it run here? (exit 3 and why: no)

Prints one JSON line per window, as ``harlite stream`` and the C stream program do. The
samples (a canonical CSV: t, acc_x..gyro_z in seconds, g, rad/s) go in through
``window.harlite.push`` (``--via push``), or as synthetic ``devicemotion`` events in the
units and sign Android's Chrome (``android``) or iOS's Safari (``ios``) reports, through the
page's own sensor handler (the page's sign set to match). Needs Debian's chromium and
chromium-driver and the selenium package (tools/check-ports.sh and the tests use it).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

COLUMNS = ("t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
VIA = ("push", "android", "ios")
#: Samples handed to the page per script call.
CHUNK = 20000
G = 9.80665

# Every sample through window.harlite.push; the windows it returns (with `earlier`).
PUSH_SCRIPT = """
const rows = arguments[0], out = [];
for (const r of rows) {
  const p = window.harlite.push(r[0], r[1], r[2], r[3], r[4], r[5], r[6]);
  if (p) { out.push(...(p.earlier || []), p); }
}
return out.map((p) => { const q = Object.assign({}, p); delete q.earlier; return q; });
"""
# Every sample as the devicemotion event a phone's browser fires (m/s^2 with the
# convention's sign; deg/s, alpha/beta/gamma about z/x/y); the event's time is the sample's.
EVENT_SCRIPT = """
const rows = arguments[0], sign = arguments[1], G = arguments[2], DEG = 180 / Math.PI;
const out = window.__windows;
for (const r of rows) {
  const event = new DeviceMotionEvent("devicemotion", {
    accelerationIncludingGravity: {x: sign * r[1] * G, y: sign * r[2] * G, z: sign * r[3] * G},
    rotationRate: {alpha: r[6] * DEG, beta: r[4] * DEG, gamma: r[5] * DEG},
    interval: 20,
  });
  Object.defineProperty(event, "timeStamp", {value: r[0] * 1000});
  window.dispatchEvent(event);
}
return out.splice(0, out.length);
"""


def read_rows(path: Path) -> list[list[float]]:
    """The canonical columns of a CSV (gzip too), by header name."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        where = [header.index(name) for name in COLUMNS]
        return [[float(row[i]) for i in where] for row in reader if row]


def missing_browser() -> str | None:
    """Why the page cannot run here (None: it can)."""
    needed = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        needed.append("selenium (pip install selenium)")
    if needed:
        return f"needs {', '.join(needed)} (apt-get install chromium chromium-driver)"
    return None


@contextmanager
def browser(profile: Path, size: str = "390,844"):
    """Headless Chromium (Selenium), as tests/serve/test_serve_browser.py starts it."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--user-data-dir={profile}", f"--window-size={size}"):  # fmt: skip
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(300)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, url: str) -> None:
    """Load the page and wait for its model (an error names what the page said)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return !!(window.harlite && (harlite.loaded || harlite.error))")
    )
    error = driver.execute_script("return window.harlite.error")
    if error:
        raise RuntimeError(f"the page did not load its model: {error}")


def stream(driver, rows: list[list[float]], via: str = "push") -> list[dict]:
    """The windows the open page gives for ``rows``, fed ``via`` push or events."""
    if via != "push":
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element(By.ID, "convention")).select_by_value(via)
        driver.execute_script(
            "if (!window.__windows) {"
            " window.__windows = []; harlite.onWindow((p) => window.__windows.push(p)); }"
        )
        start = driver.find_element(By.ID, "start")
        if start.is_enabled():
            start.click()
    windows: list[dict] = []
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        if via == "push":
            windows += driver.execute_script(PUSH_SCRIPT, chunk)
        else:
            windows += driver.execute_script(EVENT_SCRIPT, chunk, -1 if via == "ios" else 1, G)
    return windows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", type=Path, nargs="?", help="a folder harlite export web wrote")
    parser.add_argument("csv", type=Path, nargs="?")
    parser.add_argument("--via", choices=VIA, default="push")
    parser.add_argument("--profile", type=Path, help="browser profile folder (default: temp)")
    parser.add_argument("--check", action="store_true", help="only say whether it can run here")
    args = parser.parse_args()
    why = missing_browser()
    if why or args.check:
        print(why or "ready", file=sys.stderr)
        return 3 if why else 0
    if args.page is None or args.csv is None:
        parser.error("PAGE and CSV are needed")
    import tempfile

    rows = read_rows(args.csv)
    with tempfile.TemporaryDirectory() as profile, browser(args.profile or Path(profile)) as d:
        open_page(d, (args.page.resolve() / "index.html").as_uri())
        for window in stream(d, rows, args.via):
            print(json.dumps(window))
    return 0


if __name__ == "__main__":
    sys.exit(main())
