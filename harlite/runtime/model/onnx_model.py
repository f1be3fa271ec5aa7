"""ONNX Runtime behind the same float-in, probabilities-out interface as :class:`TFLiteModel`.

harlite's ONNX artefacts (``harlite convert --formats onnx``) take any number of windows per
call (a dynamic batch), so files are classified many windows at a time. ONNX Runtime is an
optional extra (``pip install 'harlite[onnx]'``); TFLite stays the format for phones and
microcontroller-class devices.
"""

from __future__ import annotations

import importlib
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.model.base import Model, finite_outputs
from harlite.runtime.spec import FILE_BATCH_SIZE

BACKEND = "onnxruntime"
DISTRIBUTION = "onnxruntime"
INSTALL_ADVICE = "pip install 'harlite[onnx]'"


def onnxruntime_version() -> str | None:
    """The installed ONNX Runtime version, or None."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def load_onnxruntime():
    """The ``onnxruntime`` module; a clear error when the extra is not installed."""
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as error:
        raise HarliteError(
            f"the onnxruntime backend is not installed ({error}): {INSTALL_ADVICE}"
        ) from None


class OnnxModel(Model):
    """One ``.onnx`` artefact run by ONNX Runtime's CPU provider.

    Args:
        model: path to a ``.onnx`` file, or its bytes.
        threads: intra-op threads (None: ONNX Runtime's default, every core).
        input_normalization: (mean, std) per channel applied before the model, for artefacts
            that take normalised windows (see the manifest).
    """

    backend = BACKEND

    def __init__(
        self,
        model: str | Path | bytes,
        threads: int | None = None,
        input_normalization: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        ort = load_onnxruntime()
        super().__init__("model" if isinstance(model, bytes) else str(model), input_normalization)
        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # no warnings about unused initialisers on stderr
        content = model if isinstance(model, bytes) else Path(model).read_bytes()
        start = time.perf_counter()
        try:
            self._session = ort.InferenceSession(
                content, options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # ONNX Runtime raises its own exception types
            raise HarliteError(
                f"{self.name}: ONNX Runtime cannot load it: {str(error)[:300]}"
            ) from None
        self.load_seconds = time.perf_counter() - start
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise HarliteError(
                f"{self.name}: expected one input and one output, found {len(inputs)} and "
                f"{len(outputs)}"
            )
        self._input_name = inputs[0].name
        self._output_name = outputs[0].name
        self._input = _details(inputs[0])
        self._output = _details(outputs[0])
        self._batch = FILE_BATCH_SIZE if self.dynamic_batch else int(self._input["shape"][0])

    @property
    def dynamic_batch(self) -> bool:
        """Whether the model takes any number of windows per call."""
        return int(self._input["shape_signature"][0]) == -1

    @property
    def fixed_batch(self) -> bool:
        """When the model's batch is fixed (it takes any number of windows otherwise)."""
        return not self.dynamic_batch

    def resize(self, batch: int) -> bool:
        """Take up to ``batch`` windows per call; False where the model's batch is fixed."""
        if not self.dynamic_batch:
            return batch == self._batch
        self._batch = batch
        return True

    def invoke(self, windows: np.ndarray) -> np.ndarray:
        """Run one call on ``windows`` (n, window, channels) and return probabilities."""
        x = self.normalised(np.ascontiguousarray(windows, dtype=np.float32))
        probabilities = self._session.run([self._output_name], {self._input_name: x})[0]
        return finite_outputs(self.name, np.asarray(probabilities, dtype=np.float32))


def _details(arg) -> dict[str, Any]:
    """An ONNX Runtime input/output as TFLite's details dict (name, shape, dtype)."""
    signature = [d if isinstance(d, int) else -1 for d in arg.shape]
    return {
        "name": arg.name,
        "shape": np.array([d if d > 0 else 1 for d in signature], np.int32),
        "shape_signature": np.array(signature, np.int32),
        "dtype": np.float32 if arg.type == "tensor(float)" else np.dtype(object),
        "quantization": (0.0, 0),
    }
