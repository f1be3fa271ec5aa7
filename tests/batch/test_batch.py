"""harlite.batch.pool and `harlite batch`: planning, the local engine, resumable reruns,
an interrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harlite.batch.pool import plan_batch
from harlite.cli import cli
from harlite.runtime.io.sources import InputOptions
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import ClassifierSettings
from harlite.shipped import model_path
from tests.cli.test_stream_cli import write_csv

HARLITE = [sys.executable, "-m", "harlite.cli"]
needs_ray = pytest.mark.skipif(
    __import__("importlib").util.find_spec("ray") is None, reason="needs Ray (harlite[ray])"
)


def predictions(folder: Path) -> dict[str, list]:
    """Each output's predictions without the timing field."""
    out = {}
    for path in sorted(folder.glob("*.jsonl")):
        records = [json.loads(line) for line in path.read_text().splitlines()]
        out[path.name] = [{k: v for k, v in r.items() if k != "latency_ms"} for r in records]
    return out


def batch(*args: str):
    return CliRunner().invoke(cli, ["batch", *args], catch_exceptions=False)


def test_local_batch_writes_outputs_summaries_and_skips_on_rerun(recordings, tmp_path):
    out = tmp_path / "out"
    result = batch("lstm", str(recordings), "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["processed"] == 4 and summary["skipped"] == 0
    assert summary["windows"] == sum(count_windows(n) for n in (900, 1300, 700, 1100))
    assert summary["accuracy"] is not None
    per = summary["recordings"][str(recordings / "rec1.csv")]
    assert per["windows"] == count_windows(1300) and per["bad_rows"] == 0
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    again = batch("lstm", str(recordings), "--out", str(out))
    assert "4 already done, 0 to classify" in again.stderr
    rerun = json.loads((out / "batch-summary.json").read_text())
    assert rerun["processed"] == 0 and rerun["skipped"] == 4
    assert rerun["windows"] == summary["windows"]
    for name, mtime in mtimes.items():
        if name != "batch-summary.json":
            assert (out / name).stat().st_mtime_ns == mtime  # untouched


def test_changed_inputs_settings_or_damaged_outputs_are_redone(recordings, tmp_path):
    out = tmp_path / "out"
    settings = ClassifierSettings()
    files = sorted(recordings.glob("*.csv"))
    assert batch("lstm", str(recordings), "--out", str(out)).exit_code == 0
    todo, done = plan_batch(files, out, model_path("lstm"), settings, InputOptions())
    assert (len(todo), len(done)) == (0, 4)

    write_csv(recordings / "rec0.csv", 950, seed=9)  # a changed recording
    with (out / "rec1.jsonl").open("a") as handle:  # a damaged output
        handle.write("garbage\n")
    (out / "rec2.summary.json").unlink()  # an unfinished one
    todo, _ = plan_batch(files, out, model_path("lstm"), settings, InputOptions())
    assert sorted(Path(t.input).name for t in todo) == ["rec0.csv", "rec1.csv", "rec2.csv"]
    other_model = ClassifierSettings(artifact="int8")
    todo, _ = plan_batch(files, out, model_path("lstm"), other_model, InputOptions())
    assert len(todo) == 4  # other predictions: nothing is reused


def test_parquet_output_or_a_clear_error(recordings, tmp_path):
    result = CliRunner().invoke(
        cli, ["batch", "lstm", str(recordings / "rec0.csv"), "--out", str(tmp_path / "o"),
              "--output-format", "parquet"],
    )  # fmt: skip
    try:
        import pyarrow.parquet as pq
    except ImportError:
        assert result.exit_code == 1 and "pip install pyarrow" in result.output
        return
    assert result.exit_code == 0, result.output
    table = pq.read_table(tmp_path / "o" / "rec0.parquet")
    assert table.num_rows == count_windows(900) and "p_WALKING" in table.column_names


def test_an_interrupted_batch_reruns_only_the_unfinished_recordings(tmp_path):
    folder = tmp_path / "long"
    folder.mkdir()
    for i in range(5):
        write_csv(folder / f"long{i}.csv", 120_000, seed=i)  # about 1 s each
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*HARLITE, "batch", "lstm", str(folder), "--out", str(out), "--workers", "1"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while len(list(out.glob("*.summary.json"))) < 2:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    finished = sorted(p.name for p in out.glob("*.summary.json"))
    assert 2 <= len(finished) < 5, stderr
    assert not list(out.glob(".*.tmp"))  # the recording in progress left nothing behind
    unfinished = 5 - len(finished)
    assert len(list(out.glob("*.jsonl"))) == len(finished)

    rerun = subprocess.run(
        [*HARLITE, "batch", "lstm", str(folder), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(finished)} already done, {unfinished} to classify" in rerun.stderr
    summary = json.loads((out / "batch-summary.json").read_text())
    assert summary["processed"] == unfinished and summary["skipped"] == len(finished)
    assert summary["windows"] == 5 * count_windows(120_000)


def test_a_model_that_fails_to_load_in_a_worker_is_reported_not_a_hang(
    recordings, tmp_path, monkeypatch
):
    """An exception while a pool worker starts used to have the pool restart it forever."""
    from harlite.batch import pool as batch_module

    def broken(*args, **kwargs):
        raise TypeError("unhashable settings")

    monkeypatch.setattr(batch_module, "StreamClassifier", broken)  # inherited by forked workers
    settings = ClassifierSettings()
    todo, _ = plan_batch(
        sorted(recordings.glob("*.csv")), tmp_path / "out", model_path("lstm"), settings,
        InputOptions(),
    )  # fmt: skip
    pool = batch_module.start_pool(2, len(todo), model_path("lstm"), settings)
    previous = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the batch hung"))
    signal.alarm(60)
    try:
        result = batch_module.run_local(todo, pool=pool)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(result.errors) == len(todo) == 4
    assert all(
        "internal error: TypeError: unhashable settings" in e for e in result.errors.values()
    )
