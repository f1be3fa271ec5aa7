"""The forward pass of a Keras model as a plan of C layer calls (``harlite export c``).

The layers harlite's presets use (and what ``harlite train`` builds from them) are planned
into calls of ``harlite/convert/c/harlite_ops.c``: normalisation, Dense (per step or on a
vector; ReLU or linear), LSTM (tanh/sigmoid; ``return_sequences`` or the last step),
Conv1D ('same', stride 1) with its BatchNormalization folded in, ReLU, MaxPooling1D, mean
over time, Add, Concatenate, Dropout (a no-op at inference) and harlite's ReverseTime.
A time reversal is not copied: the tensor is marked reversed and an LSTM reading it runs
backwards, which makes a backward LSTM between two reversals free. A Concatenate's inputs
are written straight into its buffer where nothing else reads them. Intermediate tensors
share one static arena, allocated by liveness. The plan also runs in numpy (:meth:`Plan.run`)
so the export is checked against the Keras model before any C is written
(:mod:`harlite.convert.c_emit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(eq=False)
class Buffer:
    """Rows × width floats; a buffer placed inside a wider one has a ``parent`` and ``col``."""

    rows: int
    width: int
    parent: Buffer | None = None
    col: int = 0
    refs: int = 0  # consumers still to read it
    window: bool = False  # the model's input (the stream core's window), not in the arena

    def root(self) -> tuple[Buffer, int]:
        buffer, col = self, 0
        while buffer.parent is not None:
            buffer, col = buffer.parent, col + buffer.col
        return buffer, col


@dataclass(frozen=True)
class Tensor:
    """A view of a buffer's columns; ``reversed``: its rows are in reverse time order."""

    buf: Buffer
    width: int
    col: int = 0
    reversed: bool = False

    @property
    def rows(self) -> int:
        return self.buf.rows


@dataclass(eq=False)
class Op:
    """One layer call: ``kind`` writes ``out`` from ``inputs``."""

    kind: str
    out: Tensor
    inputs: list[Tensor]
    params: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)


#: Weights stored as int8 with a scale per output column in int8 exports.
QUANTISED = ("W", "Wx", "Wh")


@dataclass
class Plan:
    """The planned forward pass; :meth:`finish` quantises and fixes the arena."""

    ops: list[Op]
    output: Tensor
    int8: bool
    softmax: bool = True
    arena_floats: int = 0
    offsets: dict[int, int] = field(default_factory=dict)
    max_width: int = 1
    max_units: int = 0

    def finish(self) -> None:
        """Quantise (int8 exports), allocate the arena and note the buffers' sizes."""
        self._quantise()
        self._allocate()
        widths = [op.out.width * (4 if op.kind == "lstm" else 1) for op in self.ops]
        self.max_width = max([1, *widths])
        self.max_units = max([0, *(op.out.width for op in self.ops if op.kind == "lstm")])

    def _quantise(self) -> None:
        for op in self.ops:
            for name in QUANTISED:
                if name in op.weights and self.int8:
                    w = op.weights[name].astype(np.float32)
                    columns = w.reshape(-1, w.shape[-1])
                    scale = np.abs(columns).max(axis=0) / 127.0
                    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
                    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
                    op.weights[name], op.weights[f"{name}_scale"] = q, scale

    def _allocate(self) -> None:
        """First fit by liveness: a buffer's floats are free after the last op touching it."""
        span: dict[int, list] = {}
        for i, op in enumerate(self.ops):
            for tensor in (op.out, *op.inputs):
                root, _ = tensor.buf.root()
                if root.window:
                    continue
                first, _, _ = span.setdefault(id(root), [i, i, root])
                span[id(root)][1] = i
        placed: list[tuple[int, int, int]] = []  # offset, size, last op
        for first, last, root in sorted(span.values(), key=lambda s: s[0]):
            live = sorted((o, s) for o, s, end in placed if end >= first)
            size, offset = root.rows * root.width, 0
            for o, s in live:
                if offset + size <= o:
                    break
                offset = max(offset, o + s)
            placed.append((offset, size, last))
            self.offsets[id(root)] = offset
        self.arena_floats = max([1, *(o + s for o, s, _ in placed)])

    def weight(self, op: Op, name: str) -> np.ndarray:
        """A weight as the C code computes with it (int8 times its scale)."""
        w = op.weights[name]
        if w.dtype == np.int8:
            return w.astype(np.float32) * op.weights[f"{name}_scale"]
        return w.astype(np.float32)
