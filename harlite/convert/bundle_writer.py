"""``harlite convert``: a trained model → a verified bundle (``.pb``, TFLite, manifest).

Every artefact is checked against the Keras model on the validation subjects' windows
before the bundle is written, and the figures go into the manifest. The bundle is built in
a temporary folder and moved into place only when complete.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite import __version__
from harlite.atomic import atomic_dir
from harlite.convert.artifacts import softmax
from harlite.convert.freeze import FrozenGraphRunner, freeze
from harlite.convert.tflite import (
    add_labels_metadata,
    convert,
    has_normalization,
    input_normalization,
)
from harlite.convert.training_domain import measure_training_domain
from harlite.errors import HarliteError
from harlite.runtime.model.bundle import MANIFEST, SCHEMA_VERSION, Bundle, sha256_file
from harlite.runtime.model.tflite_model import TFLiteModel
from harlite.runtime.spec import (
    MODEL_CHANNEL_UNITS,
    MODEL_CHANNELS,
    N_MODEL_CHANNELS,
    RAW_CHANNELS,
)
from harlite.train.config import TrainConfig
from harlite.train.datasets import default_val_subjects, test_subjects, windows_for_model
from harlite.train.evaluation import resolve_model, seen_in_training
from harlite.train.models import load_model, predict_logits, save_model_atomic
from harlite.train.trainer import split_windows
from harlite.train.windowset import WindowSet

ALL_FORMATS = ("keras", "pb", "float32", "dynamic", "int8", "float16", "onnx")
DEFAULT_FORMATS = ("keras", "pb", "float32", "dynamic", "int8", "onnx")
REFERENCE = "reference.npz"
REFERENCE_WINDOWS = 32
FILES = {
    "keras": "model.keras",
    "pb": "model.pb",
    "float32": "model_float32.tflite",
    "dynamic": "model_dynamic.tflite",
    "int8": "model_int8.tflite",
    "float16": "model_float16.tflite",
    "onnx": "model.onnx",
}


def _check_formats(formats: tuple[str, ...]) -> None:
    unknown = set(formats) - set(ALL_FORMATS)
    if unknown:
        raise HarliteError(
            f"unknown formats {sorted(unknown)}: choose from {', '.join(ALL_FORMATS)}"
        )


def _parity(probabilities: np.ndarray, reference: np.ndarray, labels: np.ndarray) -> dict:
    predicted = probabilities.argmax(axis=1)
    return {
        "val_accuracy": float((predicted == labels).mean()),
        "keras_agreement": float((predicted == reference.argmax(axis=1)).mean()),
        "max_abs_diff": float(np.abs(probabilities - reference).max()),
    }


def _best_int8(model, calibration, fidelity, unrolled, normalization):
    """Convert to int8 with both TFLite quantizers; keep the one whose decisions agree best
    with the Keras model on training windows (never the evaluation subjects).
    Returns (flatbuffer, quantizer name, its agreement on the training windows)."""
    expected = predict_logits(model, fidelity).argmax(axis=1)
    best = None
    for legacy in (False, True):
        content = convert(model, "int8", calibration, unrolled=unrolled, legacy_quantizer=legacy)
        predicted = TFLiteModel(content, input_normalization=normalization).predict(fidelity)
        agreement = float((predicted.argmax(axis=1) == expected).mean())
        if best is None or agreement > best[2]:
            best = (content, "legacy" if legacy else "mlir", agreement)
    return best


def _tensor_entries(details: list[dict]) -> list[dict[str, Any]]:
    entries = []
    for d in details:
        scale, zero_point = d["quantization"]
        entries.append(
            {
                "name": d["name"],
                "dtype": np.dtype(d["dtype"]).name,
                "shape": [int(x) for x in d["shape"]],
                "quantization": {"scale": float(scale), "zero_point": int(zero_point)}
                if scale
                else None,
            }
        )
    return entries


def _evaluation_windows(
    data_dir: Path, config: TrainConfig, val_subjects: list[int] | None
) -> tuple[WindowSet, WindowSet, bool]:
    """(training windows for calibration, evaluation windows, were those in training?)."""
    windows = windows_for_model(data_dir, config)
    chosen = tuple(
        val_subjects or config.val_subjects or default_val_subjects(data_dir, windows, config.seed)
    )
    train_set, val_set = split_windows(
        windows, config.override(val_subjects=chosen), test_subjects(data_dir)
    )
    tests = test_subjects(data_dir)
    return train_set, val_set, bool(seen_in_training(list(chosen), config, tests))


@dataclass(frozen=True)
class _Conversion:
    """What every artefact of one conversion is made from and measured against."""

    model: Any
    config: TrainConfig
    unrolled: bool
    val_set: WindowSet
    keras_probs: np.ndarray  # the Keras model's probabilities on the validation windows
    calibration: np.ndarray  # training windows for int8 calibration
    fidelity: np.ndarray  # training windows to choose the int8 quantizer on
    labels: list[str]


def convert_model(
    model_path: str | Path,
    out_dir: str | Path,
    data_dir: str | Path,
    *,
    formats: tuple[str, ...] = DEFAULT_FORMATS,
    unrolled: bool = False,
    val_subjects: list[int] | None = None,
    default: str | None = None,
    calibration_windows: int = 500,
    log: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Convert a run dir or ``.keras`` file into a bundle at ``out_dir``; returns the manifest.

    Each artefact is measured against the Keras model on the validation windows; its own
    outputs on a few of them go into ``reference.npz`` for ``harlite verify``.
    """
    _check_formats(formats)
    model_file, config = resolve_model(model_path, log)
    model = load_model(model_file)
    train_set, val_set, seen = _evaluation_windows(Path(data_dir), config, val_subjects)
    rng = np.random.default_rng(0)
    conversion = _prepare(model, config, unrolled, train_set, val_set, calibration_windows, rng)
    reference_idx = rng.choice(len(val_set), min(REFERENCE_WINDOWS, len(val_set)), replace=False)
    artifacts: dict[str, dict[str, Any]] = {}
    recorded: dict[str, np.ndarray] = {}  # each artefact's own outputs on the reference windows
    with atomic_dir(out_dir) as folder:
        for kind in formats:
            start = time.perf_counter()
            entry, probs = _write_artifact(conversion, kind, folder / FILES[kind])
            artifacts[kind] = entry
            recorded[f"probabilities_{kind}"] = probs[reference_idx].astype(np.float32)
            log(
                f"  {kind:<8} {entry['size']:>9,} bytes  val accuracy "
                f"{entry['val_accuracy']:.2%}  agrees with Keras on "
                f"{entry['keras_agreement']:.2%}  ({time.perf_counter() - start:.1f} s)"
            )
        np.savez_compressed(
            folder / REFERENCE,
            windows=val_set.X[reference_idx],
            keras_probabilities=conversion.keras_probs[reference_idx].astype(np.float32),
            labels=val_set.y[reference_idx],
            **recorded,
        )
        manifest = _manifest(config, model, artifacts, val_set, seen, default)
        manifest["training_domain"] = measure_training_domain(data_dir, config).to_dict()
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        Bundle.open(folder)  # the manifest must validate before the bundle is moved into place
    return manifest


