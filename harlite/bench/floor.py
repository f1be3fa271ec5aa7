"""The floor reference of ``harlite bench``: what this machine needs at least for a window.

Three figures, each measured on this host:

- **MACs per window**, counted from the float32 TFLite graph's matrix ops;
- a **plain forward pass** in C (``floor.c``: straightforward loops, ``cc -O3
  -march=native``, batch 1) with the model's own weights read from that graph, checked
  against the artefact's outputs on the reference windows before it is timed;
- the **dependent mat-vec chain**: the recurrent mat-vecs alone (steps × layers of them, each
  waiting for the one before), which no backend can run in parallel.

The forward pass covers stacked-LSTM graphs (optional normalisation, a per-step dense layer
with ReLU, LSTM layers, the last step to a dense layer and softmax); for other graphs only
the MACs (and the chain, where there are LSTMs) are given. Without a C compiler only the
MACs are given. The artefacts' distance from the floor is their p50 over the plain pass.
"""

from __future__ import annotations

import ctypes
import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite.bench.measure import macs_per_window
from harlite.runtime.model.bundle import Bundle, sample_windows

SOURCE = Path(__file__).with_name("floor.c")
#: The flags tried in turn (the first a compiler accepts is used); the digest of the source
#: and flags names the cached library, so a change compiles afresh.
FLAGS = (["-O3", "-march=native", "-ffast-math"], ["-O3", "-ffast-math"], ["-O3"])
#: Largest |Δp| between the plain pass and the float32 artefact for it to count as the
#: model's forward pass.
PARITY = 1e-4
TIMED_PASSES = 500


@dataclass
class FloorReference:
    """The floor figures of one bundle on this host (None where not measured; ``note`` says
    why)."""

    macs: int | None = None
    forward_ms: float | None = None
    chain_ms: float | None = None
    chain_matvecs: int | None = None
    max_abs_diff: float | None = None
    compiler: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StackedLstm:
    """The weights of a stacked-LSTM graph, packed as ``floor.c`` reads them."""

    steps: int
    channels: int
    dense: int
    units: tuple[int, ...]
    classes: int
    weights: np.ndarray  # float32, flat
    recurrent: tuple[np.ndarray, ...]  # per layer, WhT (H, 4H)


def floor_reference(bundle: Bundle, threads: int = 1) -> FloorReference:
    """Measure the floor for ``bundle``'s model on this host (batch 1, one thread)."""
    name = next(
        (n for n, a in bundle.artifacts.items() if a.is_tflite and a.input_normalization is None
         and all(t.get("dtype") == "float32" for t in a.inputs)),
        None,
    )  # fmt: skip
    if name is None:
        return FloorReference(note="no float32 TFLite artefact to read the graph from")
    model = bundle.load_tflite(name, threads=threads)
    floor = FloorReference(macs=macs_per_window(model))
    library, compiler = _compile()
    if library is None:
        floor.note = compiler
        return floor
    floor.compiler = compiler
    graph = stacked_lstm(model)
    if graph is None:
        floor.note = "the plain forward pass covers stacked-LSTM graphs only"
        return floor
    windows = sample_windows(bundle, 32)
    expected = model.predict(windows)
    got = np.stack([_forward(library, graph, w) for w in windows])
    floor.max_abs_diff = float(np.abs(got - expected).max())
    if floor.max_abs_diff > PARITY:
        floor.note = (
            f"the plain forward pass differs from {name} by {floor.max_abs_diff:.2g}: "
            "not this model's computation, not timed"
        )
        return floor
    floor.forward_ms = _median_ms(lambda: _time_forward(library, graph, windows[0]))
    floor.chain_matvecs = graph.steps * len(graph.units)
    floor.chain_ms = _median_ms(lambda: _time_chain(library, graph)) if graph.units else None
    return floor


