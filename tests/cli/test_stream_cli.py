"""`harlite stream`: outputs, summary, demo, stdin, batch mode, bad input and interruption.

Runtime-only: needs numpy, scipy, click and a TFLite interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.cli.stream import DEMO_RECORDING
from harlite.runtime.signal.sliding_window import count_windows
from harlite.shipped import model_path
from tests.builders import raw_signal

pytestmark = pytest.mark.runtime

DEMO_DIR = DEMO_RECORDING.parent
SUMMARY_KEYS = {"windows", "bad_rows", "bad_row_reasons", "samples", "duration_s"}


def write_csv(path: Path, n: int, seed: int = 0, label: str | None = None, rate: float = 50.0):
    rows = np.column_stack((np.arange(n) / rate, raw_signal(n, seed)))
    header = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" + (",label" if label else "")
    lines = [header] + [
        ",".join(f"{v:.9g}" for v in row) + (f",{label}" if label else "") for row in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for_predictions(folder: Path, output: str, process, lines: int = 3) -> None:
    """Wait until a streaming process has flushed ``lines`` lines into its (temporary,
    not yet renamed) output file."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        for partial in folder.glob(f".{output}.*.tmp"):
            if partial.read_bytes().count(b"\n") >= lines:
                return
        time.sleep(0.05)
    raise AssertionError("the stream wrote no predictions in time")


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(cli, ["stream", *args], input=input, catch_exceptions=False)


