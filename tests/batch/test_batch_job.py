"""harlite.batch.job: a batch run end to end through the library (runtime-only)."""

from __future__ import annotations

import json

import pytest

from harlite.batch.job import BATCH_SUMMARY, run_batch
from harlite.batch.pool import BatchSummary
from harlite.errors import HarliteError
from harlite.runtime.io.sources import InputOptions
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import ClassifierSettings
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime


def test_run_batch_classifies_plans_and_summarises(recordings, tmp_path):
    out = tmp_path / "out"
    lines, planned, finished = [], [], []
    summary = run_batch(
        [str(recordings)],
        out,
        model_path("lstm"),
        ClassifierSettings(),
        InputOptions(),
        workers=2,
        log=lines.append,
        on_planned=planned.append,
        progress=lambda task, record, error: finished.append((task.input, error)),
    )
    assert isinstance(summary, BatchSummary)
    assert planned == [4] and len(finished) == 4 and all(e is None for _, e in finished)
    assert "4 recordings: 0 already done, 4 to classify" in lines[0]
    expected = sum(count_windows(n) for n in (900, 1300, 700, 1100))
    assert summary.windows == expected and summary.processed == 4
    assert summary.accuracy is not None and summary.labelled_windows == expected
    assert json.loads((out / BATCH_SUMMARY).read_text()) == summary.to_dict()
    again = run_batch(
        [str(recordings)], out, model_path("lstm"), ClassifierSettings(), InputOptions()
    )
    assert (again.processed, again.skipped, again.windows) == (0, 4, expected)


def test_unknown_engine_and_missing_inputs_are_clear_errors(tmp_path):
    settings, options = ClassifierSettings(), InputOptions()
    with pytest.raises(HarliteError, match="unknown engine 'spark'"):
        run_batch(["x"], tmp_path, model_path("lstm"), settings, options, engine="spark")
    with pytest.raises(HarliteError, match="no such file, folder or glob match"):
        run_batch([str(tmp_path / "none*.csv")], tmp_path, model_path("lstm"), settings, options)
