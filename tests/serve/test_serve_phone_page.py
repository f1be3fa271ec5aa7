"""`harlite serve` gives the phone page at /phone/ and, with --tls, serves https with the
certificate it makes.

The page is built once per module by `harlite export web` into the cache folder the server
reads (so no test waits for the server's own build); one test lets the server build it in a
PATH without clang and checks that /phone/ says why while the rest of the server works. The
browser test opens /phone/ in headless Chromium at a phone's size, drives it with synthetic
devicemotion events, sends the samples to the server and takes the screenshot of
docs/phone-page.md (``HARLITE_SCREENSHOT=docs/phone-page.png``; else into the test's folder).
"""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="harlite serve needs the serve extra (aiohttp)")

from harlite.errors import HarliteError
from tests.serve_tools import ServerProcess, request

REPO = Path(__file__).resolve().parents[2]
LSTM = REPO / "harlite" / "models" / "lstm"
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
TOKEN = "phone-page-secret"


@pytest.fixture(scope="module")
def cache(tmp_path_factory, lstm_phone_page) -> Path:
    """A cache folder holding the lstm's phone page where the server looks for it."""
    from harlite.serve import phone

    folder = tmp_path_factory.mktemp("cache")
    saved = os.environ.get("HARLITE_CACHE_DIR")
    os.environ["HARLITE_CACHE_DIR"] = str(folder)
    try:
        shutil.copytree(lstm_phone_page, phone.page_folder(LSTM))
    finally:
        if saved is None:
            del os.environ["HARLITE_CACHE_DIR"]
        else:
            os.environ["HARLITE_CACHE_DIR"] = saved
    return folder


def get(url: str, headers: dict | None = None, context=None):
    """(status, headers, body bytes) of a GET, redirects not followed."""
    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    extra = {"context": context} if parts.scheme == "https" else {}
    connection = kind(parts.hostname, parts.port, timeout=10, **extra)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers=headers or {})  # fmt: skip
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def test_phone_page_and_its_files(cache, monkeypatch):
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(cache))
    with ServerProcess("lstm") as server:
        status, headers, _ = get(f"{server.url}/phone")
        assert status == 302 and headers["Location"] == "/phone/"
        status, headers, body = get(f"{server.url}/phone/")
        assert status == 200 and b'<script src="harlite.js">' in body
        assert "'wasm-unsafe-eval'" in headers["Content-Security-Policy"]
        assert "connect-src 'self'" in headers["Content-Security-Policy"]
        status, headers, body = get(f"{server.url}/phone/harlite.wasm")
        assert status == 200 and body[:4] == b"\0asm"
        assert headers["Content-Type"] == "application/wasm"
        assert headers["Content-Disposition"].startswith("attachment")
        status, headers, _ = get(f"{server.url}/phone/harlite-phone.html")
        assert status == 200 and headers["Content-Disposition"].startswith("attachment")
        assert get(f"{server.url}/phone/../manifest.json")[0] == 404
        assert get(f"{server.url}/phone/secret.txt")[0] == 404
        # without --tls there is no certificate to give
        assert get(f"{server.url}/harlite.crt")[0] == 404
    assert "Traceback" not in server.stderr


def test_phone_page_with_a_token(cache, monkeypatch):
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(cache))
    with ServerProcess("lstm", "--token", TOKEN) as server:
        assert get(f"{server.url}/phone/")[0] == 401
        status, headers, _ = get(f"{server.url}/phone?token={TOKEN}")
        assert status == 302 and headers["Location"] == f"/phone/?token={TOKEN}"
        status, headers, _ = get(f"{server.url}/phone/?token={TOKEN}")
        assert status == 200 and "harlite_token=" in headers["Set-Cookie"]
        cookie = headers["Set-Cookie"].split(";")[0]
        assert get(f"{server.url}/phone/phone.js", {"Cookie": cookie})[0] == 200


