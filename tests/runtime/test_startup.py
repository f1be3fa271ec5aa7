"""Start-up: commands that print help or read manifests import no scipy, TensorFlow, ONNX
Runtime, pandas or interpreter (their time is measured in benchmarks/bench_speed.py, not
here); runtime-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.runtime

HEAVY = {"scipy", "tensorflow", "keras", "tf_keras", "onnxruntime", "pandas", "ai_edge_litert",
         "tflite_runtime", "sklearn", "matplotlib", "aiohttp"}  # fmt: skip
PROBE = """
import atexit, json, sys
def report():
    names = sorted({m.split(".")[0] for m in sys.modules} | set(sys.modules))
    print("LOADED " + json.dumps(names), file=sys.stderr)
atexit.register(report)
sys.argv = ["harlite", *sys.argv[1:]]
from harlite.cli import main
main()
"""


def loaded_by(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages and the modules a harlite command imported."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stderr.splitlines() if x.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED ")))


@pytest.mark.parametrize(
    "args",
    [("--help",), ("--version",), ("models", "list"), ("models", "list", "--json"),
     ("models", "path", "lstm"), ("stream", "--help"), ("bench", "--help"),
     ("convert", "--help"), ("serve", "--help"), ("models", "presets")],
)  # fmt: skip
def test_help_and_manifest_commands_import_nothing_heavy(args):
    loaded = loaded_by(*args)
    assert not loaded & HEAVY, f"{' '.join(args)} imported {sorted(loaded & HEAVY)}"
    if args != ("models", "presets"):  # the presets' module holds numpy code
        assert "numpy" not in loaded


def test_a_stream_imports_no_scipy_signal(tmp_path):
    """``import scipy.signal`` (about a second) is never paid with a bundle: the filters are the
    bundle's own sections, started in closed form, run by scipy's compiled kernel alone."""
    env = {**os.environ, "HARLITE_CACHE_DIR": str(tmp_path / "cache")}  # a fresh host
    loaded = loaded_by(
        "stream", "--demo", "--quiet", "--output", str(tmp_path / "demo.jsonl"), env=env
    )
    assert "scipy.signal._sosfilt" in loaded and "scipy.signal" not in loaded
    assert (tmp_path / "demo.jsonl").stat().st_size > 0


CLASSIFY_A_WINDOW = """
import sys
import numpy as np
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.signal.preprocessing import Preprocessor
from harlite.shipped import model_path
bundle = Bundle.open(model_path("lstm"))
raw = np.tile([0.0, 0.0, 1.0, 0.0, 0.0, 0.0], (bundle.window, 1))
raw += np.random.default_rng(0).normal(scale=0.01, size=raw.shape)
window = Preprocessor(bundle.design).process(raw)[np.newaxis].astype(np.float32)
probabilities = bundle.load_model().predict(window)
assert probabilities.shape == (1, len(bundle.labels)), probabilities.shape
print(sorted(m for m in sys.modules if m.startswith("scipy.signal")))
"""


def test_loading_a_bundle_and_classifying_a_window_imports_no_scipy_signal():
    result = subprocess.run(
        [sys.executable, "-c", CLASSIFY_A_WINDOW], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.replace("'", '"')) == ["scipy.signal._sosfilt"]
