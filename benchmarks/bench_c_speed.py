"""The exported C forward pass on this host, side by side with TFLite, ONNX Runtime and the floor.

One process, one thread each, batch 1, the same windows, contenders interleaved round by
round (this machine is shared: a round's disturbance hits every contender alike):

- ``c-export default``: ``harlite export c``'s library as its Makefile builds it (its
  ``ARCH`` and ``CFLAGS``: ``-march=native -O3 -fno-trapping-math -ffp-contract=fast``);
- ``c-export -O2``: the same sources with plain ``-O2`` (no vectorising, no fused
  multiply-adds; the Makefile's default before issue 30's speed work);
- ``c-export fast``: the same with ``harlite bench``'s floor flags (``-O3 -march=native
  -ffast-math``);
- ``floor``: ``harlite bench``'s plain C forward pass (``harlite/bench/floor.c``);
- ``tflite float32`` (ai-edge-litert) and ``onnxruntime`` (``model.onnx``), one thread.

The C library is loaded with ctypes and called once per window from Python (about a
microsecond of call overhead is included; the floor times itself in C). Each figure is the
median over rounds of each round's median per call. Writes ``results/c_speed.json`` with
``--save``; ``python tools/figures.py`` shows it in docs/speed.md.

    python benchmarks/bench_c_speed.py --save
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import save  # noqa: E402
from harlite.bench.floor import floor_reference  # noqa: E402
from harlite.bench.measure import sample_windows  # noqa: E402
from harlite.runtime.model.bundle import Bundle  # noqa: E402


def makefile_flags() -> list[str]:
    """The export's Makefile's default ARCH and CFLAGS (one source for the default build)."""
    text = (REPO / "harlite" / "convert" / "c" / "Makefile").read_text().splitlines()
    found = {
        line.split("?=")[0].strip(): line.split("?=", 1)[1].split()
        for line in text
        if line.startswith(("ARCH ?=", "CFLAGS ?="))
    }
    return [*found["ARCH"], *found["CFLAGS"]]


FLAGS = {
    "c-export default": makefile_flags(),
    "c-export -O2": ["-O2"],
    "c-export fast": ["-O3", "-march=native", "-ffast-math"],
}


def c_library(export: Path, flags: list[str], name: str) -> ctypes.CDLL:
    """The export's library as a shared object, compiled with ``flags`` (linked without them,
    as the floor is: -ffast-math at link time would change the whole process's floats)."""
    objects = []
    for source in ("harlite.c", "harlite_ops.c", "harlite_model.c"):
        obj = export / f"{name}-{source}.o"
        subprocess.run(["cc", "-std=c99", *flags, "-fPIC", "-c", export / source, "-o", obj],
                       check=True)  # fmt: skip
        objects.append(obj)
    target = export / f"{name}.so"
    subprocess.run(["cc", "-shared", *objects, "-o", target, "-lm"], check=True)
    library = ctypes.CDLL(str(target))
    floats = ctypes.POINTER(ctypes.c_float)
    library.harlite_classify_window.argtypes = [floats, floats]
    return library


def c_call(library: ctypes.CDLL, classes: int):
    out = np.zeros(classes, np.float32)
    pointer = ctypes.POINTER(ctypes.c_float)

    def call(window: np.ndarray) -> np.ndarray:
        library.harlite_classify_window(window.ctypes.data_as(pointer), out.ctypes.data_as(pointer))
        return out

    return call


def tflite_call(bundle: Bundle):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(str(bundle.path / "model_float32.tflite"), num_threads=1)
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]

    def call(window: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp, window[np.newaxis])
        interpreter.invoke()
        return interpreter.get_tensor(out)[0]

    return call


def onnx_call(bundle: Bundle):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(bundle.path / "model.onnx"), options)
    name = session.get_inputs()[0].name
    return lambda window: session.run(None, {name: window[np.newaxis]})[0][0]


def per_call_ms(call, windows: np.ndarray) -> float:
    times = []
    for window in windows:
        start = time.perf_counter()
        call(window)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", default="lstm")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    from harlite.convert.export_c import export_c

    bundle = Bundle.open(REPO / "harlite" / "models" / args.bundle)
    windows = np.ascontiguousarray(sample_windows(bundle, 64), np.float32)
    contenders = {}
    with tempfile.TemporaryDirectory(prefix="harlite-cspeed-") as tmp:
        export = Path(tmp)
        export_c(bundle.path, export, "float32")
        for name, flags in FLAGS.items():
            contenders[name] = c_call(
                c_library(export, flags, name.split()[-1]), len(bundle.labels)
            )
        contenders["tflite float32"] = tflite_call(bundle)
        contenders["onnxruntime"] = onnx_call(bundle)
        reference = np.stack([contenders["onnxruntime"](w) for w in windows])
        agreement = {}
        for name, call in contenders.items():
            got = np.stack([np.array(call(w)) for w in windows])
            agreement[name] = float(np.abs(got - reference).max())
        rounds: dict[str, list[float]] = {name: [] for name in [*contenders, "floor"]}
        for _ in range(args.rounds):
            for name, call in contenders.items():
                rounds[name].append(per_call_ms(call, windows))
            floor = floor_reference(bundle)
            rounds["floor"].append(floor.forward_ms)
    figures = {
        "bundle": args.bundle,
        "rounds": args.rounds,
        "windows_per_round": len(windows),
        "ms_per_window": {name: statistics.median(v) for name, v in rounds.items()},
        "round_spread_ms": {name: [min(v), max(v)] for name, v in rounds.items()},
        "max_abs_diff_vs_onnxruntime": agreement,
        "floor_compiler": floor.compiler,
        "command": f"python benchmarks/bench_c_speed.py {args.bundle} --save",
    }
    for name, value in figures["ms_per_window"].items():
        print(f"{name:16} {value:.4f} ms  (rounds {figures['round_spread_ms'][name]})")
    if args.save:
        print(f"wrote {save('c_speed', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
