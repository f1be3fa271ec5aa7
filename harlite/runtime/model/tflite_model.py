"""TFLite interpreter backends: ai-edge-litert, else tflite-runtime, else tensorflow.lite.

``TFLiteModel`` hides the backend and the quantisation: it takes float32 windows in the
model's units and returns float32 class probabilities, whatever the artefact's dtypes.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from harlite.errors import HarliteError
from harlite.quiet import native_output_silenced
from harlite.runtime.model.base import Model, finite_outputs

#: Backends in the order they are tried, with the module that provides each interpreter.
BACKENDS: dict[str, str] = {
    "ai_edge_litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}
#: The distribution that provides each backend, and the harlite extra that installs it.
DISTRIBUTIONS: dict[str, str] = {
    "ai_edge_litert": "ai-edge-litert",
    "tflite_runtime": "tflite-runtime",
    "tensorflow": "tensorflow",
}
EXTRAS: dict[str, str] = {
    "ai_edge_litert": "litert",
    "tflite_runtime": "tflite-runtime",
    "tensorflow": "train",
}
#: The last tflite-runtime release; it was built against numpy 1 and fails with numpy 2.
LAST_TFLITE_RUNTIME = (2, 14)
INSTALL_ADVICE = (
    "install an interpreter: pip install 'harlite[litert]' (64-bit: x86_64, aarch64) or "
    "pip install 'harlite[tflite-runtime]' (32-bit Arm, numpy < 2); `harlite doctor` says "
    "which fits this machine"
)


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (None: not installed)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _release(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(c for c in piece if c.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def backend_problem(name: str) -> str | None:
    """Why backend ``name`` cannot run here although it may import, or None.

    tflite-runtime (≤ 2.14, the last release) was built against numpy 1: with numpy 2 it
    imports, then fails when an interpreter is made, with numpy's explanation lost.
    """
    if name != "tflite_runtime":
        return None
    version = installed_version("tflite-runtime")
    if version is None or _release(version) > LAST_TFLITE_RUNTIME:
        return None
    if _release(np.__version__) >= (2, 0):
        return (
            f"tflite-runtime {version} was built for numpy 1 and cannot run with numpy "
            f"{np.__version__}: pip install 'numpy<2' (or use ai-edge-litert where it has "
            "wheels: pip install 'harlite[litert]')"
        )
    return None


def _load_interpreter(name: str):
    """Backend ``name``'s Interpreter class; raises ImportError with the reason if absent."""
    if name == "tensorflow" and "tensorflow" not in sys.modules:
        # Importing TensorFlow prints C++ start-up lines that no setting after it hides.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        with native_output_silenced():
            module = importlib.import_module(BACKENDS[name])
    else:
        module = importlib.import_module(BACKENDS[name])
    if not hasattr(module, "Interpreter"):  # TensorFlow ≥ 2.20 moved it to LiteRT
        raise ImportError(f"{BACKENDS[name]} has no Interpreter")
    return module.Interpreter


def available_backends() -> list[str]:
    """The backends that can run here, in preference order (importable, and without a
    known incompatibility such as tflite-runtime with numpy 2)."""
    found = []
    for name in BACKENDS:
        if backend_problem(name) is not None:
            continue
        try:
            _load_interpreter(name)
        except Exception:
            continue
        found.append(name)
    return found


def interpreter_class(backend: str | None = None):
    """The Interpreter class of ``backend`` (None: the first that can run here)."""
    names = [backend] if backend else list(BACKENDS)
    errors = []
    for name in names:
        if name not in BACKENDS:
            raise HarliteError(f"unknown backend {name!r}: choose from {', '.join(BACKENDS)}")
        problem = backend_problem(name)
        if problem is not None:
            if backend:
                raise HarliteError(f"backend {name}: {problem}")
            errors.append(f"{name}: {problem}")
            continue
        try:
            return name, _load_interpreter(name)
        except Exception as error:
            if backend or installed_version(DISTRIBUTIONS[name]) is not None:
                errors.append(f"{name}: {error}")
    found = "; ".join(errors) if errors else "none is installed"
    raise HarliteError(f"no TFLite interpreter can run here ({found}); {INSTALL_ADVICE}")


