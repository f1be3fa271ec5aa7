"""The live page in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by Selenium watches a replayed phone change activity, records from the page, and
shows a hostile device name as text. Its screenshot goes into the test's temporary folder;
``HARLITE_SCREENSHOT=benchmarks/results/serve_page.png`` (the picture in docs/serve.md) puts it
there instead.

Skipped, with the reason printed, only where the browser or its driver is not installed
(``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from harlite.serve.replay import sensor_logger_messages  # noqa: E402
from tests.runtime.test_push import demo_rows  # noqa: E402
from tests.serve_tools import ServerProcess, request  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">phone'


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, DRIVER) if not Path(p).exists()]
    if missing:
        reason = f"no {' or '.join(missing)}: apt-get install chromium chromium-driver"
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=DRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def play(server: ServerProcess, rows, speed: float, device: str, stop: threading.Event) -> None:
    """Push ``rows`` as Sensor Logger would, ``speed`` × real time."""
    started = time.monotonic()
    for end, body in sensor_logger_messages(rows, device=device):
        due = started + (end - rows[0, 0]) / speed
        while time.monotonic() < due:
            if stop.wait(0.02):
                return
        request(f"{server.url}/push", body)


def text_of(driver, css: str) -> str:
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def test_the_page_follows_a_phone_and_records_from_it(browser, tmp_path):
    rows = demo_rows()
    lying_then_walking = rows[(rows[:, 0] >= 160) & (rows[:, 0] < 250)]  # LAYING … WALKING
    folder = tmp_path / "recordings"
    stop = threading.Event()
    with ServerProcess("lstm", "--record-dir", str(folder)) as server:
        browser.get(f"{server.url}/")
        WebDriverWait(browser, 15).until(lambda d: text_of(d, "#connection") == "live")
        player = threading.Thread(
            target=play, args=(server, lying_then_walking, 6.0, "Pixel 8", stop)
        )
        player.start()
        try:
            label = ".panel .current-label"
            WebDriverWait(browser, 30).until(lambda d: text_of(d, label) == "LAYING")
            WebDriverWait(browser, 30).until(lambda d: text_of(d, label) == "WALKING")
            # record from the page: type a new activity, start, stop
            browser.find_element(By.CSS_SELECTOR, ".panel .record-label").send_keys("STROLLING")
            browser.find_element(By.CSS_SELECTOR, ".panel .record-subject").send_keys("7")
            browser.find_element(By.CSS_SELECTOR, ".panel .record-start").click()
            WebDriverWait(browser, 10).until(
                lambda d: "recording STROLLING" in text_of(d, ".panel .record-status")
            )
            time.sleep(2.0)
            browser.find_element(By.CSS_SELECTOR, ".panel .record-stop").click()
            WebDriverWait(browser, 10).until(
                lambda d: text_of(d, ".panel .record-status").startswith("saved STROLLING/s07_")
            )
            # a second phone whose name is markup is shown as text, and runs nothing
            body = next(sensor_logger_messages(rows[:100], device=HOSTILE_NAME))[1]
            request(f"{server.url}/push", body)
            WebDriverWait(browser, 10).until(
                lambda d: len(d.find_elements(By.CSS_SELECTOR, ".panel")) == 2
            )
            names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".panel .device")]
            assert HOSTILE_NAME in names
            assert browser.find_elements(By.CSS_SELECTOR, ".panel img") == []
            assert browser.execute_script("return window.__xss") is None
            time.sleep(1.0)
            screenshot = Path(os.environ.get("HARLITE_SCREENSHOT") or tmp_path / "page.png")
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size
        finally:
            stop.set()
            player.join(30)
    saved = list(folder.glob("STROLLING/s07_*.csv"))
    assert len(saved) == 1
    lines = saved[0].read_text().splitlines()
    assert lines[0] == "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" and len(lines) > 50
    assert "STROLLING" in (folder / "recordings.csv").read_text()