def add_formats(
    bundle_dir: str | Path,
    data_dir: str | Path,
    formats: tuple[str, ...],
    *,
    log: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Add artefacts (e.g. ``onnx``) to an existing bundle from its ``model.keras``, measured
    on the windows the bundle's figures came from; the bundle is replaced atomically and its
    other artefacts are left as they are. Returns the new manifest.

    ``data_dir`` must be the data the bundle was converted with: the Keras model's accuracy
    on its validation windows is recomputed and must equal the manifest's figure.
    """
    _check_formats(formats)
    bundle_dir = Path(bundle_dir)
    bundle = Bundle.open(bundle_dir)
    if "keras" not in bundle.artifacts:
        raise HarliteError(f"{bundle_dir}: no keras artefact to convert from")
    conversion = _reconversion(bundle, data_dir)
    with np.load(bundle.reference_windows, allow_pickle=False) as data:
        reference = {key: data[key] for key in data.files}
    manifest = json.loads(json.dumps(bundle.manifest))
    with atomic_dir(bundle_dir) as folder:
        _copy_contents(bundle_dir, folder)
        for kind in formats:
            _add_artifact(conversion, kind, folder, manifest, reference, log)
        np.savez_compressed(folder / REFERENCE, **reference)
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        Bundle.open(folder)
    return manifest


def _reconversion(bundle: Bundle, data_dir: str | Path) -> _Conversion:
    """What the bundle's Keras model is converted from again, on the data it was first
    converted with: its accuracy on those validation windows must equal the manifest's."""
    config = TrainConfig.from_dict(bundle.manifest["model"]["training"])
    config = config.override(labels=tuple(bundle.labels))
    model = load_model(bundle.checked_file("keras"))
    subjects = list(bundle.evaluation["subjects"])
    train_set, val_set, _ = _evaluation_windows(Path(data_dir), config, subjects)
    unrolled = any(a.entry.get("lstm") == "unrolled" for a in bundle.artifacts.values())
    conversion = _prepare(
        model, config, unrolled, train_set, val_set, 500, np.random.default_rng(0)
    )
    keras_accuracy = _parity(conversion.keras_probs, conversion.keras_probs, val_set.y)
    recorded_accuracy = bundle.artifact("keras").val_accuracy
    if recorded_accuracy is None or abs(keras_accuracy["val_accuracy"] - recorded_accuracy) > 1e-9:
        raise HarliteError(
            f"{data_dir}: the Keras model scores {keras_accuracy['val_accuracy']:.4%} on these "
            f"validation windows, the manifest says {recorded_accuracy}: not the data the "
            "bundle was converted with"
        )
    return conversion


def _copy_contents(source: Path, folder: Path) -> None:
    """Every file and folder of ``source`` into ``folder``."""
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, folder / item.name)
        elif item.is_dir():
            shutil.copytree(item, folder / item.name)


