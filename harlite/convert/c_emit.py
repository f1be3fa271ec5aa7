"""A :class:`~harlite.convert.c_graph.Plan` as C source, and each op in numpy (the check)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harlite.convert.c_graph import QUANTISED, Op, Plan, Tensor

#: Output rows per packed block (HL_BLOCK in harlite_ops.h).
BLOCK = 32


def emit_forward(plan: Plan) -> tuple[str, int]:
    """The weights as const arrays and ``harlite_classify_window``; and the weights' bytes."""
    arrays, calls, total = [], [], 0
    for i, op in enumerate(plan.ops):
        for name, w in op.weights.items():
            w = pack(w) if name in QUANTISED else w
            kind = "int8_t" if w.dtype == np.int8 else "float"
            values = ", ".join(str(int(v)) if w.dtype == np.int8 else c_number(v)
                               for v in w.reshape(-1))  # fmt: skip
            arrays.append(f"static const {kind} w{i}_{name}[{w.size}] = {{{values}}};")
            total += w.nbytes
        calls.append("    " + _call(plan, i, op) + ";")
    k = plan.output.width
    out = _pointer(plan, plan.output)
    tail = [f"    memcpy(probabilities, {out}, sizeof(float) * {k});"]
    if plan.softmax:
        tail.append(f"    hl_softmax(probabilities, {k});")
    source = "\n".join([
        "#include <string.h>",
        f"static float hl_arena[{plan.arena_floats}];  /* the model's intermediate tensors */",
        *arrays,
        "",
        "void harlite_classify_window(const float *window, float *probabilities) {",
        *calls,
        *tail,
        "}",
        "",
    ])  # fmt: skip
    return source, total


def pack(w: np.ndarray) -> np.ndarray:
    """A kernel (inputs, outputs), or (taps, inputs, outputs), in harlite_ops.h's packed order:
    per tap, blocks of BLOCK outputs (zero padded), each input's BLOCK weights adjacent."""
    *taps, n, m = w.shape
    blocks = -(-m // BLOCK)
    padded = np.zeros((*taps, n, blocks * BLOCK), w.dtype)
    padded[..., :m] = w
    split = padded.reshape(*taps, n, blocks, BLOCK)
    return np.ascontiguousarray(np.moveaxis(split, -2, -3)).reshape(-1)


def c_number(value: float) -> str:
    """A float as a C hexadecimal literal: exact, whatever the compiler's decimal parsing."""
    text = float(value).hex()
    mantissa, _, exponent = text.partition("p")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}p{exponent}"


def run_plan(plan: Plan, window: np.ndarray) -> np.ndarray:
    """The plan in numpy, float32, on one window (steps, channels): probabilities."""
    memory: dict[int, np.ndarray] = {}

    def view(tensor: Tensor) -> np.ndarray:
        root, col = tensor.buf.root()
        if root.window:
            array = window.astype(np.float32)
        else:
            array = memory.setdefault(id(root), np.zeros((root.rows, root.width), np.float32))
        return array[:, col + tensor.col : col + tensor.col + tensor.width]

    for op in plan.ops:
        run_op(plan, op, view)
    logits = view(plan.output)[0].astype(np.float64)
    if not plan.softmax:
        return logits
    p = np.exp(logits - logits.max())
    return p / p.sum()


def _pointer(plan: Plan, tensor: Tensor) -> str:
    root, col = tensor.buf.root()
    if root.window:
        return f"(window + {col + tensor.col})"
    return f"(hl_arena + {plan.offsets[id(root)] + col + tensor.col})"


def _ld(tensor: Tensor) -> int:
    return tensor.buf.root()[0].width


def _scale(op: Op, i: int, name: str) -> str:
    return f"w{i}_{name}_scale" if f"{name}_scale" in op.weights else "0"


