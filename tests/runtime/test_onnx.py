"""ONNX Runtime as a backend: the shipped ONNX artefacts, batches equal to batch 1, `--backend
onnxruntime` and `auto` (measured once, cached, and said), and clear errors (runtime-only;
skipped where onnxruntime is not installed, except the errors that say to install it)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from harlite.errors import HarliteError
from harlite.runtime.io.sources import CsvSource
from harlite.runtime.model import backend_choice, onnx_model
from harlite.runtime.model.bundle import Bundle, BundleError
from harlite.runtime.run import run_stream
from harlite.runtime.sinks import CollectingSink
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path
from tests.builders import canonical_csv, timed_rows

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")
needs_onnxruntime = pytest.mark.skipif(
    onnx_model.onnxruntime_version() is None, reason="onnxruntime is not installed"
)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test measures afresh, into its own cache folder."""
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path / "cache"))


@needs_onnxruntime
@pytest.mark.parametrize("name", ["lstm", "cnn", "resbilstm"])
def test_shipped_onnx_artifacts_equal_their_float32_tflite(name):
    bundle = Bundle.open(model_path(name))
    with np.load(bundle.reference_windows) as reference:
        windows = reference["windows"]
        recorded = reference["probabilities_onnx"]
    model = bundle.load_model("onnx", backend="onnxruntime")
    assert model.dynamic_batch
    got = model.predict(windows)
    np.testing.assert_allclose(got, recorded, atol=1e-6)
    float32 = bundle.load_tflite("float32").predict(windows)
    assert (got.argmax(1) == float32.argmax(1)).all()
    assert np.abs(got - float32).max() < 1e-4


@needs_onnxruntime
def test_batched_predictions_are_identical_to_batch_one():
    model = Bundle.open(LSTM).load_model("onnx", backend="onnxruntime", threads=1)
    windows = np.random.default_rng(1).normal(size=(300, 128, 9)).astype(np.float32) * 0.5
    batched = model.predict(windows)  # 256 then 44 per call
    assert model.resize(1)
    one_by_one = model.predict(windows)
    assert np.array_equal(batched, one_by_one)


def _stream(path, **settings):
    sink = CollectingSink()
    classifier = StreamClassifier(LSTM, **settings)
    summary = run_stream(CsvSource(path), classifier, [sink], name=str(path))
    return [p.to_dict(classifier.labels) for p in sink.predictions], summary, classifier


@needs_onnxruntime
def test_a_file_streams_to_the_same_predictions_on_onnxruntime_batched(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(canonical_csv(timed_rows(12_000, seed=5)))
    runs = {
        "tflite": _stream(path, artifact="float32"),
        "onnx-1": _stream(path, backend="onnxruntime", batch_size=1),
        "onnx-256": _stream(path, backend="onnxruntime", batch_size=256),
    }
    assert runs["onnx-256"][2].batch_size == 256 and runs["onnx-256"][1].artifact == "onnx"
    for records in (r[0] for r in runs.values()):
        for record in records:
            record.pop("latency_ms")
    assert runs["onnx-1"][0] == runs["onnx-256"][0]  # batching changes nothing
    labels = {name: [r["label"] for r in run[0]] for name, run in runs.items()}
    assert labels["tflite"] == labels["onnx-256"] and len(labels["tflite"]) > 150


@needs_onnxruntime
def test_auto_measures_once_then_reads_its_cache_and_says_which(tmp_path):
    classifier = StreamClassifier(LSTM, backend="auto")
    choice = classifier.backend_choice
    assert choice is not None and not choice.cached
    assert set(choice.ms) >= {"onnx on onnxruntime", "float32 on ai_edge_litert"}
    assert choice.ms[f"{choice.artifact} on {choice.backend}"] == min(choice.ms.values())
    assert classifier.backend == choice.backend and classifier.artifact == choice.artifact
    cache = json.loads(backend_choice.cache_path().read_text())
    assert len(cache) == len(choice.ms) and all(v > 0 for v in cache.values())
    again = StreamClassifier(LSTM, backend="auto").backend_choice
    assert again.cached and again.ms == choice.ms
    assert again.describe().startswith(f"backend auto: {choice.artifact} on {choice.backend}")
    # a named artefact keeps its format: dynamic has no ONNX twin
    assert StreamClassifier(LSTM, backend="auto", artifact="dynamic").artifact == "dynamic"


@needs_onnxruntime
def test_auto_on_the_command_line_says_its_choice(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(canonical_csv(timed_rows(3000, seed=6)))
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input", str(path),
         "--backend", "auto", "--output", str(tmp_path / "out.jsonl"),
         "--summary", str(tmp_path / "summary.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "backend auto: " in result.stderr and "measured now" in result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["backend_choice"].startswith("backend auto: ")


def test_a_damaged_cache_is_measured_again(tmp_path):
    backend_choice.cache_path().parent.mkdir(parents=True)
    backend_choice.cache_path().write_text("{not json")
    choice = StreamClassifier(LSTM, backend="auto").backend_choice
    assert not choice.cached and choice.ms


def test_backend_and_artifact_that_do_not_fit_are_clear_errors():
    bundle = Bundle.open(LSTM)
    with pytest.raises(BundleError, match="onnxruntime backend runs ONNX artefacts"):
        bundle.load_model("float32", backend="onnxruntime")
    with pytest.raises(BundleError, match="is ONNX: run it with --backend onnxruntime"):
        bundle.load_model("onnx", backend="ai_edge_litert")


def test_a_bundle_without_an_onnx_artifact_says_how_to_add_one(tmp_path):
    import shutil

    copy = tmp_path / "lstm"
    shutil.copytree(LSTM, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["artifacts"]["onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="--formats onnx"):
        Bundle.open(copy).load_model(backend="onnxruntime")


def test_onnxruntime_missing_is_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(HarliteError, match=r"pip install 'harlite\[onnx\]'"):
        Bundle.open(LSTM).load_model("onnx", backend="onnxruntime")