def _add_artifact(
    conversion: _Conversion,
    kind: str,
    folder: Path,
    manifest: dict[str, Any],
    reference: dict[str, np.ndarray],
    log: Callable[[str], None],
) -> None:
    """One artefact written into ``folder``, entered in ``manifest``, and its own outputs on
    the reference windows added to ``reference``."""
    entry, _ = _write_artifact(conversion, kind, folder / FILES[kind])
    manifest["artifacts"][kind] = entry
    added = Bundle(folder, manifest)
    own = predictor_for_reference(added, kind, reference["windows"])
    reference[f"probabilities_{kind}"] = own.astype(np.float32)
    log(
        f"  {kind:<8} {entry['size']:>9,} bytes  val accuracy "
        f"{entry['val_accuracy']:.2%}  agrees with Keras on {entry['keras_agreement']:.2%}"
    )


def predictor_for_reference(bundle: Bundle, name: str, windows: np.ndarray) -> np.ndarray:
    """An artefact's own outputs on the reference windows (for ``harlite verify``)."""
    from harlite.convert.artifacts import predictor

    return predictor(bundle, name)(windows)


def _prepare(
    model,
    config: TrainConfig,
    unrolled: bool,
    train_set: WindowSet,
    val_set: WindowSet,
    calibration_windows: int,
    rng: np.random.Generator,
) -> _Conversion:
    """The Keras reference outputs and the training windows to calibrate int8 with and to
    choose its quantizer on: spread over the (placement, class) groups, so that a rare group
    (a pocket's stairs beside thousands of waist windows) is as much in the quantised ranges
    and the choice as a common one, as it weighs in training."""

    def sample(count: int) -> np.ndarray:
        return train_set.X[train_set.spread_sample(count, rng)]

    return _Conversion(
        model=model,
        config=config,
        unrolled=unrolled,
        val_set=val_set,
        keras_probs=softmax(predict_logits(model, val_set.X)),
        calibration=sample(calibration_windows),
        fidelity=sample(1000),
        labels=list(config.labels),
    )


def _write_artifact(
    conversion: _Conversion, kind: str, path: Path
) -> tuple[dict[str, Any], np.ndarray]:
    """Write one artefact; return its manifest entry and its validation probabilities."""
    if kind == "keras":
        save_model_atomic(conversion.model, path)  # loaded without optimizer state: smaller
        entry, probs = {"format": "keras"}, conversion.keras_probs
    elif kind == "pb":
        entry, probs = _write_pb(conversion, path)
    elif kind == "onnx":
        entry, probs = _write_onnx(conversion, path)
    else:
        entry, probs = _write_tflite(conversion, kind, path)
    parity = _parity(probs, conversion.keras_probs, conversion.val_set.y)
    entry = {"file": FILES[kind], **entry, **parity}
    entry.update(size=path.stat().st_size, sha256=sha256_file(path))
    return entry, probs


def _write_pb(conversion: _Conversion, path: Path) -> tuple[dict[str, Any], np.ndarray]:
    window = conversion.config.window
    frozen = freeze(conversion.model, window, N_MODEL_CHANNELS)
    path.write_bytes(frozen.graph_def)
    runner = FrozenGraphRunner(frozen.graph_def, frozen.input_name, frozen.output_name)
    probs = runner.predict(conversion.val_set.X)
    runner.close()
    entry = {
        "format": "tf-graphdef",
        "inputs": [
            {"name": frozen.input_name, "dtype": "float32", "shape": [1, window, N_MODEL_CHANNELS]}
        ],
        "outputs": [
            {
                "name": frozen.output_name,
                "dtype": "float32",
                "shape": [1, len(conversion.labels)],
            }
        ],
        "loop_ops": False,
    }
    return entry, probs


