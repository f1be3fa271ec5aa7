"""Processes killed or interrupted midway leave the previous state or a complete new one.

Each test starts the real command in a subprocess, stops it mid-work with SIGINT, SIGTERM
or SIGKILL, and checks what is on disk.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli.test_stream_cli import wait_for_predictions, write_csv
from tests.train.test_download import hapt_zip  # noqa: F401  (fixture)

HARLITE = [sys.executable, "-m", "harlite.cli"]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*HARLITE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def start_training(data: Path, run: Path) -> subprocess.Popen:
    """A long training run (500 epochs) on the small data set, to be stopped midway."""
    return start(
        "train", "--data", str(data), "--out", str(run), "--epochs", "500",
        "--val-subjects", "5", "--batch-size", "64",
    )  # fmt: skip


def wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"ended early: {process.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_stream_interrupted_keeps_predictions_and_summary(tmp_path, how):
    source = write_csv(tmp_path / "rec.csv", 5000)
    output, summary = tmp_path / "out.csv", tmp_path / "s.json"
    process = start(
        "stream", "lstm", "--input", str(source), "--replay", "--speed", "20",
        "--output", str(output), "--summary", str(summary),
    )  # fmt: skip
    wait_for_predictions(tmp_path, "out.csv", process)
    process.send_signal(how)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    record = json.loads(summary.read_text())
    assert record["interrupted"] is True
    rows = output.read_text().splitlines()
    assert rows[0].startswith("window,") and len(rows) - 1 == record["windows"] > 0
    assert "Traceback" not in stderr


def test_training_interrupted_keeps_the_best_checkpoint(small_hapt, tmp_path):
    run = tmp_path / "run"
    process = start_training(small_hapt, run)

    def epochs_done() -> int:
        try:
            return len(json.loads((run / "history.json").read_text())["loss"])
        except (OSError, ValueError, KeyError):
            return 0

    wait_for(lambda: epochs_done() >= 2, 240, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted after" in stderr
    from harlite.train.models import load_model

    load_model(run / "model.keras")  # complete and loadable
    report = json.loads((run / "report.json").read_text())
    assert report["interrupted"] is True and report["epochs_run"] >= 2


def test_training_killed_leaves_no_half_written_model(small_hapt, tmp_path):
    run = tmp_path / "run"
    process = start_training(small_hapt, run)
    wait_for(lambda: (run / "model.keras").exists(), 240, process)
    time.sleep(1.5)  # likely in the middle of later epochs and checkpoint writes
    process.kill()
    process.communicate(timeout=30)
    from harlite.train.models import load_model

    load_model(run / "model.keras")  # the last complete checkpoint
    json.loads((run / "history.json").read_text())


def test_convert_killed_keeps_the_previous_bundle(small_hapt, tmp_path):
    from harlite.runtime.model.bundle import Bundle

    run = tmp_path / "run"
    subprocess.run(
        [*HARLITE, "train", "--data", str(small_hapt), "--out", str(run), "--epochs", "2",
         "--val-subjects", "5", "--quiet"],
        check=True, capture_output=True,
    )  # fmt: skip
    bundle = tmp_path / "bundle"
    subprocess.run(
        [*HARLITE, "convert", str(run), "--out", str(bundle), "--data", str(small_hapt),
         "--formats", "keras,float32"],
        check=True, capture_output=True,
    )  # fmt: skip
    before = (bundle / "manifest.json").read_text()
    process = start(
        "convert", str(run), "--out", str(bundle), "--data", str(small_hapt),
        "--formats", "keras,pb,float32,dynamic,int8",
    )  # fmt: skip
    # Kill it once the new bundle is being built beside the old one.
    wait_for(lambda: any(p.name.startswith(".bundle.") for p in tmp_path.iterdir()), 120, process)
    time.sleep(1.0)
    process.kill()
    process.communicate(timeout=30)
    assert (bundle / "manifest.json").read_text() == before
    Bundle.open(bundle).checked_file("float32")
    result = subprocess.run([*HARLITE, "verify", str(bundle)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


class _SlowServer:
    """Serves a payload in small chunks with pauses, honouring Range."""

    def __init__(self, payload: bytes, delay: float) -> None:
        server = self
        self.payload, self.delay, self.ranges = payload, delay, []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].rstrip("-"))
                server.ranges.append(start)
                body = server.payload[start:]
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                if start:
                    total = len(server.payload)
                    self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
                self.end_headers()
                try:
                    for i in range(0, len(body), 2048):
                        self.wfile.write(body[i : i + 2048])
                        self.wfile.flush()
                        time.sleep(server.delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hapt.zip"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_download_interrupted_installs_nothing_and_resumes(tmp_path, hapt_zip, how):  # noqa: F811
    with zipfile.ZipFile(hapt_zip, "a", zipfile.ZIP_STORED) as archive:  # about 10 s to serve
        archive.writestr("padding.bin", os.urandom(400_000))
    payload = hapt_zip.read_bytes()
    slow = _SlowServer(payload, delay=0.05)
    dest = tmp_path / "data" / "hapt"
    downloads = dest.parent / ".harlite-downloads"
    try:
        process = start("data", "download", "hapt", "--url", slow.url, "--dest", str(dest))
        part = downloads / "hapt.zip.part"
        wait_for(lambda: part.exists() and part.stat().st_size > 4096, 60, process)
        process.send_signal(how)
        process.communicate(timeout=30)
        assert process.returncode != 0
        assert not dest.exists()  # nothing half-installed under the final name
        kept = part.stat().st_size
        assert 0 < kept < len(payload)
        slow.delay = 0.0
        done = subprocess.run(
            [*HARLITE, "data", "download", "hapt", "--url", slow.url, "--dest", str(dest)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert slow.ranges[-1] == kept  # resumed where it stopped
        assert (dest / "RawData" / "labels.txt").is_file()
        assert not [p for p in dest.parent.iterdir() if p.name.startswith(".harlite-extract")]
    finally:
        slow.close()


def test_no_temporary_files_are_left_by_a_completed_stream(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 500)
    result = subprocess.run(
        [*HARLITE, "stream", "lstm", "--input", str(source), "--output", str(tmp_path / "o.jsonl")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.jsonl", "rec.csv"]
    assert os.access(tmp_path / "o.jsonl", os.R_OK)
    assert Path(tmp_path / "o.jsonl").stat().st_size > 0
