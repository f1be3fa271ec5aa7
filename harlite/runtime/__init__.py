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

from harlite.runtime.preprocessing import FilterDesign, Preprocessor, preprocess_recording
from harlite.runtime.spec import (
    ACTIVITY_LABELS,
    HOP_SAMPLES,
    MODEL_CHANNELS,
    RAW_CHANNELS,
    SAMPLE_RATE_HZ,
    WINDOW_SAMPLES,
)
from harlite.runtime.windowing import SlidingWindow, Window, WindowBatch, count_windows

__all__ = [
    "ACTIVITY_LABELS",
    "HOP_SAMPLES",
    "MODEL_CHANNELS",
    "RAW_CHANNELS",
    "SAMPLE_RATE_HZ",
    "WINDOW_SAMPLES",
    "FilterDesign",
    "Preprocessor",
    "SlidingWindow",
    "Window",
    "WindowBatch",
    "count_windows",
    "preprocess_recording",
]
