"""`harlite export web`: the phone page, in headless Chromium, gives `harlite stream`'s windows.

The page (the C core built to WebAssembly) is fed real recordings through
``window.harlite.push``, and as synthetic ``devicemotion`` events in the units and sign of
Android's Chrome and of iOS's Safari through the page's own sensor handler; every window must
have `harlite stream`'s boundaries, placement and label (the ONNX backend, the Keras model's
computation, as for the C port). Skipped, with the reason, without TensorFlow (the export
reads model.keras), the WebAssembly toolchain (clang, lld, wasi-libc) or the browser.
"""

from __future__ import annotations

import gzip
import http.server
import importlib.util
import json
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from harlite.errors import HarliteError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
#: |Δp| allowed against the ONNX backend (the browser computes in float32 like the C port).
FLOAT_TOLERANCE = 1e-4


def _web_port():
    spec = importlib.util.spec_from_file_location("web_port", REPO / "tools" / "web_port.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


web_port = _web_port()


@pytest.fixture(scope="module")
def page(lstm_phone_page) -> Path:
    return lstm_phone_page


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    why = web_port.missing_browser()
    if why:
        pytest.skip(f"the page's browser: {why}")
    with web_port.browser(tmp_path_factory.mktemp("profile")) as d:
        yield d


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    path.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return path


def stream_windows(csv: Path) -> list[dict]:
    """`harlite stream`'s windows (StreamClassifier, the ONNX backend)."""
    pytest.importorskip("onnxruntime")
    from harlite.runtime.stream import StreamClassifier

    rows = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7))
    classifier = StreamClassifier(REPO / "harlite" / "models" / "lstm", backend="onnxruntime")
    predictions = classifier.push(rows) + classifier.flush()
    return [p.to_dict(classifier.labels) for p in predictions]


def page_windows(driver, page: Path, csv: Path, via: str, name: str = "index.html"):
    web_port.open_page(driver, (page / name).as_uri())
    return web_port.stream(driver, web_port.read_rows(csv), via)


def assert_same_windows(python: list[dict], web: list[dict]) -> None:
    assert len(web) == len(python) > 0
    for a, b in zip(python, web, strict=True):
        assert abs(a["start_time"] - b["start_time"]) < 2e-6, (a, b)
        assert abs(a["end_time"] - b["end_time"]) < 2e-6, (a, b)
        assert a.get("placement") == b.get("placement"), (a, b)
        assert a["label"] == b["label"], (a, b)
        diff = max(abs(a["probabilities"][k] - b["probabilities"][k]) for k in a["probabilities"])
        assert diff <= FLOAT_TOLERANCE, (a, b)


@pytest.mark.parametrize("kind", ["web", "c"])
def test_out_inside_the_bundle_is_refused_before_anything_is_written(kind, tmp_path):
    from harlite.convert.export_c import export_c
    from harlite.convert.export_web import export_web

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    export = export_web if kind == "web" else export_c
    for out in (bundle, bundle / "page"):
        with pytest.raises(HarliteError, match="is inside the bundle"):
            export(bundle, out)
    assert list(bundle.iterdir()) == []


@pytest.mark.parametrize("via", ["push", "android", "ios"])
def test_demo_recording_through_the_page(page, driver, demo_csv, via):
    assert_same_windows(stream_windows(demo_csv), page_windows(driver, page, demo_csv, via))


@pytest.mark.shared_data
@pytest.mark.parametrize("via", ["push", "ios"])
def test_pocket_recording_at_its_own_rate(page, driver, shared_difronzo, via):
    """A Galaxy S8 in a trouser pocket at 45–47 Hz: resampled, the pocket placement."""
    csv = shared_difronzo / "exp01_user01.csv"
    assert_same_windows(stream_windows(csv), page_windows(driver, page, csv, via))


