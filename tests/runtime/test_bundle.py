"""harlite.runtime.model.bundle: manifest validation, typed artefacts, hash-checked files
(runtime-only, on copies of the shipped lstm bundle)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from harlite.runtime.model.bundle import Artifact, Bundle, BundleError
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime


@pytest.fixture
def bundle_copy(tmp_path):
    target = tmp_path / "lstm"
    shutil.copytree(model_path("lstm"), target)
    return target


def edit_manifest(folder, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_artifacts_are_typed_entries_of_the_manifest():
    bundle = Bundle.open(model_path("lstm"))
    artifacts = bundle.artifacts
    assert all(isinstance(a, Artifact) for a in artifacts.values())
    int8 = artifacts["int8"]
    assert int8.is_tflite and int8.file == "model_int8.tflite" and int8.size > 0
    mean, std = int8.input_normalization
    assert mean.shape == std.shape == (9,) and (std > 0).all()
    assert artifacts["float32"].input_normalization is None
    assert bundle.artifact().name == bundle.manifest["default_artifact"]
    assert set(bundle.tflite_names()) == {n for n, a in artifacts.items() if a.format == "tflite"}


def test_the_two_sample_rates_of_a_manifest_must_agree(bundle_copy):
    edit_manifest(bundle_copy, lambda m: m["input"].update(sample_rate_hz=100.0))
    with pytest.raises(BundleError, match=r"differs from preprocessing\.design\.sample_rate_hz"):
        Bundle.open(bundle_copy)


def test_an_unknown_artifact_names_the_ones_there():
    with pytest.raises(BundleError, match=r"no artifact 'tfjs'.*float32"):
        Bundle.open(model_path("lstm")).artifact("tfjs")


def test_a_changed_file_is_refused_by_size_or_hash(bundle_copy):
    path = bundle_copy / "model_float32.tflite"
    content = bytearray(path.read_bytes())
    content[100] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(BundleError, match="SHA-256"):
        Bundle.open(bundle_copy).checked_file("float32")
    path.write_bytes(bytes(content[:-10]))
    with pytest.raises(BundleError, match="truncated or replaced"):
        Bundle.open(bundle_copy).load_tflite("float32")


def test_a_keras_artifact_is_not_run_by_the_device_runtime():
    with pytest.raises(BundleError, match="not TFLite"):
        Bundle.open(model_path("lstm")).load_tflite("keras")


def test_loaded_models_classify_the_reference_windows():
    bundle = Bundle.open(model_path("lstm"))
    with np.load(bundle.path / "reference.npz") as reference:
        windows, labels = reference["windows"], reference["labels"]
    probabilities = bundle.load_tflite().predict(windows)
    assert (probabilities.argmax(1) == labels).mean() > 0.8