def test_without_clang_the_page_says_why_and_the_server_serves(tmp_path, monkeypatch):
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no clang (nor anything else)
    with ServerProcess("lstm") as server:
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "could not be built" not in text:
            status, _, body = get(f"{server.url}/phone/")
            text = body.decode()
            assert status == 503
            time.sleep(0.5)
        assert "could not be built" in text and "apt-get install clang lld wasi-libc" in text
        assert "Refresh" not in get(f"{server.url}/phone/")[1]  # no reloading a failure
        assert request(f"{server.url}/api/state")[0] == 200
    assert not list((tmp_path / "cache").glob("phone/*"))  # no half-built page kept


def test_a_page_gone_from_the_cache_is_built_again(cache, tmp_path, monkeypatch):
    """The cache cleared under a running server: a plain 503, then a new build (here
    without clang: it says why), never a 500."""
    folder = tmp_path / "cache"
    shutil.copytree(cache, folder)
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(folder))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # the new build fails at once
    with ServerProcess("lstm") as server:
        assert get(f"{server.url}/phone/")[0] == 200
        shutil.rmtree(folder / "phone")
        status, _, body = get(f"{server.url}/phone/phone.js")
        assert status == 503 and b"left the cache" in body
        deadline, text = time.monotonic() + 60, ""
        while time.monotonic() < deadline and "could not be built" not in text:
            status, _, reply = get(f"{server.url}/phone/")
            text = reply.decode()
            assert status == 503
            time.sleep(0.5)
        assert "apt-get install clang" in text
    assert "Traceback" not in server.stderr


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        # an export that writes megabytes before its error: the error is kept, not the flood
        ("head -c 3000000 /dev/zero | tr '\\0' x >&2; echo 'no clang here' >&2; exit 3",
         "no clang here"),
        ("exec sleep 30", "took over 0.5 s"),  # killed at the limit, and said so
    ],
)  # fmt: skip
def test_a_failed_page_build_says_why_once(tmp_path, monkeypatch, script, reason):
    import asyncio

    from harlite.serve import phone

    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path / "cache"))
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setattr(phone.sys, "executable", str(fake))
    monkeypatch.setattr(phone, "BUILD_TIMEOUT_S", 0.5)

    async def first_requests() -> phone.PhonePage:
        page = phone.PhonePage(LSTM)
        for _ in range(5):  # many first requests: one build
            page.start_building()
        task = page.task
        await task
        page.start_building()
        assert page.task is task  # the failure is kept, not tried again
        return page

    page = asyncio.run(asyncio.wait_for(first_requests(), 30))
    assert not page.building and page.folder is None
    assert reason in page.failure and len(page.failure) <= phone.MAX_REASON
    assert reason in page.status()
    assert not list((tmp_path / "cache").glob("phone/*"))  # nothing half-built kept