class TFLiteModel(Model):
    """One ``.tflite`` artefact behind a float-in, probabilities-out interface.

    Args:
        model: path to a ``.tflite`` file, or its bytes.
        backend: ``ai_edge_litert``, ``tflite_runtime`` or ``tensorflow`` (None: first found).
        threads: interpreter threads (None: the backend's default).
        input_normalization: (mean, std) per channel applied before the model, for artefacts
            exported to take normalised windows (int8; see the manifest).
    """

    def __init__(
        self,
        model: str | Path | bytes,
        backend: str | None = None,
        threads: int | None = None,
        input_normalization: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        super().__init__("model" if isinstance(model, bytes) else str(model), input_normalization)
        self.backend, interpreter = interpreter_class(backend)
        content = model if isinstance(model, bytes) else Path(model).read_bytes()
        start = time.perf_counter()
        try:
            with native_output_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate"
                self._interpreter = interpreter(model_content=content, num_threads=threads)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            name = "model" if isinstance(model, bytes) else str(model)
            raise HarliteError(
                f"{name}: the {self.backend} interpreter cannot load it: {error}"
            ) from None
        except (SystemError, ImportError, TypeError, AttributeError) as error:
            # a binary interpreter built against another numpy fails here, not at import
            raise HarliteError(
                f"the {self.backend} interpreter cannot start with numpy {np.__version__} "
                f"({type(error).__name__}: {error}); {INSTALL_ADVICE}"
            ) from None
        self.load_seconds = time.perf_counter() - start
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = int(self._input["shape"][0])

    @property
    def fixed_batch(self) -> bool:
        """Always: a batch of another size needs :meth:`resize`."""
        return True

    def op_names(self) -> list[str]:
        """The distinct operator names in the graph (empty where the backend cannot tell)."""
        try:
            details = self._interpreter._get_ops_details()
        except AttributeError:
            return []
        return sorted({d["op_name"] for d in details} - {"DELEGATE"})

    def resize(self, batch: int) -> bool:
        """Try to take ``batch`` windows per invoke; False where the model does not allow it."""
        if batch == self._batch:
            return True
        signature = self._input.get("shape_signature")
        if signature is None or len(signature) == 0 or signature[0] != -1:
            # A static batch (how harlite exports): resizing fails at best, and crashes
            # tflite-runtime 2.14 on the fused LSTM op at worst.
            return False
        shape = list(self._input["shape"])
        shape[0] = batch
        try:
            self._interpreter.resize_tensor_input(self._input["index"], shape, strict=False)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError):
            self._interpreter.resize_tensor_input(
                self._input["index"], [self._batch, *shape[1:]], strict=False
            )
            self._interpreter.allocate_tensors()
            return False
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = batch
        return True

    def invoke(self, windows: np.ndarray) -> np.ndarray:
        """Run exactly one batch (the current batch size) and return probabilities."""
        # TFLite's fused LSTM keeps its state in variable tensors that persist across
        # invokes: without a reset, each window would start from the previous one's state.
        self._interpreter.reset_all_variables()
        self._interpreter.set_tensor(self._input["index"], self._quantize(windows))
        self._interpreter.invoke()
        probabilities = self._dequantize(self._interpreter.get_tensor(self._output["index"]))
        return finite_outputs(self.name, probabilities)

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        x = self.normalised(x)
        dtype = self._input["dtype"]
        if dtype == np.float32:
            return x.astype(np.float32, copy=False)
        scale, zero_point = self._input["quantization"]
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        if self._output["dtype"] == np.float32:
            return y.copy()
        scale, zero_point = self._output["quantization"]
        return ((y.astype(np.float32) - zero_point) * scale).astype(np.float32)
