"""Import TensorFlow and legacy Keras (tf-keras) quietly and consistently.

harlite trains with legacy Keras because it is what makes TFLite emit the compact fused
UNIDIRECTIONAL_SEQUENCE_LSTM op (Keras 3 never does). Every module that needs TensorFlow
gets it from here, so the environment is set before TensorFlow is first imported.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from harlite.errors import HarliteError


def keras() -> ModuleType:
    """The ``tf_keras`` module, with TensorFlow's C++ start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        with _native_stderr_silenced(enabled="tensorflow" not in sys.modules):
            import tensorflow as tf
            import tf_keras

            tf.config.list_physical_devices()  # probes for GPUs now, while silenced
    except ImportError as error:
        raise HarliteError(
            f"training and conversion need TensorFlow and tf-keras ({error}); "
            "install them with: pip install 'harlite[train]'"
        ) from None
    return tf_keras


@contextlib.contextmanager
def _native_stderr_silenced(enabled: bool) -> Iterator[None]:
    """Silence file descriptor 2 while TensorFlow starts: its C++ logging (absl) prints
    start-up notices that no environment variable turns off in recent releases."""
    if not enabled or os.environ.get("HARLITE_TF_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def tensorflow() -> ModuleType:
    """The ``tensorflow`` module, imported as :func:`keras` sets it up."""
    keras()
    import tensorflow

    return tensorflow
