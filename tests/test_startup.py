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


def test_a_stream_with_its_filter_design_cached_imports_no_scipy_signal(tmp_path):
    """``import scipy.signal`` (about a second) is paid once per host and filter design: the
    coefficients are cached and the filters run scipy's compiled kernel alone."""
    env = {**os.environ, "HARLITE_CACHE_DIR": str(tmp_path / "cache")}
    stream = ("stream", "--demo", "--quiet", "--output", str(tmp_path / "demo.jsonl"))
    assert "scipy.signal" in loaded_by(*stream, env=env)  # designs the filters, caches them
    assert (tmp_path / "cache" / "filters.json").is_file()
    loaded = loaded_by(*stream, env=env)
    assert "scipy.signal._sosfilt" in loaded and "scipy.signal" not in loaded
