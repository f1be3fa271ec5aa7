"""The device side of harlite: everything a phone or a Raspberry Pi runs, with numpy, scipy
and a LiteRT interpreter only (this package never imports TensorFlow, Keras, scikit-learn or
click). Its rooms:

- :mod:`~harlite.runtime.spec`: the model's fixed numbers;
- :mod:`~harlite.runtime.io`: sources (CSV, app exports, phone pushes, MQTT);
- :mod:`~harlite.runtime.signal`: clock, checks, resampling, filters, windows, smoothing;
- :mod:`~harlite.runtime.model`: bundles, manifests and the interpreters on one base class;
- at the top, :class:`~harlite.runtime.stream.StreamClassifier` (samples in, predictions out),
  :mod:`~harlite.runtime.run` (one recording from source to sinks), the sinks
  (:mod:`~harlite.runtime.sinks`) and
  :mod:`~harlite.runtime.activity` (what a person did, from the predictions).

Jobs over many recordings live outside the device package, in :mod:`harlite.batch`.
"""

import importlib

#: Public names and the module each comes from, imported on first use (PEP 562), so that
#: importing one light module (e.g. ``harlite.runtime.spec``) does not load numpy and scipy.
_EXPORTS = {
    "ACTIVITY_LABELS": "spec",
    "HOP_SAMPLES": "spec",
    "MODEL_CHANNELS": "spec",
    "RAW_CHANNELS": "spec",
    "SAMPLE_RATE_HZ": "spec",
    "WINDOW_SAMPLES": "spec",
    "FilterDesign": "signal.preprocessing",
    "Preprocessor": "signal.preprocessing",
    "preprocess_recording": "signal.preprocessing",
    "SlidingWindow": "signal.sliding_window",
    "Window": "signal.sliding_window",
    "WindowBatch": "signal.sliding_window",
    "count_windows": "signal.sliding_window",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
