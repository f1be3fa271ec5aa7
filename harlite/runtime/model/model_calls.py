"""What both model backends (TFLite, ONNX Runtime) do around one model call: split windows
into calls of the model's batch, pad a fixed batch's last call, and refuse broken outputs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harlite.errors import HarliteError


def predict_in_calls(
    invoke: Callable[[np.ndarray], np.ndarray],
    windows: np.ndarray,
    batch: int,
    classes: int,
    fixed_batch: bool,
) -> np.ndarray:
    """Probabilities (n, classes) for ``windows``, ``batch`` windows per ``invoke``; a fixed
    batch's last, shorter call is padded with zeros and the padding's outputs dropped."""
    windows = np.asarray(windows, dtype=np.float32)
    if not len(windows):
        return np.empty((0, classes), np.float32)
    outputs = []
    for start in range(0, len(windows), batch):
        chunk = windows[start : start + batch]
        if fixed_batch and len(chunk) < batch:
            pad = np.zeros((batch - len(chunk), *chunk.shape[1:]), np.float32)
            outputs.append(invoke(np.concatenate((chunk, pad)))[: len(chunk)])
        else:
            outputs.append(invoke(chunk))
    return np.concatenate(outputs)


def finite_outputs(name: str, probabilities: np.ndarray) -> np.ndarray:
    """``probabilities``, or an error naming the artefact when any is NaN or infinite."""
    if not np.isfinite(probabilities).all():
        raise HarliteError(
            f"{name}: the model gave non-finite outputs (NaN or infinity) for a finite window: "
            "the artefact is broken"
        )
    return probabilities
