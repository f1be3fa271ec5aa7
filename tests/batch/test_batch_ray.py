"""harlite.batch.ray_engine: the Ray engine gives the local engine's predictions, retries a
killed worker, and joins a cluster on loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harlite.batch.pool import plan_batch
from harlite.runtime.io.sources import InputOptions
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import ClassifierSettings
from harlite.shipped import model_path
from tests.batch.test_batch import batch, predictions
from tests.builders import command_lines
from tests.cli.test_stream_cli import write_csv

needs_ray = pytest.mark.skipif(
    __import__("importlib").util.find_spec("ray") is None, reason="needs Ray (harlite[ray])"
)


@needs_ray
def test_ray_and_local_engines_give_identical_predictions(recordings, tmp_path):
    local, distributed = tmp_path / "local", tmp_path / "ray"
    assert batch("lstm", str(recordings), "--out", str(local)).exit_code == 0
    result = batch(
        "lstm", str(recordings), "--out", str(distributed), "--engine", "ray", "--workers", "2"
    )
    assert result.exit_code == 0, result.output
    assert predictions(local) == predictions(distributed)
    assert len(predictions(local)) == 4
    summary = json.loads((distributed / "batch-summary.json").read_text())
    assert summary["engine"] == "ray" and summary["processed"] == 4


def _busy_ray_workers() -> list[int]:
    """PIDs of Ray worker processes running a classification task right now."""
    return [pid for pid, line in command_lines().items() if line.startswith(b"ray::classify_task")]


@needs_ray
def test_a_killed_ray_worker_is_retried_and_each_output_written_once(tmp_path):
    from harlite.batch.ray_engine import run_ray

    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(4):
        write_csv(folder / f"long{i}.csv", 150_000, seed=i)
    out = tmp_path / "out"
    settings = ClassifierSettings()
    todo, _ = plan_batch(
        sorted(folder.glob("*.csv")), out, model_path("lstm"), settings, InputOptions()
    )
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            busy = _busy_ray_workers()
            if busy:
                time.sleep(0.3)  # mid-recording
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    result = run_ray(todo, workers=2)
    killer.join()
    assert killed, "no busy Ray worker was found to kill"
    assert result.errors == {} and len(result.processed) == 4
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [f"long{i}.jsonl" for i in range(4)] + [f"long{i}.summary.json" for i in range(4)]
    )  # one complete output per recording, no leftovers of the killed attempt
    for i in range(4):
        lines = (out / f"long{i}.jsonl").read_text().splitlines()
        assert len(lines) == count_windows(150_000)
    todo, done = plan_batch(
        sorted(folder.glob("*.csv")), out, model_path("lstm"), settings, InputOptions()
    )
    assert (len(todo), len(done)) == (0, 4)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_ray
def test_ray_engine_joins_a_local_cluster_on_loopback(recordings, tmp_path):
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"
    port = _free_port()
    start = subprocess.run(
        [ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
         "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert start.returncode == 0, start.stdout + start.stderr
    try:
        out = tmp_path / "out"
        result = batch(
            "lstm", str(recordings), "--out", str(out), "--engine", "ray",
            "--address", f"127.0.0.1:{port}",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads((out / "batch-summary.json").read_text())["processed"] == 4
        local = tmp_path / "local"
        assert batch("lstm", str(recordings), "--out", str(local)).exit_code == 0
        assert predictions(out) == predictions(local)
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True, timeout=120)
