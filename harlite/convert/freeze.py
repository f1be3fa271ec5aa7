"""Frozen TensorFlow GraphDef (``.pb``): constants for variables, unrolled static steps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harlite.convert.export import deployable
from harlite.runtime.spec import N_MODEL_CHANNELS, WINDOW_SAMPLES
from harlite.train.tf_setup import tensorflow

#: Op types that mean the graph still holds a loop or control flow.
LOOP_OPS = frozenset(
    {
        "While",
        "StatelessWhile",
        "If",
        "StatelessIf",
        "Enter",
        "Exit",
        "NextIteration",
        "LoopCond",
        "Switch",
        "Merge",
        "TensorListReserve",
        "TensorListFromTensor",
        "TensorListStack",
        "TensorListGetItem",
        "TensorListSetItem",
    }
)


@dataclass(frozen=True)
class FrozenGraph:
    """A serialised GraphDef and the names of its input and output tensors."""

    graph_def: bytes
    input_name: str
    output_name: str


def freeze(model, window: int = WINDOW_SAMPLES, channels: int = N_MODEL_CHANNELS) -> FrozenGraph:
    """Freeze ``model`` (batch 1, unrolled, probabilities out) into a GraphDef."""
    tf = tensorflow()
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    static = deployable(model, unroll=True, batch_size=1)
    spec = tf.TensorSpec((1, window, channels), tf.float32, name="window")
    function = tf.function(lambda window: static(window, training=False))
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(spec))
    graph_def = frozen.graph.as_graph_def()
    op_types = frozenset(node.op for node in graph_def.node)
    loops = op_types & LOOP_OPS
    if loops:
        raise RuntimeError(f"the frozen graph still holds loop ops: {sorted(loops)}")
    return FrozenGraph(
        graph_def=graph_def.SerializeToString(),
        input_name=frozen.inputs[0].name,
        output_name=frozen.outputs[0].name,
    )


class FrozenGraphRunner:
    """Runs a frozen GraphDef with ``tf.compat.v1`` (one session, batch-1 feeds)."""

    def __init__(self, graph_def: bytes, input_name: str, output_name: str) -> None:
        tf = tensorflow()
        definition = tf.compat.v1.GraphDef()
        definition.ParseFromString(graph_def)
        self._graph = tf.Graph()
        with self._graph.as_default():
            tf.compat.v1.import_graph_def(definition, name="")
        self._session = tf.compat.v1.Session(graph=self._graph)
        self._input = self._graph.get_tensor_by_name(input_name)
        self._output = self._graph.get_tensor_by_name(output_name)

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """Probabilities for windows (n, 128, 9), fed one at a time."""
        return (
            np.concatenate(
                [self._session.run(self._output, {self._input: w[None]}) for w in windows]
            )
            if len(windows)
            else np.empty((0, int(self._output.shape[-1])), np.float32)
        )

    def close(self) -> None:
        self._session.close()
