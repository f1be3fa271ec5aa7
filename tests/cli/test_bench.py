"""`harlite bench`: the rows, the table, the report; MAC counting.

The TFLite part is runtime-only; the Keras rows need TensorFlow and are skipped without it.
"""

from __future__ import annotations

import importlib.util
import json
import platform

import pytest
from click.testing import CliRunner

from harlite.bench.measure import macs_per_window
from harlite.cli import cli
from harlite.runtime.model.bundle import Bundle
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

ROW_KEYS = {
    "artifact",
    "backend",
    "threads",
    "batch",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "windows_per_s",
}


def test_bench_json_rows_cover_every_tflite_artifact():
    result = CliRunner().invoke(
        cli, ["bench", "lstm", "--invokes", "50", "--no-tensorflow", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    tflite = [r for r in rows if r["format"] == "tflite"]
    assert {r["artifact"] for r in tflite} == {"float32", "dynamic", "int8"}
    for row in rows:
        assert set(row) >= ROW_KEYS
        assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"]
        assert row["size_bytes"] > 0 and row["peak_rss_mib"] > 0 and row["load_ms"] > 0
        assert row["macs"] > 1_000_000 and row["gmacs_per_s"] > 0
        assert 0.9 < row["val_accuracy"] <= 1
    assert {r["batch"] for r in tflite} == {1}  # static-batch artefacts: no larger batches
    onnx = [r for r in rows if r["artifact"] == "onnx"]
    if importlib.util.find_spec("onnxruntime"):
        assert {r["batch"] for r in onnx} == {1, 16, 256}  # a dynamic batch
        assert {r["backend"] for r in onnx} == {"onnxruntime"}
    else:
        assert not onnx


def test_bench_table_and_report(tmp_path):
    result = CliRunner().invoke(
        cli,
        ["bench", "lstm", "--invokes", "50", "--no-tensorflow", "--report", str(tmp_path / "r")],
    )
    assert result.exit_code == 0, result.output
    assert "p50 ms" in result.stdout and "matmul peak" in result.stdout
    assert "floor: 2.13 MMAC per window" in result.stdout
    assert f"on this {platform.machine()} host, deploy" in result.stdout
    report = (tmp_path / "r" / "report.md").read_text()
    assert "| float32 |" in report and "GMAC/s" in report
    saved = json.loads((tmp_path / "r" / "bench.json").read_text())
    assert saved["rows"] and saved["peak"]["1"]["peak_gmacs"] > 0
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "r" / "bench.png").stat().st_size > 1000
    else:
        assert "No chart" in report


def test_macs_of_the_lstm_match_the_architecture():
    model = Bundle.open(model_path("lstm")).load_tflite("float32")
    # Dense(9→32) per step, LSTM(32→32) twice (4 gates × 32 × (32 + 32) per step), Dense(32→6).
    expected = 128 * 9 * 32 + 2 * 128 * 4 * 32 * 64 + 32 * 6
    assert macs_per_window(model) == expected


def test_unknown_backend_is_reported_not_crashed():
    result = CliRunner().invoke(
        cli, ["bench", "lstm", "--invokes", "5", "--no-tensorflow", "--backends", "nosuch"]
    )
    assert result.exit_code == 0
    assert "not measured" in result.stdout and "nosuch" in result.stdout


@pytest.mark.skipif(not importlib.util.find_spec("tensorflow"), reason="needs TensorFlow")
def test_bench_measures_keras_alongside_tflite():
    result = CliRunner().invoke(
        cli, ["bench", "lstm", "--invokes", "30", "--backends", "ai_edge_litert", "--json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    keras = [r for r in rows if r["artifact"] == "keras"]
    assert {r["batch"] for r in keras} == {1, 16, 256}
    assert keras[0]["backend"].startswith("tensorflow")
