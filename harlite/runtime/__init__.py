"""The device side of harlite: preprocessing and windowing (numpy, scipy and a LiteRT
interpreter only; this package never imports TensorFlow, Keras or scikit-learn)."""

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