def _call(plan: Plan, i: int, op: Op) -> str:
    y, x = op.out, op.inputs[0]
    yx = f"{_pointer(plan, y)}, {_ld(y)}, {_pointer(plan, x)}, {_ld(x)}"
    p = op.params
    if op.kind == "normalize":
        return f"hl_normalize({yx}, {x.rows}, {x.width}, w{i}_sub, w{i}_mul)"
    if op.kind == "dense":
        return (f"hl_dense({yx}, {x.rows}, {x.width}, {y.width}, w{i}_W, {_scale(op, i, 'W')}, "
                f"w{i}_b, {p['relu']})")  # fmt: skip
    if op.kind == "lstm":
        return (
            f"hl_lstm({yx}, {x.rows}, {x.width}, {y.width}, w{i}_Wx, {_scale(op, i, 'Wx')}, "
            f"w{i}_Wh, {_scale(op, i, 'Wh')}, w{i}_b, {p['reverse']}, {p['sequences']})"
        )
    if op.kind == "conv":
        return (f"hl_conv1d({yx}, {x.rows}, {x.width}, {y.width}, {p['k']}, w{i}_W, "
                f"{_scale(op, i, 'W')}, w{i}_b, {p['relu']})")  # fmt: skip
    if op.kind == "maxpool":
        return f"hl_maxpool({yx}, {x.rows}, {x.width}, {p['pool']})"
    if op.kind == "mean":
        return (
            f"hl_mean_time({_pointer(plan, y)}, {_pointer(plan, x)}, {_ld(x)}, {x.rows}, {x.width})"
        )
    if op.kind == "add":
        b = op.inputs[1]
        return f"hl_add({yx}, {_pointer(plan, b)}, {_ld(b)}, {x.rows}, {x.width})"
    if op.kind == "copy":
        return f"hl_copy({yx}, {x.rows}, {x.width}, {p['reverse']})"
    if op.kind == "relu":
        return f"hl_relu({_pointer(plan, y)}, {_ld(y)}, {y.rows}, {y.width})"
    raise ValueError(f"unknown op {op.kind}")


def run_op(plan: Plan, op: Op, view: Callable[[Tensor], np.ndarray]) -> None:
    """One op in numpy, float32, writing its output view."""
    y, x = view(op.out), view(op.inputs[0])
    p, w = op.params, (lambda name: plan.weight(op, name))
    if op.kind == "normalize":
        y[:] = (x - w("sub")) * w("mul")
    elif op.kind in ("dense", "conv"):
        if op.kind == "dense":
            out = x @ w("W") + w("b")
        else:
            k, pad = p["k"], (p["k"] - 1) // 2
            padded = np.pad(x, ((pad, k - 1 - pad), (0, 0)))
            out = w("b") + sum(padded[d : d + len(x)] @ w("W")[d] for d in range(k))
        y[:] = np.maximum(out, 0) if p["relu"] else out
    elif op.kind == "lstm":
        y[:] = _lstm(x, w("Wx"), w("Wh"), w("b"), p["reverse"], p["sequences"])
    elif op.kind == "maxpool":
        pool = p["pool"]
        y[:] = x[: len(x) // pool * pool].reshape(len(x) // pool, pool, -1).max(axis=1)
    elif op.kind == "mean":
        y[:] = x.mean(axis=0, keepdims=True)
    elif op.kind == "add":
        y[:] = x + view(op.inputs[1])
    elif op.kind == "copy":
        y[:] = x[::-1] if p["reverse"] else x
    elif op.kind == "relu":
        y[:] = np.maximum(x, 0)


def _lstm(x, wx, wh, b, reverse: int, sequences: int) -> np.ndarray:
    units = wh.shape[0]
    h = np.zeros(units, np.float32)
    c = np.zeros(units, np.float32)
    out = np.zeros((len(x), units), np.float32)
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    for s in range(len(x)):
        t = len(x) - 1 - s if reverse else s
        g = b + x[t] @ wx + h @ wh
        i, f = sigmoid(g[:units]), sigmoid(g[units : 2 * units])
        u, o = np.tanh(g[2 * units : 3 * units]), sigmoid(g[3 * units :])
        c = f * c + i * u
        h = o * np.tanh(c)
        out[t] = h
    return out if sequences else h[np.newaxis]
