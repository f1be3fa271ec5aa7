"""ONNX conversion with tf2onnx: the float model with a dynamic batch, probabilities out.

The ONNX artefact is for hosts (x86 servers, a Pi with 64-bit OS) where ONNX Runtime runs
the LSTM faster than TFLite, and for many windows per call: its batch is dynamic. Phones and
microcontroller-class devices keep the TFLite artefacts.
"""

from __future__ import annotations

import logging
import warnings

from harlite.convert.export import deployable
from harlite.errors import HarliteError
from harlite.quiet import native_output_silenced
from harlite.runtime.spec import N_MODEL_CHANNELS
from harlite.train.tf_setup import tensorflow

#: ONNX opset: 17 is read by every ONNX Runtime since 1.11 (2022).
OPSET = 17
INPUT_NAME = "window"


def tf2onnx_version() -> str:
    """The tf2onnx version (an error naming the extra to install if it is missing)."""
    try:
        import tf2onnx
    except ImportError as error:
        raise HarliteError(
            f"converting to ONNX needs tf2onnx ({error}): pip install 'harlite[train,onnx]'"
        ) from None
    return tf2onnx.__version__


def convert_onnx(model, window: int, labels: list[str]) -> bytes:
    """A serialised ONNX model of ``model``: input ``window`` (batch, window, 9), output the
    class probabilities; the labels are in the model's metadata (``labels``)."""
    tf = tensorflow()
    tf2onnx_version()
    import tf2onnx

    deploy = deployable(model, unroll=False, batch_size=None)
    spec = (tf.TensorSpec((None, window, N_MODEL_CHANNELS), tf.float32, name=INPUT_NAME),)
    logging.getLogger("tf2onnx").setLevel(logging.ERROR)
    with native_output_silenced(fds=(1, 2)), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proto, _ = tf2onnx.convert.from_keras(deploy, input_signature=spec, opset=OPSET)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "labels", "\n".join(labels)
    proto.producer_name = "harlite (tf2onnx)"
    return proto.SerializeToString()
