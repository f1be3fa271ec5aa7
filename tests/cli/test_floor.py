"""harlite.bench.floor: the plain C forward pass is the model's own computation, and the
floor figures are measured (runtime-only; needs a C compiler, skipped without one)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from harlite.bench.floor import _compile, _forward, floor_reference, stacked_lstm
from harlite.bench.measure import sample_windows
from harlite.runtime.model.bundle import Bundle
from harlite.shipped import model_path

pytestmark = [
    pytest.mark.runtime,
    pytest.mark.skipif(
        not (shutil.which("cc") or shutil.which("gcc")), reason="no C compiler here"
    ),
]


def test_the_plain_forward_pass_reproduces_the_lstm():
    bundle = Bundle.open(model_path("lstm"))
    model = bundle.load_tflite("float32")
    graph = stacked_lstm(model)
    assert graph is not None
    assert (graph.steps, graph.channels, graph.dense, graph.units, graph.classes) == (
        128, 9, 32, (32, 32), 6)  # fmt: skip
    library, _ = _compile()
    windows = sample_windows(bundle, 16)
    got = np.stack([_forward(library, graph, w) for w in windows])
    np.testing.assert_allclose(got, model.predict(windows), atol=1e-4)
    # with other weights it is another model: the check that guards the timing can fail
    broken = graph.weights.copy()
    broken[-1] += 5.0  # the last class's bias
    other = type(graph)(**{**graph.__dict__, "weights": broken})
    assert np.abs(np.stack([_forward(library, other, w) for w in windows]) - got).max() > 1e-3


def test_loading_the_plain_pass_keeps_subnormal_numbers():
    """Built with -ffast-math, the library must not flush subnormals process-wide (a
    library linked with -ffast-math does, through crtfastmath.o, when it is loaded)."""
    _compile()
    tiny = float(np.finfo(np.float64).smallest_subnormal)
    assert tiny * 1.0 > 0.0 and np.float32(1e-45) * np.float32(1.0) > 0


def test_the_floor_of_the_lstm_is_measured():
    floor = floor_reference(Bundle.open(model_path("lstm")))
    assert floor.note == ""
    assert floor.macs == 128 * 9 * 32 + 2 * 128 * 4 * 32 * 64 + 32 * 6
    assert floor.max_abs_diff < 1e-4
    assert floor.chain_matvecs == 256
    assert 0 < floor.chain_ms < floor.forward_ms


def test_a_graph_that_is_not_a_stacked_lstm_gets_its_macs_only():
    floor = floor_reference(Bundle.open(model_path("cnn")))
    assert floor.macs > 1_000_000 and floor.forward_ms is None
    assert "stacked-LSTM graphs only" in floor.note
