"""harlite.runtime.run: a run's accounting of every row, and classify_recording
(runtime-only)."""

from __future__ import annotations

import io
import json

import pytest

from harlite.errors import DataError
from harlite.runtime.io.sources import CsvSource
from harlite.runtime.run import classify_recording, run_stream
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.signal.smoothing import Smoother
from harlite.runtime.sinks import CollectingSink, JsonLinesSink
from harlite.runtime.stream import NON_FINITE, StreamClassifier
from harlite.shipped import model_path
from tests.builders import canonical_csv, timed_rows, write

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def test_session_accounts_for_every_row(tmp_path, lstm_classifier_factory):
    rows = timed_rows(1000)
    labels = ["WALKING"] * 1000
    lines = canonical_csv(rows, labels).splitlines()
    lines[100] = "garbage"
    lines[200] = lines[200].replace(lines[200].split(",")[1], "nan", 1)
    path = write(tmp_path, "a.csv", "\n".join(lines) + "\n")
    out = io.StringIO()
    seen = []
    summary = run_stream(
        CsvSource(path),
        lstm_classifier_factory(smoothing=Smoother("vote", 3)),
        [JsonLinesSink(out, ["WALKING"] * 6)],
        name=str(path),
        on_bad_row=lambda *a: seen.append(a[:2]),
    )
    assert seen == [(101, "wrong number of fields"), (201, NON_FINITE)]
    assert summary.rows == 1000 and summary.samples == 998 and summary.bad_rows == 2
    assert summary.bad_row_reasons == {"wrong number of fields": 1, NON_FINITE: 1}
    assert summary.windows == count_windows(1000) == len(out.getvalue().splitlines())
    assert summary.labelled_windows == summary.windows
    assert 0 <= summary.accuracy <= 1 and summary.smoothed_accuracy is not None
    assert summary.smoothing_delay_s == pytest.approx(1.28)
    record = summary.to_dict()
    for key in ("windows", "bad_rows", "bad_row_reasons", "samples", "duration_s"):
        assert key in record
    assert record["first_bad_rows"][0] == {
        "line": 101,
        "reason": "wrong number of fields",
        "detail": "expected 8, found 1",
    }


def test_strict_mode_stops_at_the_first_bad_row(tmp_path, lstm_classifier_factory):
    lines = canonical_csv(timed_rows(300)).splitlines()
    lines[150] = lines[150].replace(lines[150].split(",")[0], lines[149].split(",")[0])
    path = write(tmp_path, "a.csv", "\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 151: timestamp repeated"):
        run_stream(CsvSource(path), lstm_classifier_factory(), [], name=str(path), strict=True)


def test_a_header_only_file_is_an_error(tmp_path, lstm_classifier_factory):
    path = write(tmp_path, "a.csv", "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
    with pytest.raises(DataError, match="no valid samples"):
        run_stream(CsvSource(path), lstm_classifier_factory(), [], name=str(path))


def test_classify_recording_writes_output_then_summary_atomically(tmp_path):
    rows = timed_rows(1000)
    path = write(tmp_path, "rec.csv", canonical_csv(rows, ["WALKING"] * len(rows)))
    classifier = StreamClassifier(LSTM)
    kept = CollectingSink()
    summary = classify_recording(
        CsvSource(path),
        classifier,
        tmp_path / "out" / "rec.jsonl",
        name=str(path),
        summary_path=tmp_path / "out" / "rec.summary.json",
        summary_fields={"input_sha256": "abc"},
        extra_sinks=[kept],
    )
    output = tmp_path / "out" / "rec.jsonl"
    assert summary.windows == len(kept.predictions) == count_windows(1000)
    assert len(output.read_text().splitlines()) == summary.windows
    record = json.loads((tmp_path / "out" / "rec.summary.json").read_text())
    assert record["output"] == "rec.jsonl" and record["output_bytes"] == output.stat().st_size
    assert record["input_sha256"] == "abc" and record["windows"] == summary.windows
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["rec.jsonl", "rec.summary.json"]


def test_classify_recording_into_a_handle(tmp_path):
    path = write(tmp_path, "rec.csv", canonical_csv(timed_rows(500)))
    handle = io.StringIO()
    summary = classify_recording(CsvSource(path), StreamClassifier(LSTM), handle, name="rec")
    assert summary.output is None
    assert len(handle.getvalue().splitlines()) == summary.windows == count_windows(500)


def test_an_interrupted_recording_can_be_discarded(tmp_path):
    path = write(tmp_path, "rec.csv", canonical_csv(timed_rows(500)))

    def interrupted():
        yield from CsvSource(path)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        classify_recording(
            interrupted(), StreamClassifier(LSTM), tmp_path / "o.jsonl", name="rec",
            keep_interrupted=False,
        )  # fmt: skip
    assert list(tmp_path.glob("o.jsonl*")) == [] and list(tmp_path.glob(".o.jsonl*")) == []
    summary = classify_recording(
        interrupted(), StreamClassifier(LSTM), tmp_path / "o.jsonl", name="rec"
    )
    assert summary.interrupted and (tmp_path / "o.jsonl").is_file()
