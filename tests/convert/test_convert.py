"""Conversion to a bundle: frozen .pb, TFLite float32/dynamic/int8, manifest, verify."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tf_keras", reason="conversion needs the [train] extra (tensorflow, tf-keras)")

from harlite.cli import cli
from harlite.convert import bundle_writer
from harlite.convert.freeze import LOOP_OPS, FrozenGraphRunner
from harlite.convert.tflite import read_labels_metadata
from harlite.convert.verify import verify_bundle
from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle, BundleError
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train.models import get_preset, load_model, predict_logits
from harlite.train.trainer import train


@pytest.fixture(scope="session")
def tiny_run(small_hapt, tmp_path_factory):
    config = get_preset("lstm").config(epochs=2, batch_size=16, val_subjects=(5,), seed=0)
    run = tmp_path_factory.mktemp("run") / "lstm"
    train(config, small_hapt, run)
    return run


@pytest.fixture(scope="session")
def bundle_dir(tiny_run, small_hapt, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "lstm"
    result = CliRunner().invoke(
        cli, ["convert", str(tiny_run), "--out", str(out), "--data", str(small_hapt)]
    )
    assert result.exit_code == 0, result.output
    return out


def fresh_copy(bundle_dir, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle_dir, copy)
    return copy


def test_bundle_holds_every_default_artifact_and_a_valid_manifest(bundle_dir):
    bundle = Bundle.open(bundle_dir)
    assert set(bundle.artifacts) == {"keras", "pb", "float32", "dynamic", "int8", "onnx"}
    manifest = bundle.manifest
    assert manifest["labels"] == list(ACTIVITY_LABELS)
    assert manifest["input"]["shape"] == [1, 128, 9]
    assert manifest["default_artifact"] == "float32"
    assert len(manifest["preprocessing"]["noise_sos"]) == 2  # 3rd order: two sections
    int8 = manifest["artifacts"]["int8"]
    assert int8["inputs"][0]["dtype"] == "int8" and int8["inputs"][0]["quantization"]["scale"] > 0
    # int8 takes normalised windows (one input scale for all channels); the runtime normalises
    assert len(int8["input_normalization"]["mean"]) == 9 == len(int8["input_normalization"]["std"])
    assert "input_normalization" not in manifest["artifacts"]["float32"]
    assert int8["quantizer"] in ("mlir", "legacy") and 0 <= int8["train_fidelity"] <= 1
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in manifest["artifacts"]["float32"]["ops"]
    for name, entry in manifest["artifacts"].items():
        # float artefacts reproduce Keras; the quantised ones of this barely trained model
        # (near-tied logits) need only be far better than chance
        least = 0.999 if name in ("keras", "pb", "float32", "onnx") else 0.5
        assert entry["keras_agreement"] >= least, name
        assert not any("Flex" in op for op in entry.get("ops", []))


def test_the_onnx_artifact_takes_any_batch_and_reproduces_keras(bundle_dir, tiny_run):
    pytest.importorskip("onnxruntime", reason="the ONNX artefact runs on onnxruntime")
    bundle = Bundle.open(bundle_dir)
    entry = bundle.manifest["artifacts"]["onnx"]
    assert entry["batch"] == "dynamic" and entry["inputs"][0]["shape"] == [-1, 128, 9]
    assert entry["max_abs_diff"] < 1e-5 and entry["converter"].startswith("tf2onnx")
    windows = np.random.default_rng(0).normal(size=(37, 128, 9)).astype(np.float32)
    model = bundle.load_model("onnx", backend="onnxruntime")
    keras = load_model(tiny_run / "model.keras")
    logits = predict_logits(keras, windows)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(windows), expected, atol=1e-5)


def test_frozen_pb_reloads_with_compat_v1_and_matches_keras(bundle_dir, tiny_run):
    entry = Bundle.open(bundle_dir).artifacts["pb"]
    graph_def = (bundle_dir / "model.pb").read_bytes()
    import tensorflow as tf

    definition = tf.compat.v1.GraphDef()
    definition.ParseFromString(graph_def)
    assert not {node.op for node in definition.node} & LOOP_OPS
    runner = FrozenGraphRunner(graph_def, entry.inputs[0]["name"], entry.outputs[0]["name"])
    x = np.random.default_rng(0).standard_normal((5, 128, 9)).astype(np.float32)
    logits = predict_logits(load_model(tiny_run / "model.keras"), x)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(runner.predict(x), expected, atol=1e-5, rtol=0)


def test_tflite_files_carry_the_labels(bundle_dir):
    for name in ("model_float32.tflite", "model_int8.tflite", "model_dynamic.tflite"):
        assert read_labels_metadata((bundle_dir / name).read_bytes()) == list(ACTIVITY_LABELS)


def test_verify_passes_and_prints_a_table(bundle_dir):
    rows = verify_bundle(bundle_dir)
    assert {r.artifact: r.status for r in rows} == dict.fromkeys(
        ("keras", "pb", "float32", "dynamic", "int8", "onnx"), "ok"
    )
    manifest = json.loads((bundle_dir / "manifest.json").read_text())["artifacts"]
    for row in rows:  # the conversion-time agreement with Keras, from the manifest
        assert row.keras_max_abs_diff == manifest[row.artifact]["max_abs_diff"]
    result = CliRunner().invoke(cli, ["verify", str(bundle_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output.strip().splitlines()[-1])) == 6


def test_verify_table_gives_the_size_unit_and_the_agreement_with_keras():
    from harlite.convert.verify import VerifyRow, format_rows

    row = VerifyRow("float32", "model_float32.tflite", 74_484, "ok", 1.0, 0.0, 0.955, 1.0)
    row.keras_max_abs_diff = 0.1525
    header, columns, line = format_rows([row]).splitlines()
    assert "size KiB" in columns and "vs Keras" in header
    assert line.split()[1] == "72.7"  # 74,484 bytes
    assert line.split()[-1] == "1.5e-01"


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_a_damaged_model_file_is_refused_by_hash(bundle_dir, tmp_path, damage):
    bundle = fresh_copy(bundle_dir, tmp_path)
    target = bundle / "model_float32.tflite"
    data = bytearray(target.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[len(data) // 2] ^= 0x40
    else:
        data = bytearray()
    target.write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"model_float32\.tflite"):
        Bundle.open(bundle).load_tflite("float32")
    result = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert result.exit_code == 1
    assert "float32" in result.output and "FAILED" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("artifact", "content"),
    [
        ("float32", "pb"),  # another format, hash updated to match: the manifest is consistent
        ("float32", b"TFL3" + bytes(200)),
        ("pb", b"\x0a\xff\xff\xff junk"),
        ("keras", b"PK\x03\x04 not a zip"),
        ("keras", bytes(100)),
    ],
)
def test_a_file_of_the_wrong_format_is_a_clear_error(bundle_dir, tmp_path, artifact, content):
    from harlite.convert.artifacts import predictor
    from harlite.runtime.model.bundle import sha256_file

    bundle = fresh_copy(bundle_dir, tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    entry = manifest["artifacts"][artifact]
    target = bundle / entry["file"]
    if content == "pb":
        content = (bundle / manifest["artifacts"]["pb"]["file"]).read_bytes()
    target.write_bytes(content)
    entry["size"], entry["sha256"] = len(content), sha256_file(target)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(HarliteError, match=re.escape(entry["file"])):
        predictor(Bundle.open(bundle), artifact)(np.zeros((1, 128, 9), np.float32))
    result = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert result.exit_code == 1 and "FAILED" in result.output
    assert "Traceback" not in result.output


def test_wrong_hash_and_newer_schema_are_clear_errors(bundle_dir, tmp_path):
    bundle = fresh_copy(bundle_dir, tmp_path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["artifacts"]["int8"]["sha256"] = "0" * 64
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"SHA-256 .* does not match"):
        Bundle.open(bundle).checked_file("int8")

    manifest["schema_version"] = 99
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, ["verify", str(bundle)])
    assert result.exit_code == 1 and "schema version 99 is newer" in result.output

    (bundle / "manifest.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        Bundle.open(bundle)
    del manifest["labels"]
    manifest["schema_version"] = 1
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="field 'labels' is missing"):
        Bundle.open(bundle)


def test_an_interrupted_conversion_leaves_the_previous_bundle(
    bundle_dir, tiny_run, small_hapt, tmp_path, monkeypatch
):
    target = fresh_copy(bundle_dir, tmp_path)
    before = (target / "manifest.json").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bundle_writer, "convert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bundle_writer.convert_model(tiny_run, target, small_hapt, log=lambda _: None)
    assert (target / "manifest.json").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    with pytest.raises(KeyboardInterrupt):
        bundle_writer.convert_model(tiny_run, tmp_path / "new", small_hapt, log=lambda _: None)
    assert not (tmp_path / "new").exists()


def test_unknown_format_is_an_error(tiny_run, small_hapt, tmp_path):
    with pytest.raises(HarliteError, match="unknown formats"):
        bundle_writer.convert_model(tiny_run, tmp_path / "x", small_hapt, formats=("tfjs",))


@pytest.mark.parametrize("artifact", ["keras", "pb", "float32", "int8"])
def test_evaluate_any_artifact_of_a_bundle(bundle_dir, small_hapt, artifact):
    result = CliRunner().invoke(
        cli,
        [
            "evaluate",
            str(bundle_dir),
            "--data",
            str(small_hapt),
            "--artifact",
            artifact,
            "--split",
            "val",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["artifact"] == artifact and report["subjects"] == [5]
    recorded = Bundle.open(bundle_dir).artifacts[artifact].val_accuracy
    assert report["accuracy"] == pytest.approx(recorded)


def test_no_lstm_state_leaks_from_one_window_into_the_next(bundle_dir):
    # TFLite's fused LSTM keeps state in variable tensors: each window must start afresh.
    model = Bundle.open(bundle_dir).load_tflite("float32")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 1, 128, 9)).astype(np.float32) * 3
    alone = model.predict(b)
    after_a = model.predict(np.concatenate((a, b)))[1:]
    np.testing.assert_allclose(after_a, alone, atol=1e-6)


def _cell_past_ten_model():
    """One LSTM unit whose cell state climbs to about 100 while channel 0 is +3, then falls
    while it is -3; its logit is its output. Keras never clips the cell state."""
    from harlite.train.tf_setup import keras

    k = keras()
    inputs = k.Input((128, 9), name="window")
    hidden = k.layers.LSTM(1, name="lstm_1")(inputs)
    model = k.Model(inputs, k.layers.Dense(2, name="logits")(hidden))
    kernel = np.zeros((9, 4), np.float32)
    kernel[0, 2] = 1.0  # the candidate g = tanh(x0); the gates i, f, o stay open
    bias = np.array([10.0, 10.0, 0.0, 10.0], np.float32)
    model.get_layer("lstm_1").set_weights([kernel, np.zeros((1, 4), np.float32), bias])
    model.get_layer("logits").set_weights([np.array([[5.0, -5.0]], np.float32), np.zeros(2)])
    return model


def test_float_tflite_follows_keras_when_the_lstm_cell_state_passes_ten():
    # TensorFlow's converter writes cell_clip=10 into fused LSTM ops; the shipped lstm's
    # float32 artefact differed from Keras by 0.15 on windows whose cell state passed 10.
    from harlite.convert.artifacts import softmax
    from harlite.convert.tflite import convert
    from harlite.runtime.model.tflite_model import TFLiteModel

    model = _cell_past_ten_model()
    window = np.zeros((1, 128, 9), np.float32)
    window[0, :100, 0], window[0, 100:, 0] = 3.0, -3.0
    expected = softmax(predict_logits(model, window))
    assert expected[0, 0] > 0.99  # the unclipped cell is still far above zero at the end
    for kind in ("float32", "dynamic"):
        got = TFLiteModel(convert(model, kind)).predict(window)
        np.testing.assert_allclose(got, expected, atol=1e-3, err_msg=kind)


def test_a_bundle_converts_again_from_its_own_keras_model(bundle_dir, small_hapt, tmp_path):
    # how a user makes the .pb that shipped bundles leave out
    result = CliRunner().invoke(
        cli,
        [
            "convert",
            str(bundle_dir),
            "--out",
            str(tmp_path / "pb"),
            "--data",
            str(small_hapt),
            "--formats",
            "pb",
        ],
    )
    assert result.exit_code == 0, result.output
    assert Bundle.open(tmp_path / "pb").artifacts["pb"].keras_agreement == 1.0


def test_int8_is_calibrated_on_every_class_alike(tiny_run, small_hapt, tmp_path, monkeypatch):
    """The windows int8 is calibrated on are spread evenly over the (placement, class)
    groups, not drawn at random (which would give a rare group few or none)."""
    from harlite.train.config import TrainConfig
    from harlite.train.datasets import windows_for_model

    calibrated = []
    real = bundle_writer.convert

    def spy(model, kind, representative=None, **options):
        if kind == "int8":
            calibrated.append(np.asarray(representative))
        return real(model, kind, representative, **options)

    monkeypatch.setattr(bundle_writer, "convert", spy)
    bundle_writer.convert_model(
        tiny_run, tmp_path / "bundle", small_hapt, formats=("int8",), calibration_windows=8
    )
    windows = windows_for_model(small_hapt, TrainConfig.load(tiny_run / "config.json"))
    label = {w.tobytes(): y for w, y in zip(windows.X, windows.y, strict=True)}
    present = np.bincount(windows.y, minlength=6) > 0
    assert present.sum() == 4  # the small data set's four classes, a dozen windows each
    # eight of two dozen windows drawn at random hold two of each class 7% of the time
    classes = [label[w.tobytes()] for w in calibrated[0]]
    assert np.bincount(classes, minlength=6).tolist() == (2 * present).tolist()
