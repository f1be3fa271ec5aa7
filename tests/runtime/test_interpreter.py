"""harlite.runtime.model.tflite_model: backends, probabilities out whatever the artefact's dtypes,
no LSTM state carried between windows, static-batch models left unresized (runtime-only)."""

from __future__ import annotations

import numpy as np
import pytest

from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.model.tflite_model import BACKENDS, TFLiteModel, available_backends
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

BUNDLE = Bundle.open(model_path("lstm"))


def test_at_least_one_backend_is_available_and_known():
    found = available_backends()
    assert found and set(found) <= set(BACKENDS)


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(HarliteError, match="unknown backend 'nope'"):
        TFLiteModel(BUNDLE.checked_file("float32"), backend="nope")


@pytest.mark.parametrize("artifact", ["float32", "dynamic", "int8"])
def test_every_artifact_gives_probabilities(artifact):
    model = BUNDLE.load_tflite(artifact)
    windows = np.random.default_rng(0).standard_normal((3, 128, 9)).astype(np.float32)
    probabilities = model.predict(windows)
    assert probabilities.shape == (3, len(BUNDLE.labels)) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=0.02)


def test_each_window_starts_from_a_fresh_lstm_state():
    model = BUNDLE.load_tflite("float32")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 1, 128, 9)).astype(np.float32) * 3
    np.testing.assert_allclose(
        model.predict(np.concatenate((a, b)))[1:], model.predict(b), atol=1e-6
    )


def test_a_static_batch_model_is_not_resized():
    model = BUNDLE.load_tflite("float32")
    assert model.resize(1) and not model.resize(16)
    assert model.predict(np.zeros((5, 128, 9), np.float32)).shape == (5, 6)


def test_no_windows_give_no_rows():
    assert BUNDLE.load_tflite("float32").predict(np.zeros((0, 128, 9))).shape == (0, 6)


def test_bytes_that_are_not_a_model_are_a_clear_error():
    with pytest.raises(HarliteError, match="cannot load it"):
        TFLiteModel(b"not a flatbuffer at all" * 10)
