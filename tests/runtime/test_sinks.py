"""harlite.runtime.sinks: JSON lines, CSV and the terminal view (runtime-only)."""

from __future__ import annotations

import io

import pytest

from harlite.runtime.signal.smoothing import Smoother
from harlite.runtime.sinks import CsvSink, TerminalView
from harlite.shipped import model_path
from tests.builders import timed_rows

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def test_csv_sink_and_terminal_view_render(lstm_classifier_factory):
    classifier = lstm_classifier_factory(smoothing=Smoother("mean", 3))
    predictions = classifier.push(timed_rows(600))
    out = io.StringIO()
    sink = CsvSink(out, classifier.labels)
    sink.write(predictions)
    table = out.getvalue().splitlines()
    assert table[0].startswith("window,start_time,end_time,label,confidence")
    assert len(table) == 1 + len(predictions)
    screen = io.StringIO()
    view = TerminalView(screen, classifier.labels)
    view.write(predictions[:2])
    view.write(predictions[2:])
    # numbered like the JSON and CSV records, from 0 (issue 14: it counted from 1)
    assert predictions[-1].index == 7
    assert "window 7" in screen.getvalue() and "\x1b[3F" in screen.getvalue()
