"""harlite.runtime.model.unsure: windows whose answer is unsure, flagged per prediction and
counted in the run's summary (runtime-only)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harlite.runtime import stream as stream_module
from harlite.runtime.io.sources import CsvSource
from harlite.runtime.model.unsure import UNSURE_BELOW, unsure
from harlite.runtime.run import run_stream
from tests.builders import canonical_csv, timed_rows, write

pytestmark = pytest.mark.runtime


def test_a_window_is_unsure_below_the_floor_only():
    probabilities = np.array(
        [[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [UNSURE_BELOW, 1 - UNSURE_BELOW, 0.0]]
    )
    assert unsure(probabilities).tolist() == [False, True, False]
    assert unsure(probabilities, floor=0.95).tolist() == [True, True, True]


def test_probabilities_must_be_windows_by_classes():
    with pytest.raises(ValueError, match=r"\(windows, classes\)"):
        unsure(np.array([0.2, 0.8]))


def test_each_prediction_says_whether_it_is_unsure(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    predictions = classifier.push(timed_rows(3000, seed=5))
    flags = [p.confidence < UNSURE_BELOW for p in predictions]
    assert [p.unsure for p in predictions] == flags
    assert classifier.unsure_windows == sum(flags)
    for p in predictions:
        record = p.to_dict(classifier.labels)
        assert record.get("unsure", False) is p.unsure
    classifier.reset()
    assert classifier.unsure_windows == 0


def test_the_summary_counts_unsure_windows(tmp_path, lstm_classifier_factory, monkeypatch):
    # every window unsure: the count and the line must follow the flags, whatever the model
    monkeypatch.setattr(stream_module, "unsure", lambda p: np.ones(len(p), bool))
    path = write(tmp_path, "a.csv", canonical_csv(timed_rows(1000)))
    out = []
    summary = run_stream(CsvSource(path), lstm_classifier_factory(), out, name=str(path))
    assert summary.unsure_windows == summary.windows == 14
    assert f"unsure 14 of 14 windows (top probability below {UNSURE_BELOW:.0%}" in (
        summary.format()
    )
    assert json.loads(summary.to_json())["unsure_windows"] == 14
