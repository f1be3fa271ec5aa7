"""The model family: :class:`Model`, the base both backends (TFLite, ONNX Runtime) share,
and what they do around one model call: normalise the input, split windows into calls of the
model's batch, pad a fixed batch's last call, and refuse broken outputs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

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


class Model(ABC):
    """One model artefact behind a float-in, probabilities-out interface.

    A backend sets ``backend``, ``name``, ``load_seconds``, the tensor descriptions
    ``_input``/``_output`` (TFLite's details dicts) and ``_batch`` (windows per call), and
    implements :meth:`invoke`, :meth:`resize` and :attr:`fixed_batch`; :meth:`predict` runs any
    number of windows through it.
    """

    backend: str
    name: str
    load_seconds: float
    _input: dict[str, Any]
    _output: dict[str, Any]
    _batch: int

    def __init__(self, name: str, input_normalization: Any = None) -> None:
        self.name = name
        self._normalization = None
        if input_normalization is not None:
            mean, std = (np.asarray(a, np.float32) for a in input_normalization)
            self._normalization = (mean, np.float32(1.0) / std)

    @property
    def input_details(self) -> dict[str, Any]:
        """The input tensor, described as TFLite describes it."""
        return self._input

    @property
    def output_details(self) -> dict[str, Any]:
        """The output tensor, described as TFLite describes it."""
        return self._output

    @property
    @abstractmethod
    def fixed_batch(self) -> bool:
        """Whether every call takes exactly the current batch of windows."""

    def op_names(self) -> list[str]:
        """The distinct operator names in the graph (empty where the backend cannot tell)."""
        return []

    @abstractmethod
    def resize(self, batch: int) -> bool:
        """Try to take ``batch`` windows per call; False where the model does not allow it."""

    @abstractmethod
    def invoke(self, windows: np.ndarray) -> np.ndarray:
        """Run one call and return probabilities."""

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) for windows (n, window, channels), in calls of the batch."""
        classes = int(self._output["shape"][-1])
        return predict_in_calls(self.invoke, windows, self._batch, classes, self.fixed_batch)

    def normalised(self, windows: np.ndarray) -> np.ndarray:
        """``windows`` as the artefact takes them: normalised per channel where its manifest
        says it takes normalised windows."""
        if self._normalization is None:
            return windows
        mean, inverse_std = self._normalization
        return (windows - mean) * inverse_std
