"""Import TensorFlow and legacy Keras (tf-keras) quietly and consistently.

harlite trains with legacy Keras because it is what makes TFLite emit the compact fused
UNIDIRECTIONAL_SEQUENCE_LSTM op (Keras 3 never does). Every module that needs TensorFlow
gets it from here, so the environment is set before TensorFlow is first imported.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from harlite.errors import HarliteError
from harlite.quiet import native_output_silenced


def keras() -> ModuleType:
    """The ``tf_keras`` module, with TensorFlow's C++ start-up chatter silenced."""
    # TensorFlow's C++ log lines (oneDNN, CUDA probing, "use_unbounded_threadpool" at error
    # level) mean nothing to a user and break progress bars; HARLITE_VERBOSE=1 shows them.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1" if os.environ.get("HARLITE_VERBOSE") else "3")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        with native_output_silenced(enabled="tensorflow" not in sys.modules):
            import tensorflow as tf
            import tf_keras

            tf.config.list_physical_devices()  # probes for GPUs now, while silenced
    except ImportError as error:
        raise HarliteError(
            f"training and conversion need TensorFlow and tf-keras ({error}); "
            "install them with: pip install 'harlite[train]'"
        ) from None
    return tf_keras


def tensorflow() -> ModuleType:
    """The ``tensorflow`` module, imported as :func:`keras` sets it up."""
    keras()
    import tensorflow

    return tensorflow