def _write_onnx(conversion: _Conversion, path: Path) -> tuple[dict[str, Any], np.ndarray]:
    from harlite.convert.onnx import OPSET, convert_onnx, tf2onnx_version
    from harlite.runtime.model.onnx_model import OnnxModel, onnxruntime_version

    if onnxruntime_version() is None:
        raise HarliteError(
            "converting to ONNX checks the artefact with ONNX Runtime: "
            "pip install 'harlite[train,onnx]'"
        )
    content = convert_onnx(conversion.model, conversion.config.window, conversion.labels)
    path.write_bytes(content)
    model = OnnxModel(content)
    entry = {
        "format": "onnx",
        "batch": "dynamic",
        "opset": OPSET,
        "converter": f"tf2onnx {tf2onnx_version()}",
        "inputs": [
            {
                "name": model.input_details["name"],
                "dtype": "float32",
                "shape": [-1, conversion.config.window, N_MODEL_CHANNELS],
            }
        ],
        "outputs": [
            {
                "name": model.output_details["name"],
                "dtype": "float32",
                "shape": [-1, len(conversion.labels)],
            }
        ],
    }
    return entry, model.predict(conversion.val_set.X)


def _write_tflite(
    conversion: _Conversion, kind: str, path: Path
) -> tuple[dict[str, Any], np.ndarray]:
    model = conversion.model
    entry: dict[str, Any] = {}
    # int8 takes normalised windows: its one input scale then suits every channel.
    outside = kind == "int8" and has_normalization(model)
    normalization = input_normalization(model) if outside else None
    if outside:
        entry["input_normalization"] = {
            "mean": normalization[0].tolist(),
            "std": normalization[1].tolist(),
            "note": "apply (x - mean) / std per channel before quantising the input",
        }
    if kind == "int8":
        content, entry["quantizer"], entry["train_fidelity"] = _best_int8(
            model, conversion.calibration, conversion.fidelity, conversion.unrolled, normalization
        )
    else:
        content = convert(model, kind, conversion.calibration, unrolled=conversion.unrolled)
    content = add_labels_metadata(content, conversion.labels)
    path.write_bytes(content)
    tflite = TFLiteModel(content, input_normalization=normalization)
    entry.update(
        format="tflite",
        lstm="unrolled" if conversion.unrolled else "fused",
        inputs=_tensor_entries([tflite.input_details]),
        outputs=_tensor_entries([tflite.output_details]),
        ops=tflite.op_names(),
        labels_metadata=True,
    )
    return entry, tflite.predict(conversion.val_set.X)


def _manifest(
    config: TrainConfig, model, artifacts: dict, val_set: WindowSet, seen: bool, default: str | None
) -> dict[str, Any]:
    design = config.design
    normalize = model.get_layer("normalize").get_config() if config.normalize else None
    runnable = [n for n in ("float32", "dynamic", "int8", "float16", "onnx") if n in artifacts]
    default = default or (runnable[0] if runnable else next(iter(artifacts)))
    if default not in artifacts:
        raise HarliteError(f"default artifact {default!r} was not converted")
    return {
        "schema_version": SCHEMA_VERSION,
        "harlite_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": {
            "preset": config.preset,
            "parameters": int(model.count_params()),
            "training": config.to_dict(),
        },
        "labels": list(config.labels),
        "input": {
            "raw_channels": list(RAW_CHANNELS),
            "raw_units": ["g"] * 3 + ["rad/s"] * 3,
            "channels": list(MODEL_CHANNELS),
            "units": list(MODEL_CHANNEL_UNITS),
            "sample_rate_hz": design.sample_rate_hz,
            "window": config.window,
            "hop": config.hop,
            "shape": [1, config.window, N_MODEL_CHANNELS],
            "dtype": "float32",
        },
        "output": {"kind": "probabilities", "shape": [1, len(config.labels)]},
        "preprocessing": {
            "recipe": "causal median(3) + Butterworth low-pass (noise) on all six raw "
            "channels; gravity = Butterworth low-pass of the filtered acceleration; "
            "body_acc = total_acc - gravity; state starts at the first sample's steady state",
            "design": design.to_dict(),
            "noise_sos": design.noise_sos().tolist(),
            "gravity_sos": design.gravity_sos().tolist(),
        },
        "normalization": {
            "where": "inside the model (first layer); feed raw model channels",
            "mean": normalize["mean"],
            "variance": normalize["variance"],
        }
        if normalize
        else {"where": "none"},
        "default_artifact": default,
        "evaluation": {
            "subjects": val_set.subjects,
            "windows": len(val_set),
            "subjects_seen_in_training": seen,
            "reference_windows": REFERENCE,
        },
        "artifacts": artifacts,
    }