def test_stream_writes_jsonl_and_a_summary(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 1000, label="WALKING")
    result = run(
        "lstm",
        "--input", str(source),
        "--output", str(tmp_path / "out.jsonl"),
        "--summary", str(tmp_path / "summary.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == count_windows(1000)
    assert json.loads(lines[0])["true_label"] == "WALKING"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert SUMMARY_KEYS | {"labelled_windows", "accuracy"} <= set(summary)
    assert summary["windows"] == len(lines) and summary["bad_rows"] == 0
    assert summary["samples"] == 1000 and summary["duration_s"] == pytest.approx(19.98)
    assert "14 windows from 1000 samples" in result.output  # the readable summary (stderr)


def test_unlabelled_input_has_no_accuracy(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 300)
    result = run("lstm", "--input", str(source), "--summary", str(tmp_path / "s.json"))
    assert result.exit_code == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert "accuracy" not in summary and "labelled_windows" not in summary


def test_csv_output_follows_the_file_extension(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 400)
    result = run("lstm", "--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert result.exit_code == 0
    table = (tmp_path / "out.csv").read_text().splitlines()
    assert table[0].startswith("window,start_time") and len(table) == 1 + count_windows(400)


def test_stdin_input_and_options(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 500)
    text = source.read_text()
    result = run(
        str(model_path("lstm")), "--input", "-", "--artifact", "int8", "--smooth", "vote:3",
        input=text,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == count_windows(500)
    assert all("smoothed_label" in r for r in records)
    assert "int8" in result.stderr and "vote of 3" in result.stderr


def test_bad_rows_are_reported_by_line_and_the_stream_goes_on(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 600)
    lines = source.read_text().splitlines()
    lines[10] = "oops"
    lines[20] = lines[20].replace(lines[20].split(",")[3], "inf", 1)
    source.write_text("\n".join(lines) + "\n")
    result = run("lstm", "--input", str(source), "--summary", str(tmp_path / "s.json"))
    assert result.exit_code == 0
    assert "line 11: wrong number of fields" in result.stderr
    assert "line 21: non-finite value" in result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["bad_rows"] == 2 and summary["samples"] == 598
    assert summary["windows"] == count_windows(600)


def test_strict_makes_a_bad_row_an_error_naming_its_line(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 300)
    lines = source.read_text().splitlines()
    lines[7] = "0.1,1,2"
    source.write_text("\n".join(lines) + "\n")
    result = run("lstm", "--input", str(source), "--strict", "--output", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "line 8" in result.output and "wrong number of fields" in result.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty input"),
        (b"t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n", "no valid samples"),
        # binary data (a PNG's signature, then noise): os.urandom alone once began "r\n",
        # a one-column text header, and failed for the header instead
        (b"\x89PNG\r\n\x1a\n" + os.urandom(3000), "not a text CSV"),
    ],
)
def test_unusable_inputs_exit_non_zero_without_traceback(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(cli, ["stream", "lstm", "--input", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_bundle_and_input_are_clear_errors(tmp_path):
    result = CliRunner().invoke(cli, ["stream", "nosuchmodel", "--input", "x.csv"])
    assert result.exit_code == 1 and "no shipped model 'nosuchmodel'" in result.output
    result = CliRunner().invoke(cli, ["stream", "lstm", "--input", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "no such file" in result.output
    result = CliRunner().invoke(cli, ["stream", "lstm"])
    assert result.exit_code == 2 and "--input" in result.output


def test_demo_runs_offline_with_the_shipped_model(tmp_path):
    result = run("--demo", "--summary", str(tmp_path / "summary.json"))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) > 150
    labelled = [r for r in records if "true_label" in r]
    accuracy = np.mean([r["label"] == r["true_label"] for r in labelled])
    assert {r["true_label"] for r in labelled} == {
        "WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"
    }  # fmt: skip
    assert accuracy > 0.9
    assert "accuracy" in result.stderr


def test_the_sensorlogger_sample_is_read(tmp_path):
    result = run(
        "lstm", "--input", str(DEMO_DIR / "sensorlogger-sample.zip"),
        "--summary", str(tmp_path / "s.json"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["input_rate_hz"] == pytest.approx(100.0, rel=1e-3)
    # 20 s at 100 Hz; the first accelerometer row precedes the gyroscope: 19.98 s remain.
    assert summary["windows"] == count_windows(999)
    labels = [json.loads(line)["label"] for line in result.stdout.splitlines()]
    assert labels.count("WALKING") >= len(labels) - 1  # the sample is walking


def test_batch_mode_writes_one_output_per_input(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for i, n in enumerate((300, 500, 700)):
        write_csv(folder / f"r{i}.csv", n, seed=i, label="SITTING")
    (folder / "broken.csv").write_text("nothing useful\n")
    out = tmp_path / "out"
    result = run("lstm", "--input", str(folder), "--output-dir", str(out), "--jobs", "2")
    assert result.exit_code == 1  # one recording failed: reported, the others done
    assert "broken.csv" in result.output
    for i, n in enumerate((300, 500, 700)):
        assert len((out / f"r{i}.jsonl").read_text().splitlines()) == count_windows(n)
        assert json.loads((out / f"r{i}.summary.json").read_text())["samples"] == n
    batch = json.loads((out / "batch-summary.json").read_text())
    assert batch["processed"] == 3 and len(batch["failed"]) == 1
    assert batch["windows"] == sum(count_windows(n) for n in (300, 500, 700))


def test_batch_mode_takes_globs(tmp_path):
    for i in range(2):
        write_csv(tmp_path / f"g{i}.csv", 300, seed=i)
    out = tmp_path / "out"
    result = run("lstm", "--input", str(tmp_path / "g*.csv"), "--output-dir", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.jsonl")) == ["g0.jsonl", "g1.jsonl"]


def test_sigterm_keeps_the_predictions_made_and_writes_the_summary(tmp_path):
    source = write_csv(tmp_path / "rec.csv", 3000)  # 60 s of signal, replayed at 10×
    output, summary = tmp_path / "out.jsonl", tmp_path / "s.json"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input", str(source),
            "--replay", "--speed", "10", "--output", str(output), "--summary", str(summary),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    wait_for_predictions(tmp_path, "out.jsonl", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    record = json.loads(summary.read_text())
    assert record["interrupted"] is True
    lines = output.read_text().splitlines()
    assert 0 < len(lines) == record["windows"] < count_windows(3000)
    assert "Traceback" not in stderr