def test_the_one_file_page_classifies_too(page, driver, demo_csv, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text("\n".join(demo_csv.read_text().splitlines()[:1500]) + "\n")
    web = page_windows(driver, page, short, "push", "harlite-phone.html")
    assert_same_windows(stream_windows(short), web)


@contextmanager
def served(folder: Path):
    """``folder`` over HTTP on loopback (a thread; stopped on leaving)."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_the_page_loads_only_its_own_files_and_works_offline(page, driver, demo_csv):
    with served(page) as origin:
        web_port.open_page(driver, f"{origin}/index.html")
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name)"
        )
    assert loaded and all(url.startswith(f"{origin}/") for url in loaded), loaded
    imports = driver.execute_script(
        "return WebAssembly.Module.imports(new WebAssembly.Module(Uint8Array.from("
        "atob(window.HARLITE_WASM), (c) => c.charCodeAt(0)))).length"
    )
    assert imports == 0
    # the server is gone: the page still classifies
    rows = web_port.read_rows(demo_csv)[:1000]
    assert len(web_port.stream(driver, rows, "push")) > 0


def test_a_sample_completing_no_window_returns_null(page, driver):
    web_port.open_page(driver, (page / "index.html").as_uri())
    first = driver.execute_script("return harlite.push(0, 0, 0, 1, 0, 0, 0)")
    bad = driver.execute_script("return [harlite.push(0.02, NaN, 0, 1, 0, 0, 0), harlite.stats()]")
    assert first is None and bad[0] is None
    assert bad[1]["accepted"] == 1 and bad[1]["refused_values"] == 1


def test_missing_toolchain_names_the_packages(monkeypatch):
    from harlite.convert import export_web

    monkeypatch.setattr(export_web.shutil, "which", lambda name: None)
    with pytest.raises(HarliteError, match="apt-get install clang lld wasi-libc"):
        export_web.wasm_toolchain()


def test_the_cli_says_what_is_missing(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from harlite.cli import cli
    from harlite.convert import export_web

    monkeypatch.setattr(export_web.shutil, "which", lambda name: None)
    result = CliRunner().invoke(cli, ["export", "web", "lstm", "--out", str(tmp_path / "o")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "apt-get install clang lld wasi-libc" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.skipif(shutil.which("clang") is None, reason="no clang here")
def test_a_compile_error_is_reported_with_clang_s_words(tmp_path):
    from harlite.convert.export_web import build_wasm, wasm_toolchain

    try:
        clang = wasm_toolchain()
    except HarliteError as missing:
        pytest.skip(str(missing))
    for name in ("harlite_web.c", "harlite.c", "harlite_ops.c", "harlite_model.c"):
        (tmp_path / name).write_text("this is not C;\n")
    with pytest.raises(HarliteError, match="could not build the WebAssembly module"):
        build_wasm(clang, tmp_path)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))


def test_recording_downloads_a_csv_the_recordings_folder_reader_takes(
    page, driver, demo_csv, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    folder = tmp_path / "recordings"
    folder.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    web_port.open_page(driver, (page / "index.html").as_uri())
    rows = web_port.read_rows(demo_csv)
    find = lambda name: driver.find_element(By.ID, name)  # noqa: E731
    for label, start, end in (("WALKING", 9000, 10000), ("STANDING", 2000, 3000)):
        find("record-label").clear()
        find("record-label").send_keys(label)
        find("record-start").click()
        web_port.stream(driver, rows[start:end], "android")
        find("record-stop").click()
    find("record-subject").send_keys("7")
    find("record-save").click()
    WebDriverWait(driver, 10).until(lambda d: list(folder.glob("s07_*_phone.csv")))
    saved = next(folder.glob("s07_*_phone.csv"))
    WebDriverWait(driver, 10).until(lambda d: saved.read_text().endswith("\n"))
    lines = saved.read_text().splitlines()
    assert lines[0] == "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label"
    assert len(lines) == 1 + 2000  # every sample of both recordings, once
    first = lines[1].split(",")
    assert first[-1] == "WALKING" and [float(v) for v in first[1:7]] == pytest.approx(
        rows[9000][1:], rel=1e-6, abs=1e-9
    )
    assert lines[-1].endswith(",STANDING")
    done = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "data", "info", str(folder), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info = json.loads(done.stdout)
    text = json.dumps(info)
    assert "WALKING" in text and "STANDING" in text, text[:2000]


def test_ios_motion_access_is_asked_from_the_tap(page, driver):
    """Safari's DeviceMotionEvent.requestPermission (stood in for here): a refusal is said,
    and an allowance starts the sensors."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    web_port.open_page(driver, (page / "index.html").as_uri())
    driver.execute_script(
        "window.__asked = 0; window.__answer = 'denied';"
        "DeviceMotionEvent.requestPermission = () => {"
        " window.__asked++; return Promise.resolve(window.__answer); };"
    )
    status = lambda d: d.find_element(By.ID, "sensor-status").text  # noqa: E731
    driver.find_element(By.ID, "start").click()
    WebDriverWait(driver, 5).until(lambda d: "motion access was denied" in status(d))
    assert driver.find_element(By.ID, "start").is_enabled()
    driver.execute_script("window.__answer = 'granted'")
    driver.find_element(By.ID, "start").click()
    WebDriverWait(driver, 5).until(lambda d: status(d) == "listening…")
    assert driver.execute_script("return window.__asked") == 2
    assert not driver.find_element(By.ID, "start").is_enabled()


def test_sending_from_another_origin_is_explained_not_tried(page, driver):
    """A harlite serve refuses pushes from other sites' pages: the page says where to open
    it instead of failing every second."""
    from selenium.webdriver.common.by import By

    web_port.open_page(driver, (page / "index.html").as_uri())
    driver.find_element(By.ID, "push-url").send_keys("http://127.0.0.1:9")
    driver.find_element(By.ID, "push-start").click()
    status = driver.find_element(By.ID, "push-status").text
    assert "only from its own page" in status and "http://127.0.0.1:9/phone/" in status
    assert driver.find_element(By.ID, "push-start").is_enabled()