def stacked_lstm(model) -> StackedLstm | None:
    """The graph's weights if it is a stacked LSTM as ``floor.c`` computes it, else None."""
    interpreter = model._interpreter
    try:
        ops = [op for op in interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
    except AttributeError:
        return None
    names = [op["op_name"] for op in ops]
    tensor = interpreter.get_tensor
    steps, channels = (int(d) for d in model.input_details["shape"][1:3])
    sub, mul = np.zeros(channels, np.float32), np.ones(channels, np.float32)
    if names[:2] == ["SUB", "MUL"]:
        sub = tensor(ops[0]["inputs"][1]).reshape(-1).astype(np.float32)
        mul = tensor(ops[1]["inputs"][1]).reshape(-1).astype(np.float32)
        ops, names = ops[2:], names[2:]
    lstms = [i for i, n in enumerate(names) if n == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    if not lstms or names[0] != "FULLY_CONNECTED" or lstms != list(range(1, 1 + len(lstms))):
        return None
    tail = [n for n in names[1 + len(lstms) :] if n != "STRIDED_SLICE"]
    if tail != ["FULLY_CONNECTED", "SOFTMAX"] or len(sub) != channels:
        return None
    w0, b0 = tensor(ops[0]["inputs"][1]), tensor(ops[0]["inputs"][2])
    parts = [sub, mul, w0.reshape(-1), b0.reshape(-1)]
    units, recurrent = [], []
    for i in lstms:
        inputs = list(ops[i]["inputs"])
        if min(inputs[1:9]) < 0 or min(inputs[12:16]) < 0 or max(inputs[9:12]) >= 0:
            return None  # CIFG, peepholes or projection: not what floor.c computes
        wx = np.concatenate([tensor(j) for j in inputs[1:5]])  # (4H, n), gates i f c o
        wh = np.concatenate([tensor(j) for j in inputs[5:9]])  # (4H, H)
        bias = np.concatenate([tensor(j) for j in inputs[12:16]])
        units.append(wh.shape[1])
        recurrent.append(np.ascontiguousarray(wh.T, np.float32))
        parts += [wx.T.reshape(-1), wh.T.reshape(-1), bias]
    out = next(op for op in ops[1 + len(lstms) :] if op["op_name"] == "FULLY_CONNECTED")
    w_out, b_out = tensor(out["inputs"][1]), tensor(out["inputs"][2])
    parts += [w_out.reshape(-1), b_out.reshape(-1)]
    return StackedLstm(
        steps=steps,
        channels=channels,
        dense=int(w0.shape[0]),
        units=tuple(units),
        classes=int(w_out.shape[0]),
        weights=np.ascontiguousarray(np.concatenate(parts), np.float32),
        recurrent=tuple(recurrent),
    )


def _compile() -> tuple[ctypes.CDLL | None, str]:
    """The compiled ``floor.c`` (cached by source and flags), and the flags used; or None
    and why not."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "no C compiler (cc) here: the plain forward pass is not measured"
    source = SOURCE.read_bytes()
    errors = []
    for flags in FLAGS:
        digest = hashlib.sha256(source + " ".join(flags).encode()).hexdigest()[:16]
        target = Path(tempfile.gettempdir()) / f"harlite-floor-{digest}.so"
        if not target.is_file():
            partial = target.with_suffix(f".{digest}.tmp.so")
            objects = target.with_suffix(f".{digest}.tmp.o")
            # Compiled with the flags, linked without them: linking with -ffast-math adds
            # crtfastmath.o, which flushes subnormals to zero in the whole process that
            # loads the library (and would change every other computation in it).
            steps = [
                [compiler, *flags, "-fPIC", "-c", str(SOURCE), "-o", str(objects)],
                [compiler, "-shared", str(objects), "-o", str(partial), "-lm"],
            ]
            for command in steps:
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    errors.append(result.stderr.strip().splitlines()[-1:] or ["failed"])
                    break
            objects.unlink(missing_ok=True)
            if result.returncode != 0:
                continue
            partial.replace(target)
        library = ctypes.CDLL(str(target))
        _declare(library)
        return library, f"{Path(compiler).name} {' '.join(flags)}"
    return None, f"cannot compile the plain forward pass: {errors}"


def _declare(library: ctypes.CDLL) -> None:
    floats, ints = ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_int)
    c_int = ctypes.c_int
    library.forward.argtypes = [floats, c_int, c_int, c_int, c_int, ints, c_int, floats, floats]
    library.forward.restype = c_int
    library.time_forward.argtypes = [*library.forward.argtypes, c_int]
    library.time_forward.restype = ctypes.c_double
    library.time_chain.argtypes = [floats, c_int, c_int, c_int, floats]
    library.time_chain.restype = ctypes.c_double


def _pointer(array: np.ndarray, kind=ctypes.c_float):
    return array.ctypes.data_as(ctypes.POINTER(kind))


def _arguments(graph: StackedLstm, window: np.ndarray, out: np.ndarray) -> list:
    x = np.ascontiguousarray(window, np.float32)
    units = np.asarray(graph.units, np.int32)
    _arguments.keep = (x, units)  # alive while C reads them
    return [
        _pointer(x), graph.steps, graph.channels, graph.dense, len(graph.units),
        _pointer(units, ctypes.c_int), graph.classes, _pointer(graph.weights), _pointer(out),
    ]  # fmt: skip


def _forward(library, graph: StackedLstm, window: np.ndarray) -> np.ndarray:
    out = np.zeros(graph.classes, np.float32)
    if library.forward(*_arguments(graph, window, out)) != 0:
        raise ValueError("the plain forward pass cannot hold this model's sizes")
    return out


def _time_forward(library, graph: StackedLstm, window: np.ndarray) -> float:
    out = np.zeros(graph.classes, np.float32)
    return library.time_forward(*_arguments(graph, window, out), 1)


def _time_chain(library, graph: StackedLstm) -> float:
    sink = ctypes.c_float(0.0)
    total = 0.0
    for wht in graph.recurrent:
        total += library.time_chain(_pointer(wht), wht.shape[0], graph.steps, 1, ctypes.byref(sink))
    return total


def _median_ms(timed) -> float:
    for _ in range(20):  # warm caches and clocks
        timed()
    return round(float(np.median([timed() for _ in range(TIMED_PASSES)])) * 1000, 5)
