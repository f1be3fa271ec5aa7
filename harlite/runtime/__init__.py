"""The device side of harlite: everything a phone or a Raspberry Pi runs, with numpy, scipy
and a LiteRT interpreter only (this package never imports TensorFlow, Keras, scikit-learn or
click).

- the model's fixed numbers (:mod:`~harlite.runtime.spec`), bundles and their manifests
  (:mod:`~harlite.runtime.bundle`), the interpreters (:mod:`~harlite.runtime.interpreter`);
- the signal path: sources (:mod:`~harlite.runtime.sources`, :mod:`~harlite.runtime.sensorcsv`)
  → :class:`~harlite.runtime.stream.StreamClassifier` (checks, :mod:`~harlite.runtime.resample`,
  :mod:`~harlite.runtime.preprocessing`, :mod:`~harlite.runtime.windowing`, inference,
  :mod:`~harlite.runtime.smoothing`) → sinks (:mod:`~harlite.runtime.sinks`);
- runs: one recording (:mod:`~harlite.runtime.session`), many (:mod:`~harlite.runtime.batch`,
  :mod:`~harlite.runtime.batch_job`, :mod:`~harlite.runtime.batch_ray`).
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
    "FilterDesign": "preprocessing",
    "Preprocessor": "preprocessing",
    "preprocess_recording": "preprocessing",
    "SlidingWindow": "windowing",
    "Window": "windowing",
    "WindowBatch": "windowing",
    "count_windows": "windowing",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
