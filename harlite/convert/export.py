"""Deployable copies of a trained Keras model: batch 1, static shapes, probabilities out."""

from __future__ import annotations

import copy
from typing import Any

from harlite.train.tf_setup import keras


def _set_unroll(layer_config: dict[str, Any], unroll: bool) -> None:
    """Set ``unroll`` on a recurrent layer config, looking inside wrappers (Bidirectional)."""
    config = layer_config.get("config", {})
    if "unroll" in config:
        config["unroll"] = unroll
    for key in ("layer", "backward_layer"):
        if isinstance(config.get(key), dict):
            _set_unroll(config[key], unroll)


def _drop_layer(config: dict[str, Any], name: str) -> None:
    """Remove single-input layer ``name`` from a functional config, feeding its consumers
    with its own input instead."""
    layer = next(x for x in config["layers"] if x["name"] == name)
    source = layer["inbound_nodes"][0][0][0]
    config["layers"].remove(layer)

    def rewire(nodes):
        if isinstance(nodes, list):
            if len(nodes) >= 3 and nodes[0] == name and isinstance(nodes[1], int):
                nodes[0] = source
            for item in nodes:
                rewire(item)

    for other in config["layers"]:
        rewire(other["inbound_nodes"])
    rewire(config["output_layers"])


def deployable(model, *, unroll: bool, batch_size: int | None = 1, keep_normalization: bool = True):
    """A copy of ``model`` with a static ``[batch_size, 128, 9]`` input, recurrent layers
    unrolled (128 static steps, no loop ops) or looped (TFLite's fused LSTM op), and a softmax
    so that it outputs class probabilities. Weights are copied, so outputs equal the original's.

    ``keep_normalization=False`` drops the input normalisation layer: the copy then takes
    normalised windows (for int8 models, whose single input scale would otherwise crush the
    small-amplitude channels; the runtime normalises from the manifest instead).
    """
    k = keras()
    config = copy.deepcopy(model.get_config())
    if not keep_normalization and any(x["name"] == "normalize" for x in config["layers"]):
        _drop_layer(config, "normalize")
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"]["batch_input_shape"]
            layer["config"]["batch_input_shape"] = (batch_size, *shape[1:])
        _set_unroll(layer, unroll)
    clone = k.Model.from_config(config)
    clone.set_weights(model.get_weights())
    probabilities = k.layers.Softmax(name="probabilities")(clone.output)
    return k.Model(clone.input, probabilities, name=f"{model.name}_deploy")
