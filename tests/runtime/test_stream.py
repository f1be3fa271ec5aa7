"""harlite.runtime.stream: StreamClassifier and its settings, on the shipped lstm bundle
(runtime-only: numpy, scipy and a TFLite interpreter)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import (
    BACKWARDS,
    NON_FINITE,
    OUT_OF_RANGE,
    REPEATED,
)
from harlite.shipped import model_path
from tests.builders import timed_rows

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def test_one_prediction_per_complete_window(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    predictions = classifier.push(timed_rows(1000))
    assert len(predictions) == count_windows(1000) == 14
    assert [p.index for p in predictions] == list(range(14))
    assert predictions[0].start_time == 0.0
    assert predictions[0].end_time == pytest.approx(127 / 50)
    assert predictions[1].start_time == pytest.approx(64 / 50)
    for p in predictions:
        assert p.label in classifier.labels
        assert p.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert p.latency_ms > 0


@pytest.mark.parametrize("chunk", [1, 7, 128, 333])
def test_predictions_do_not_depend_on_chunk_size(lstm_classifier_factory, chunk):
    rows = timed_rows(700, seed=3)
    whole = lstm_classifier_factory().push(rows)
    classifier = lstm_classifier_factory()
    chunked = []
    for start in range(0, len(rows), chunk):
        chunked += classifier.push(rows[start : start + chunk])
    assert [p.label for p in chunked] == [p.label for p in whole]
    np.testing.assert_allclose(
        [p.probabilities for p in chunked], [p.probabilities for p in whole], atol=1e-5
    )


def test_a_static_batch_artefact_runs_window_by_window(lstm_classifier_factory):
    rows = timed_rows(2000, seed=4)
    batched_classifier = lstm_classifier_factory(artifact="int8", batch_size=16)
    assert batched_classifier.batch_size == 1  # exported with a static batch of 1
    batched = batched_classifier.push(rows)
    reference = lstm_classifier_factory(artifact="int8").push(rows)
    assert len(batched) == count_windows(2000)
    np.testing.assert_allclose(
        [p.probabilities for p in batched], [p.probabilities for p in reference], atol=1e-6
    )


def test_bad_samples_are_refused_with_their_reason_and_the_stream_goes_on(
    lstm_classifier_factory,
):
    rows = timed_rows(400)
    rows[10, 2] = np.nan
    rows[20, 5] = np.inf
    rows[30, 1] = 500.0  # 500 g
    rows[40, 0] = rows[39, 0]  # repeated timestamp
    rows[50, 0] = rows[45, 0]  # backwards
    classifier = lstm_classifier_factory()
    predictions = classifier.push(rows)
    assert dict(classifier.rejected) == {
        NON_FINITE: 2,
        OUT_OF_RANGE: 1,
        REPEATED: 1,
        BACKWARDS: 1,
    }
    assert predictions.rejected == [
        (10, NON_FINITE),
        (20, NON_FINITE),
        (30, OUT_OF_RANGE),
        (40, REPEATED),
        (50, BACKWARDS),
    ]
    assert classifier.samples == 395
    # The refused samples' slots are interpolated (they are far shorter than a gap): the
    # grid still covers 400 samples' time.
    assert len(predictions) == count_windows(400)


def test_what_push_returns_reads_as_the_list_of_predictions_it_was(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    result = classifier.push(timed_rows(400))
    assert len(result) == count_windows(400) and result  # a list's len and truth
    assert [p.index for p in result[1:3]] == [1, 2]  # slicing gives the predictions
    assert result == result.predictions and result != result.predictions[:-1]
    assert classifier.push(timed_rows(10, start=100.0)) == []  # a push without a window
    assert not classifier.flush()


def test_the_drained_attributes_of_0_1_still_read_the_last_push_deprecated(
    lstm_classifier_factory,
):
    rows = timed_rows(300)
    rows[10, 2] = np.nan
    classifier = lstm_classifier_factory()
    result = classifier.push(rows)
    with pytest.warns(DeprecationWarning, match="push\\(\\) and flush\\(\\) return it"):
        assert classifier.last_rejected == result.rejected == [(10, NON_FINITE)]
    with pytest.warns(DeprecationWarning):
        classifier.last_rejected = []  # how callers drained it
    with pytest.warns(DeprecationWarning):
        assert classifier.last_rejected == []
    with pytest.warns(DeprecationWarning):
        assert classifier.new_warnings == result.warnings
    classifier.push(timed_rows(50, start=20.0))
    with pytest.warns(DeprecationWarning):
        assert classifier.windower.last_rejected == []
    # the settings it inherited from the windower before 0.2
    assert (classifier.window, classifier.hop, classifier.sample_rate_hz) == (128, 64, 50.0)


def test_a_gap_restarts_the_windows(lstm_classifier_factory):
    first, second = timed_rows(300), timed_rows(500, start=100.0)
    classifier = lstm_classifier_factory()
    predictions = classifier.push(np.concatenate((first, second)))
    assert classifier.gaps == 1
    assert len(predictions) == count_windows(300) + count_windows(500)
    assert all(p.end_time < 10 or p.start_time >= 100.0 for p in predictions)


def test_windows_carry_their_true_label_only_when_uniformly_labelled(lstm_classifier_factory):
    labels = ["WALKING"] * 200 + ["STAND_TO_SIT"] * 50 + ["SITTING"] * 250
    predictions = lstm_classifier_factory().push(timed_rows(500), labels)
    # Windows start every 64 samples; those over 128–319 cross the transition.
    assert [p.true_label for p in predictions] == [
        "WALKING",
        "WALKING",
        None,
        None,
        "SITTING",
        "SITTING",
    ]


def test_input_rate_and_time_span_are_tracked(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    classifier.push(timed_rows(1000, rate=100.0))
    assert classifier.input_rate_hz == pytest.approx(100.0)
    assert classifier.last_time - classifier.first_time == pytest.approx(9.99)


def test_push_rejects_a_wrong_shape(lstm_classifier_factory):
    with pytest.raises(ValueError, match="shape"):
        lstm_classifier_factory().push(np.zeros((3, 6)))


def test_predictions_serialise_to_json(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    p = classifier.push(timed_rows(128))[0]
    record = json.loads(json.dumps(p.to_dict(classifier.labels)))
    assert set(record) >= {"window", "start_time", "end_time", "label", "confidence"}
    assert set(record["probabilities"]) == set(classifier.labels)