def test_tls_certificate_is_made_kept_and_trusted(tmp_path, monkeypatch):
    from harlite.serve.tls import fingerprint

    monkeypatch.setenv("HARLITE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path / "cache"))
    cert = tmp_path / "data" / "tls" / "harlite.crt"
    prints = []
    for attempt, token in (("made now", None), ("kept", TOKEN)):
        query = f"?token={token}" if token else ""
        with ServerProcess("lstm", "--tls", *(("--token", token) if token else ())) as server:
            assert server.url.startswith("https://")
            assert server.wait_for_line("SHA-256")
            assert f"certificate ({attempt}" in server.stderr
            context = ssl.create_default_context(cafile=str(cert))  # checks 127.0.0.1 in it
            url = f"{server.url}/api/state{query}"
            with urllib.request.urlopen(url, context=context) as reply:
                assert json.load(reply)["sessions"] == []
            if token:  # the token's cookie goes back over https only
                cookie = get(f"{server.url}/{query}", context=context)[1]["Set-Cookie"]
                assert "harlite_token=" in cookie and "Secure" in cookie
            status, headers, body = get(f"{server.url}/harlite.crt{query}", context=context)
            assert status == 200 and body == ssl.PEM_cert_to_DER_cert(cert.read_text())
            assert headers["Content-Type"] == "application/x-x509-ca-cert"
            with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
                get(server.url.replace("https://", "http://") + "/api/state")
        printed = fingerprint(cert.read_text())
        assert printed in server.stderr
        prints.append(printed)
    assert prints[0] == prints[1]
    assert stat.S_IMODE((cert.parent / "harlite.key").stat().st_mode) == 0o600


def test_a_silent_tls_connection_is_closed_at_the_client_timeout(tmp_path, monkeypatch):
    """A connection that never starts its TLS handshake is not yet one aiohttp sees: it is
    closed after --client-timeout, not asyncio's 60 s."""
    import socket

    monkeypatch.setenv("HARLITE_DATA_DIR", str(tmp_path / "data"))
    with ServerProcess("lstm", "--tls", "--client-timeout", "1") as server:
        parts = urllib.parse.urlsplit(server.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as silent:
            began = time.monotonic()
            assert silent.recv(1) == b""  # closed by the server
            assert time.monotonic() - began < 5


def test_phone_predictions_are_kept_and_compared(tmp_path):
    """The page's windows (/push/predictions) beside the server's own of the same samples:
    here the server's own, one label changed."""
    demo = _demo(tmp_path).read_text().splitlines()
    body = "\n".join(line.rsplit(",", 1)[0] for line in demo[:2000]).encode()
    query = "?device=page&session=s1"
    with ServerProcess("lstm") as server:
        csv = {"Content-Type": "text/csv"}
        assert request(f"{server.url}/push{query}", body, headers=csv)[0] == 200
        own = request(f"{server.url}/api/predictions")[1]["predictions"]
        assert len(own) > 10
        sent = [{k: p[k] for k in ("start_time", "end_time", "label", "confidence")} for p in own]
        sent[3]["label"] = next(x for x in ("SITTING", "WALKING") if x != sent[3]["label"])
        url = f"{server.url}/push/predictions{query}"
        status, answer, _ = request(url, json.dumps({"predictions": sent}).encode())
        assert status == 200 and answer["predictions"] == len(sent)
        phone = request(f"{server.url}/api/state")[1]["sessions"][0]["on_phone"]
        assert phone["windows"] == phone["compared"] == len(own)
        assert phone["agreeing"] == len(own) - 1
        assert phone["last"]["label"] == sent[-1]["label"]
        bad = {
            b"not json": "JSON object",
            b'{"predictions": 3}': '{"predictions": [...]}',
            json.dumps({"predictions": [{**sent[0], "label": "FLYING"}]}).encode():
                "predictions[0].label",
            json.dumps({"predictions": [sent[0], {**sent[0], "end_time": "x"}]}).encode():
                "predictions[1].end_time",
            b'{"predictions": [{"start_time": NaN}]}': "predictions[0].start_time",
            json.dumps({"predictions": [{**sent[0], "confidence": 10**400}]}).encode():
                "predictions[0].confidence",
            json.dumps({"predictions": [sent[0]] * 1001}).encode(): "at most 1000",
        }  # fmt: skip
        for payload, reason in bad.items():
            status, answer, _ = request(url, payload)
            assert status == 400 and reason in answer["error"], (payload[:60], answer)
        other = f"{server.url}/push/predictions?device=page&session=s2"
        assert request(other, b"not json")[0] == 400
        state = request(f"{server.url}/api/state")[1]
        assert len(state["sessions"]) == 1  # a refused body starts no session
        assert state["bad_request_reasons"]["bad phone predictions"] == len(bad) + 1
        assert state["sessions"][0]["on_phone"]["windows"] == len(own)  # nothing half-taken
    assert "Traceback" not in server.stderr


def test_a_new_address_makes_a_certificate_naming_both(tmp_path, monkeypatch):
    from harlite.serve import tls

    monkeypatch.setenv("HARLITE_DATA_DIR", str(tmp_path))
    first = tls.certificate(["192.168.1.20"])
    again = tls.certificate(["192.168.1.20"])
    moved = tls.certificate(["10.0.0.7"])
    assert first.made and not again.made and moved.made
    assert first.fingerprint == again.fingerprint != moved.fingerprint
    assert {"192.168.1.20", "10.0.0.7", "localhost"} <= set(moved.hosts)
    shown = subprocess.run(["openssl", "x509", "-in", str(moved.cert), "-noout", "-text"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    for name in ("IP Address:192.168.1.20", "IP Address:10.0.0.7", "DNS:localhost", "CA:TRUE"):
        assert name in shown


def test_a_damaged_kept_certificate_is_made_again(tmp_path, monkeypatch):
    """A kept pair that no longer loads (a key cut short, a certificate overwritten) is made
    again, not reported as "cannot listen" nor a traceback; the new key only its owner reads."""
    from harlite.serve import tls

    monkeypatch.setenv("HARLITE_DATA_DIR", str(tmp_path))
    first = tls.certificate(["127.0.0.1"])
    for name, damage in (
        ("harlite.key", b"-----BEGIN PRIVATE KEY-----\n"),
        ("harlite.crt", b"\xff"),
    ):
        (tmp_path / "tls" / name).write_bytes(damage)
        again = tls.certificate(["127.0.0.1"])
        assert again.made and again.fingerprint != first.fingerprint
        again.context()  # loads
        assert stat.S_IMODE((tmp_path / "tls" / "harlite.key").stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "tls").stat().st_mode) == 0o700
        first = again
    assert not tls.certificate(["127.0.0.1"]).made


def test_tls_without_openssl_is_a_clear_error(tmp_path, monkeypatch):
    from harlite.serve import tls

    monkeypatch.setenv("HARLITE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(HarliteError, match="apt-get install openssl"):
        tls.certificate(["127.0.0.1"])
    assert not (tmp_path / "tls").exists()


def _web_port():
    spec = importlib.util.spec_from_file_location("web_port", REPO / "tools" / "web_port.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_phone_page_in_a_browser_classifies_and_sends(cache, monkeypatch, tmp_path):
    web_port = _web_port()
    if why := web_port.missing_browser():
        pytest.skip(f"the page's browser: {why}")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("HARLITE_CACHE_DIR", str(cache))
    text = gzip.decompress(DEMO.read_bytes()).decode()
    demo = tmp_path / "demo.csv"
    demo.write_text(text)
    rows = web_port.read_rows(demo)
    walking = [r for r in rows if 160 <= r[0] < 250]  # the demo's LAYING … WALKING
    with ServerProcess("lstm") as server, web_port.browser(tmp_path / "profile") as driver:
        driver.set_window_size(390, 844)
        web_port.open_page(driver, f"{server.url}/phone/")
        assert driver.find_element(By.ID, "push-url").get_attribute("value") == server.url
        driver.find_element(By.ID, "push-device").clear()
        driver.find_element(By.ID, "push-device").send_keys("<b>Pixel</b>")
        driver.find_element(By.ID, "push-start").click()
        driver.find_element(By.ID, "record-label").send_keys("WALKING")
        driver.find_element(By.ID, "record-subject").send_keys("7")
        driver.find_element(By.ID, "record-start").click()
        windows = web_port.stream(driver, walking[: len(walking) // 2], "android")
        driver.find_element(By.ID, "record-stop").click()
        windows += web_port.stream(driver, walking[len(walking) // 2 :], "android")
        assert windows and any(w["label"] == "WALKING" for w in windows)
        shown = driver.find_element(By.ID, "current-label").text
        assert shown == (windows[-1].get("smoothed_label") or windows[-1]["label"])
        assert driver.find_element(By.ID, "windows").text == str(len(windows))
        WebDriverWait(driver, 15).until(
            lambda d: d.find_element(By.ID, "push-status").text.endswith(
                f"samples, {len(windows)} windows"
            )
        )
        session = request(f"{server.url}/api/state")[1]["sessions"][0]
        assert session["device"] == "<b>Pixel</b>" and session["samples"] == len(walking)
        # the page's own windows, beside the server's of the same samples: the same labels
        on_phone = session["on_phone"]
        assert on_phone["windows"] == len(windows) and on_phone["last"]["label"] == shown
        assert on_phone["compared"] == len(windows) == session["windows"]
        assert on_phone["agreeing"] == on_phone["compared"]
        assert "samples to download" in driver.find_element(By.ID, "record-status").text
        time.sleep(1.0)  # the status line's next refresh (rate, samples)
        driver.execute_cdp_cmd(  # a phone's screen: 390 x 844 CSS pixels
            "Emulation.setDeviceMetricsOverride",
            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
        )
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        shot = Path(os.environ.get("HARLITE_SCREENSHOT") or tmp_path / "phone.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size
    assert "Traceback" not in server.stderr


def test_the_page_opens_again_without_the_server(cache, monkeypatch, tmp_path):
    """Loaded once (https, or this machine), the page's files are kept (sw.js): it opens
    and classifies with the server gone."""
    web_port = _web_port()
    if why := web_port.missing_browser():
        pytest.skip(f"the page's browser: {why}")
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(cache))
    rows = web_port.read_rows(_demo(tmp_path))[:1000]
    with web_port.browser(tmp_path / "profile") as driver:
        with ServerProcess("lstm") as server:
            web_port.open_page(driver, f"{server.url}/phone/")
            driver.set_script_timeout(30)
            assert (
                driver.execute_script(
                    "return navigator.serviceWorker.ready.then((r) => caches.open("
                    "'harlite-phone-v1')).then((c) => c.keys()).then((k) => k.length)"
                )
                >= 6
            )
        with pytest.raises(OSError):
            get(f"{server.url}/phone/")
        web_port.open_page(driver, f"{server.url}/phone/")
        assert len(web_port.stream(driver, rows, "push")) > 0


def test_the_page_reloaded_sends_with_its_cookie(cache, monkeypatch, tmp_path):
    """Opened as /phone/?token=…, the page keeps the token out of its address; reloaded (the
    token field empty now), it still sends: the token's cookie goes with its pushes."""
    web_port = _web_port()
    if why := web_port.missing_browser():
        pytest.skip(f"the page's browser: {why}")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    monkeypatch.setenv("HARLITE_CACHE_DIR", str(cache))
    rows = web_port.read_rows(_demo(tmp_path))[:600]
    with (
        ServerProcess("lstm", "--token", TOKEN) as server,
        web_port.browser(tmp_path / "profile") as driver,
    ):
        web_port.open_page(driver, f"{server.url}/phone/?token={TOKEN}")
        assert driver.find_element(By.ID, "push-token").get_attribute("value") == TOKEN
        assert "token" not in driver.current_url
        web_port.open_page(driver, f"{server.url}/phone/")  # a reload: the cookie only
        assert driver.find_element(By.ID, "push-token").get_attribute("value") == ""
        driver.find_element(By.ID, "push-start").click()
        web_port.stream(driver, rows, "android")
        WebDriverWait(driver, 15).until(
            lambda d: d.find_element(By.ID, "push-status").text.startswith("sent 600 samples")
        )
        state = request(f"{server.url}/api/state?token={TOKEN}")[1]
        assert state["sessions"][0]["samples"] == len(rows)
        assert "no or wrong token" not in state["bad_request_reasons"]
    assert "Traceback" not in server.stderr


def _demo(tmp_path: Path) -> Path:
    demo = tmp_path / "demo.csv"
    demo.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return demo


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
