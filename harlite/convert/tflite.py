"""TFLite conversion and quantisation: float32, float16, dynamic-range and full-integer int8."""

from __future__ import annotations

import warnings

import numpy as np

from harlite.convert.export import deployable
from harlite.quiet import native_output_silenced
from harlite.train.tf_setup import tensorflow

FORMATS = ("float32", "dynamic", "int8", "float16")
#: Normalised input range (in standard deviations) that the int8 input quantisation covers.
INT8_INPUT_CLIP_STD = 3.0


def convert(
    model,
    kind: str,
    representative: np.ndarray | None = None,
    unrolled: bool = False,
    legacy_quantizer: bool = False,
) -> bytes:
    """Convert a trained Keras model to a batch-1 TFLite flatbuffer.

    Args:
        kind: ``float32``; ``float16`` (float16 weights); ``dynamic`` (int8 weights, float
            activations); ``int8`` (int8 weights and activations, int8 input and output,
            calibrated on ``representative`` windows).
        representative: training windows (n, 128, 9) for int8 calibration.
        unrolled: builtin ops over 128 unrolled steps instead of the fused LSTM op.
        legacy_quantizer: calibrate with TFLite's older quantizer instead of the MLIR one;
            for stacked bidirectional LSTMs it keeps int8 far closer to the float model.
    """
    tf = tensorflow()
    if kind not in FORMATS:
        raise ValueError(f"unknown TFLite format {kind!r}: choose from {', '.join(FORMATS)}")
    # int8 takes normalised windows (see input_normalization): one input scale then suits
    # all nine channels. The calibration windows are normalised the same way.
    normalize_outside = kind == "int8" and has_normalization(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(
        deployable(model, unroll=unrolled, batch_size=1, keep_normalization=not normalize_outside)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # never Flex ops
    if kind != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if kind == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if kind == "int8":
        if representative is None or not len(representative):
            raise ValueError("int8 conversion needs representative training windows")
        windows = np.asarray(representative, np.float32)
        if normalize_outside:
            mean, std = input_normalization(model)
            # Calibrate the input on ±3 standard deviations: the rare larger values saturate,
            # and every window keeps 3x the resolution that the extremes would leave it.
            windows = np.clip((windows - mean) / std, -INT8_INPUT_CLIP_STD, INT8_INPUT_CLIP_STD)
        converter.representative_dataset = lambda: ([w[None]] for w in windows)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        converter.experimental_new_quantizer = not legacy_quantizer
    with native_output_silenced(fds=(1, 2)), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Statistics for quantized inputs were expected"
        content = bytes(converter.convert())
    return content if kind == "int8" else without_lstm_cell_clip(content)


def without_lstm_cell_clip(content: bytes) -> bytes:
    """The flatbuffer with its fused LSTM ops' cell-state clipping turned off.

    TensorFlow's converter gives every fused LSTM op it makes from a Keras LSTM a
    ``cell_clip`` of 10, which Keras never applies: on windows whose cell state grows past 10
    the TFLite model then leaves the Keras model's path (the shipped lstm differed by 0.15 in
    probability on 15 of 1,622 validation windows). Float kernels honour ``cell_clip = 0``
    as "no clipping". Full-integer (int8) models keep it: their cell state is an int16 whose
    range the quantizer chose with the clip.
    """
    tensorflow()
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    lstm_options = (
        schema.UnidirectionalSequenceLSTMOptionsT,
        schema.BidirectionalSequenceLSTMOptionsT,
        schema.LSTMOptionsT,
    )
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    changed = False
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            options = op.builtinOptions
            if isinstance(options, lstm_options) and options.cellClip:
                options.cellClip = 0.0
                changed = True
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model)) if changed else content


def has_normalization(model) -> bool:
    """Whether the model starts with harlite's input normalisation layer."""
    return any(layer.name == "normalize" for layer in model.layers)


def input_normalization(model) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of the model's normalisation layer, as float32 arrays of 9."""
    config = model.get_layer("normalize").get_config()
    mean = np.asarray(config["mean"], np.float32).reshape(-1)
    std = np.sqrt(np.maximum(np.asarray(config["variance"], np.float32).reshape(-1), 1e-7))
    return mean, std.astype(np.float32)


def add_labels_metadata(content: bytes, labels: list[str]) -> bytes:
    """Embed ``labels.txt`` (one label per line) in the flatbuffer's metadata table, where
    phone tooling (e.g. Android Studio's model viewer) looks for it."""
    tensorflow()
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(("\n".join(labels) + "\n").encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = "labels.txt"
    entry.buffer = len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def read_labels_metadata(content: bytes) -> list[str] | None:
    """The labels embedded by :func:`add_labels_metadata`, or None."""
    tensorflow()
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(content))
    for entry in model.metadata or []:
        name = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
        if name == "labels.txt":
            return bytes(model.buffers[entry.buffer].data).decode().split()
    return None
