"""Keras layers to planned C calls (see :mod:`harlite.convert.c_graph`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from harlite.convert.c_graph import Buffer, Op, Plan, Tensor
from harlite.errors import HarliteError

#: tf-keras' backend epsilon, the floor of the Normalization layer's standard deviation.
NORMALIZATION_EPSILON = 1e-7
#: Layers that pass their input on at inference.
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "Activation")


class LayerPlanner:
    """Walks a functional model's layers in order and records :class:`Op` calls."""

    def __init__(self, model, consumers: Counter[str]) -> None:
        self.model = model
        self.consumers = consumers
        self.tensors: dict[str, Tensor] = {}
        self.producer: dict[int, Op] = {}  # id(buffer) -> the op that wrote it
        self.ops: list[Op] = []
        self.softmax = True

    def add(self, layer: dict[str, Any], inbound: list[str]) -> None:
        kind, name = layer["class_name"], layer["name"]
        inputs = [self.tensors[n] for n in inbound]
        for tensor in inputs:
            tensor.buf.refs -= 1
        handler = getattr(self, f"_{kind}", None)
        if kind in PASS_THROUGH and (kind != "Activation" or _act(layer) == "linear"):
            out = inputs[0]
        elif kind == "Activation" and _act(layer) == "relu":
            out = self._ReLU(layer, inputs)
        elif handler is None:
            raise HarliteError(f"layer {name!r} ({kind}) is not supported by harlite export c")
        else:
            out = handler(layer, inputs)
        out.buf.refs += self.consumers[name]
        self.tensors[name] = out

    def plan(self, output: str, int8: bool) -> Plan:
        out = self.tensors[output]
        if out.rows != 1:
            raise HarliteError("the model's output must be one vector per window")
        return Plan(self.ops, out, int8=int8, softmax=self.softmax)

    def _weights(self, layer: dict[str, Any]) -> list[np.ndarray]:
        return [
            np.asarray(w, np.float32) for w in self.model.get_layer(layer["name"]).get_weights()
        ]

    def _new(self, rows: int, width: int) -> Tensor:
        return Tensor(Buffer(rows, width), width)

    def _record(self, op: Op) -> Tensor:
        self.ops.append(op)
        self.producer[id(op.out.buf)] = op
        return op.out

    def _physical(self, tensor: Tensor) -> Tensor:
        """The tensor in time order (a reversed one copied back)."""
        if not tensor.reversed:
            return tensor
        return self._record(Op("copy", self._new(tensor.rows, tensor.width), [tensor],
                               {"reverse": 1}))  # fmt: skip

    def _fusable(self, tensor: Tensor, kinds: tuple[str, ...]) -> Op | None:
        """The op that wrote ``tensor`` if nothing else reads it and it is one of ``kinds``."""
        op = self.producer.get(id(tensor.buf))
        if op is None or op.kind not in kinds or tensor.buf.refs != 0 or op.out != tensor:
            return None
        return op

    def _InputLayer(self, layer, inputs) -> Tensor:
        shape = layer["config"].get("batch_input_shape") or layer["config"].get("batch_shape")
        if shape is None or len(shape) != 3:
            raise HarliteError("the model's input must be (steps, channels) windows")
        return Tensor(Buffer(int(shape[1]), int(shape[2]), window=True), int(shape[2]))

    def _Normalization(self, layer, inputs) -> Tensor:
        keras_layer = self.model.get_layer(layer["name"])
        x = inputs[0]
        mean = np.asarray(keras_layer.mean, np.float32).reshape(-1)
        std = np.sqrt(np.asarray(keras_layer.variance, np.float32).reshape(-1))
        mul = (1.0 / np.maximum(std, np.float32(NORMALIZATION_EPSILON))).astype(np.float32)
        if len(mean) != x.width:
            raise HarliteError(f"layer {layer['name']!r}: normalises another axis than channels")
        out = self._new(x.rows, x.width)
        return self._record(Op("normalize", _like(out, x), [x], weights={"sub": mean, "mul": mul}))

    def _Dense(self, layer, inputs) -> Tensor:
        config, x = layer["config"], inputs[0]
        weights = self._weights(layer)
        kernel = weights[0]
        bias = weights[1] if config.get("use_bias", True) else np.zeros(kernel.shape[1], np.float32)
        activation = _act(layer)
        if activation == "softmax" and self.consumers[layer["name"]] == 0:
            activation, self.softmax = "linear", True
        elif activation not in ("relu", "linear"):
            raise HarliteError(f"layer {layer['name']!r}: activation {activation!r} unsupported")
        out = _like(self._new(x.rows, kernel.shape[1]), x)
        params = {"relu": int(activation == "relu")}
        return self._record(Op("dense", out, [x], params, {"W": kernel, "b": bias}))

    def _LSTM(self, layer, inputs) -> Tensor:
        config, x = layer["config"], inputs[0]
        if (
            config.get("activation") != "tanh"
            or config.get("recurrent_activation") != "sigmoid"
            or config.get("go_backwards")
            or config.get("return_state")
            or config.get("stateful")
            or not config.get("use_bias", True)
        ):
            raise HarliteError(f"layer {layer['name']!r}: only plain tanh/sigmoid LSTMs export")
        kernel, recurrent, bias = self._weights(layer)
        units = recurrent.shape[0]
        sequences = bool(config.get("return_sequences"))
        out = Tensor(Buffer(x.rows if sequences else 1, units), units,
                     reversed=x.reversed and sequences)  # fmt: skip
        params = {"reverse": int(x.reversed), "sequences": int(sequences)}
        weights = {"Wx": kernel, "Wh": recurrent, "b": bias}
        return self._record(Op("lstm", out, [x], params, weights))

    def _ReverseTime(self, layer, inputs) -> Tensor:
        x = inputs[0]
        return Tensor(x.buf, x.width, x.col, not x.reversed)

    def _Concatenate(self, layer, inputs) -> Tensor:
        if layer["config"].get("axis", -1) not in (-1, 2):
            raise HarliteError(f"layer {layer['name']!r}: only channels are concatenated")
        rows = inputs[0].rows
        out = self._new(rows, sum(t.width for t in inputs))
        col = 0
        for x in inputs:
            part = Tensor(out.buf, x.width, col)
            buffer = x.buf
            if (
                not x.reversed
                and buffer.refs == 0
                and buffer.parent is None
                and not buffer.window
                and x.col == 0
                and x.width == buffer.width
                and id(buffer) in self.producer
            ):
                buffer.parent, buffer.col = out.buf, col  # written in place by its producer
            else:
                self._record(Op("copy", part, [x], {"reverse": int(x.reversed)}))
            col += x.width
        return out

    def _Add(self, layer, inputs) -> Tensor:
        a, b = inputs[0], inputs[1]
        if len(inputs) != 2:
            raise HarliteError(f"layer {layer['name']!r}: Add of two tensors only")
        if a.reversed != b.reversed:
            a, b = self._physical(a), self._physical(b)
        in_place = a.buf.refs == 0 and not a.buf.window
        out = a if in_place else _like(self._new(a.rows, a.width), a)
        self.ops.append(Op("add", out, [a, b]))
        return out

    def _GlobalAveragePooling1D(self, layer, inputs) -> Tensor:
        x = inputs[0]
        return self._record(Op("mean", self._new(1, x.width), [x]))

    def _Conv1D(self, layer, inputs) -> Tensor:
        config, x = layer["config"], self._physical(inputs[0])
        weights = self._weights(layer)
        kernel = weights[0]
        if (
            tuple(config.get("strides", (1,))) != (1,)
            or tuple(config.get("dilation_rate", (1,))) != (1,)
            or config.get("padding") != "same"
            or config.get("groups", 1) != 1
            or kernel.shape[0] % 2 == 0
            or _act(layer) not in ("relu", "linear")
        ):
            raise HarliteError(
                f"layer {layer['name']!r}: only 'same', stride-1, odd Conv1D exports"
            )
        bias = weights[1] if config.get("use_bias", True) else np.zeros(kernel.shape[2], np.float32)
        out = self._new(x.rows, kernel.shape[2])
        params = {"relu": int(_act(layer) == "relu"), "k": kernel.shape[0]}
        return self._record(Op("conv", out, [x], params, {"W": kernel, "b": bias}))

    def _BatchNormalization(self, layer, inputs) -> Tensor:
        op = self._fusable(inputs[0], ("conv", "dense"))
        if op is None or op.params.get("relu"):
            raise HarliteError(f"layer {layer['name']!r}: BatchNormalization only after a Conv1D")
        config = layer["config"]
        gamma, beta, mean, variance = _batch_norm_weights(self._weights(layer), config)
        scale = (gamma / np.sqrt(variance + np.float32(config.get("epsilon", 1e-3)))).astype(
            np.float32
        )
        op.weights["W"] = (op.weights["W"] * scale).astype(np.float32)
        op.weights["b"] = ((op.weights["b"] - mean) * scale + beta).astype(np.float32)
        return inputs[0]

    def _ReLU(self, layer, inputs) -> Tensor:
        config = layer["config"]
        if (
            config.get("max_value") is not None
            or config.get("negative_slope", 0)
            or config.get("threshold", 0)
        ):
            raise HarliteError(f"layer {layer['name']!r}: only a plain ReLU exports")
        op = self._fusable(inputs[0], ("conv", "dense"))
        if op is not None:
            op.params["relu"] = 1
            return inputs[0]
        x = inputs[0]
        out = x if x.buf.refs == 0 and not x.buf.window else _like(self._new(x.rows, x.width), x)
        if out is not x:
            self._record(Op("copy", out, [x], {"reverse": 0}))
        self.ops.append(Op("relu", out, [out]))
        return out

    def _MaxPooling1D(self, layer, inputs) -> Tensor:
        config, x = layer["config"], self._physical(inputs[0])
        pool = int(config["pool_size"][0] if isinstance(config["pool_size"], list | tuple)
                   else config["pool_size"])  # fmt: skip
        strides = config.get("strides") or pool
        strides = int(strides[0] if isinstance(strides, list | tuple) else strides)
        if strides != pool or config.get("padding", "valid") != "valid":
            raise HarliteError(f"layer {layer['name']!r}: only 'valid' pooling by its size exports")
        out = self._new(x.rows // pool, x.width)
        return self._record(Op("maxpool", out, [x], {"pool": pool}))


def _like(out: Tensor, x: Tensor) -> Tensor:
    """``out`` in ``x``'s time order (per-step ops keep a reversed input reversed)."""
    return Tensor(out.buf, out.width, out.col, x.reversed) if x.reversed else out


def _act(layer: dict[str, Any]) -> str:
    activation = layer["config"].get("activation", "linear")
    return activation if isinstance(activation, str) else str(activation)


def _batch_norm_weights(weights: list[np.ndarray], config: dict[str, Any]):
    """gamma, beta, moving mean, moving variance (gamma/beta absent when not learnt)."""
    it = iter(weights)
    n = weights[-1].shape[0]
    gamma = next(it) if config.get("scale", True) else np.ones(n, np.float32)
    beta = next(it) if config.get("center", True) else np.zeros(n, np.float32)
    return gamma, beta, next(it), next(it)


def plan_forward(model, int8: bool = False) -> Plan:
    """Plan ``model``'s forward pass (a functional Keras model taking (steps, channels))."""
    config = model.get_config()
    layers = config["layers"]
    consumers: Counter[str] = Counter()
    for layer in layers:
        for node in layer.get("inbound_nodes", []):
            for inbound in _inbound(node):
                consumers[inbound] += 1
    planner = LayerPlanner(model, consumers)
    outputs = config["output_layers"]
    if len(outputs) != 1 or len(config["input_layers"]) != 1:
        raise HarliteError("harlite export c takes models with one input and one output")
    for layer in layers:
        nodes = layer.get("inbound_nodes", [])
        if len(nodes) > 1:
            raise HarliteError(f"layer {layer['name']!r} is used twice (shared layers unsupported)")
        planner.add(layer, _inbound(nodes[0]) if nodes else [])
    plan = planner.plan(_name(outputs[0]), int8)
    plan.finish()
    return plan


def _inbound(node: Any) -> list[str]:
    """The layer names a node reads (tf-keras and Keras 3 configs)."""
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {}}
        found: list[str] = []
        _history_names(node.get("args", []), found)
        return found
    return [_name(item) for item in node]


def _history_names(value: Any, found: list[str]) -> None:
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            found.append(value["config"]["keras_history"][0])
            return
        for item in value.values():
            _history_names(item, found)
    elif isinstance(value, list):
        for item in value:
            _history_names(item, found)


def _name(item: Any) -> str:
    return item[0] if isinstance(item, list | tuple) else str(item)
