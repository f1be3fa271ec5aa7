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


def deployable(model, *, unroll: bool, batch_size: int | None = 1):
    """A copy of ``model`` with a static ``[batch_size, 128, 9]`` input, recurrent layers
    unrolled (128 static steps, no loop ops) or looped (TFLite's fused LSTM op), and a softmax
    so that it outputs class probabilities. Weights are copied, so outputs equal the original's.
    """
    k = keras()
    config = copy.deepcopy(model.get_config())
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = layer["config"]["batch_input_shape"]
            layer["config"]["batch_input_shape"] = (batch_size, *shape[1:])
        _set_unroll(layer, unroll)
    clone = k.Model.from_config(config)
    clone.set_weights(model.get_weights())
    probabilities = k.layers.Softmax(name="probabilities")(clone.output)
    return k.Model(clone.input, probabilities, name=f"{model.name}_deploy")
