"""Run any artefact of a bundle: Keras and the frozen .pb with TensorFlow, TFLite with the
device runtime's interpreter, ONNX with ONNX Runtime. Each returns class probabilities for
float32 windows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle, BundleError

Predictor = Callable[[np.ndarray], np.ndarray]


class Unavailable(HarliteError):
    """The artefact needs a library that is not installed here (it is skipped, not failed)."""


class NeedsTensorFlow(Unavailable):
    """The artefact can only run where TensorFlow is installed."""


class NeedsOnnxRuntime(Unavailable):
    """The ONNX artefact can only run where ONNX Runtime is installed."""


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def predictor(bundle: Bundle, name: str | None = None, backend: str | None = None) -> Predictor:
    """A function windows (n, 128, 9) → probabilities (n, classes) for one artefact,
    after checking the artefact's hash."""
    artifact = bundle.artifact(name)
    name = artifact.name
    if artifact.is_tflite:
        return bundle.load_tflite(name, backend=backend).predict
    if artifact.is_onnx:  # ``backend`` names a TFLite interpreter: ONNX has its own
        from harlite.runtime.model.onnx_model import INSTALL_ADVICE, onnxruntime_version

        if onnxruntime_version() is None:
            raise NeedsOnnxRuntime(f"artifact {name!r} needs ONNX Runtime: {INSTALL_ADVICE}")
        return bundle.load_model(name, backend="onnxruntime").predict
    path = bundle.checked_file(name)
    try:
        from harlite.train.tf_setup import keras

        keras()
    except HarliteError as error:
        raise NeedsTensorFlow(f"artifact {name!r} needs TensorFlow ({error})") from None
    # A file that passed its hash check can still be of the wrong format (a bundle built
    # wrongly): whatever the parser raises becomes an error naming the file.
    if artifact.format == "tf-graphdef":
        from harlite.convert.freeze import FrozenGraphRunner

        try:
            runner = FrozenGraphRunner(
                path.read_bytes(), artifact.inputs[0]["name"], artifact.outputs[0]["name"]
            )
        except Exception as error:
            raise BundleError(f"{path}: not a loadable frozen graph ({error})") from None
        return runner.predict
    if artifact.format == "keras":
        from harlite.train.models import load_model, predict_logits

        try:
            model = load_model(path)
        except HarliteError:
            raise
        except Exception as error:
            raise BundleError(f"{path}: not a loadable Keras model ({error})") from None
        return lambda windows: softmax(predict_logits(model, windows))
    raise BundleError(f"artifact {name!r}: unknown format {artifact.format!r}")
