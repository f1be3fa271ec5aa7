"""Issue 29, "What did I do?": time per activity and bouts in the summary, relative times in
the predictions and the live view, `harlite report` (HTML always, PNG with matplotlib) for a
recording and a batch folder, and the server's per-phone totals."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.runtime.activity import (
    MIN_BOUT_S,
    ActivityLog,
    bout_records,
    format_duration,
)
from harlite.runtime.sinks import TerminalView
from harlite.runtime.stream import Prediction

DEMO = Path(__file__).resolve().parents[2] / "harlite" / "demo"
HOP, LENGTH = 1.28, 2.54  # 64 and 128 samples at 50 Hz (a window's first to last sample)


def windows(labels: str, start: float = 0.0) -> list[tuple[float, float, str]]:
    """Windows at 50% overlap, one per letter (W walk, s sit, t stand)."""
    names = {"W": "WALKING", "s": "SITTING", "t": "STANDING"}
    return [(start + i * HOP, start + i * HOP + LENGTH, names[c]) for i, c in enumerate(labels)]


def logged(*parts: list[tuple[float, float, str]]) -> ActivityLog:
    log = ActivityLog(0.25)
    for part in parts:
        for start, end, label in part:
            log.add(start, end, label)
    return log


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- time per activity and bouts ------------------------------------------------------------


def test_window_times_add_up_to_the_classified_span_the_first_counting_its_whole_length():
    part = windows("WWWWWsssss")
    log = logged(part)
    assert sum(log.totals.values()) == pytest.approx(part[-1][1] - part[0][0])
    assert log.totals["WALKING"] == pytest.approx(LENGTH + 4 * HOP)
    assert log.totals["SITTING"] == pytest.approx(5 * HOP)


def test_a_gap_starts_a_new_stretch_whose_pause_is_not_counted_and_no_bout_spans_it():
    first, second = windows("W" * 10), windows("W" * 10, start=100.0)
    log = logged(first, second)
    assert sum(log.totals.values()) == pytest.approx(2 * (LENGTH + 9 * HOP))
    bouts = log.bouts()
    assert [(b.start, b.end) for b in bouts] == [
        (first[0][0], first[-1][1]),
        (second[0][0], second[-1][1]),
    ]


def test_one_stray_window_is_not_a_bout_it_counts_into_the_bout_before():
    log = logged(windows("WWWWWWWWtWWWWWWWWsssssssss"))
    assert log.totals["STANDING"] == pytest.approx(HOP)  # counted in the time per label
    bouts = log.bouts(MIN_BOUT_S)
    assert [b.label for b in bouts] == ["WALKING", "SITTING"]
    assert bouts[0].end == bouts[1].start  # bouts tile the stretch
    assert sum(b.seconds for b in bouts) == pytest.approx(sum(log.totals.values()))
    assert [b.label for b in log.bouts(0.5)] == ["WALKING", "STANDING", "WALKING", "SITTING"]


def test_short_runs_at_a_stretch_s_start_go_to_the_bout_after_and_a_flicker_gets_its_majority():
    log = logged(windows("tsWWWWWWWW"))
    (bout,) = log.bouts()
    assert bout.label == "WALKING" and bout.start == 0.0
    flicker = logged(windows("WtWsWtWsW"))  # no run of 5 s, the stretch longer than 5 s
    assert [b.label for b in flicker.bouts()] == ["WALKING"]
    assert logged(windows("Wt")).bouts() == []  # shorter than a bout


def test_bouts_are_clock_time_on_a_wall_clock_and_seconds_from_the_start_otherwise():
    epoch = 1_764_000_000.0
    wall = bout_records(logged(windows("W" * 10, start=epoch + 1)).bouts(), epoch)
    start = datetime.fromisoformat(wall[0]["start"])
    assert start.tzinfo is not None and start.timestamp() == epoch + 1
    plain = bout_records(logged(windows("W" * 10, start=65.0)).bouts(), 64.0)
    assert plain[0]["start"] == 1.0 and plain[0]["duration_s"] == pytest.approx(LENGTH + 9 * HOP)


def test_durations_read_as_a_person_says_them():
    assert format_duration(208) == "3 min 28 s"
    assert format_duration(7500) == "2 h 05 min"
    assert format_duration(45.2) == "45 s"


# -- stream: summary, predictions, live view -----------------------------------------------


def demo_stream(tmp_path: Path, *extra: str) -> tuple[dict, list[dict], str]:
    out, summary = tmp_path / "demo.jsonl", tmp_path / "demo.summary.json"
    result = run_cli("stream", "--demo", "--output", str(out), "--summary", str(summary), *extra)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return json.loads(summary.read_text()), records, result.output


def counted(records: list[dict], key: str) -> dict[str, float]:
    """Time per label by the documented rule, recomputed from the predictions."""
    log = ActivityLog(0.25)
    for r in records:
        log.add(r["start_time"], r["end_time"], r[key])
    return {k: round(v, 2) for k, v in log.totals.items()}


def test_the_summary_has_time_per_label_and_bouts_and_prints_them(tmp_path):
    summary, records, printed = demo_stream(tmp_path)
    assert summary["time_per_label"] == counted(records, "label")
    span = records[-1]["end_time"] - records[0]["start_time"]
    assert sum(summary["time_per_label"].values()) == pytest.approx(span, abs=0.05)
    bouts = summary["bouts"]
    assert bouts and all(b["duration_s"] >= MIN_BOUT_S for b in bouts)
    assert bouts[0]["start"] == 0.0  # HAPT's clock is no wall clock: seconds from the start
    assert summary["model"] == "lstm" and "started_at" not in summary
    assert "time per activity" in printed and f"{bouts[0]['label']}" in printed
    assert "0:00:00–" in printed


def test_smoothing_counts_the_smoothed_labels(tmp_path):
    summary, records, _ = demo_stream(tmp_path, "--smooth", "vote:9")
    assert summary["time_per_label"] == counted(records, "smoothed_label")
    assert counted(records, "smoothed_label") != counted(records, "label")  # it matters


def test_min_bout_is_an_option(tmp_path):
    summary, _, _ = demo_stream(tmp_path, "--min-bout", "30")
    assert summary["min_bout_s"] == 30.0
    assert all(b["duration_s"] >= 30 for b in summary["bouts"])
    assert run_cli("stream", "--demo", "--min-bout", "0").exit_code != 0


def test_predictions_carry_seconds_from_the_start_beside_the_absolute_times(tmp_path):
    _, records, _ = demo_stream(tmp_path)
    first = records[0]
    assert first["start_time"] == 65.14  # the old keys stay
    assert first["t_rel"] == pytest.approx(first["end_time"] - 65.14)
    out = tmp_path / "demo.csv"
    run_cli("stream", "--demo", "--output", str(out), "--quiet")
    header, row = out.read_text().splitlines()[:2]
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert float(values["t_rel"]) == pytest.approx(first["t_rel"])


def test_a_sensor_logger_export_gets_clock_times(tmp_path):
    out, summary_path = tmp_path / "sl.jsonl", tmp_path / "sl.summary.json"
    result = run_cli(
        "stream", "lstm", "--input", str(DEMO / "sensorlogger-sample.zip"),
        "--output", str(out), "--summary", str(summary_path),
    )  # fmt: skip
    summary = json.loads(summary_path.read_text())
    origin = datetime.fromisoformat(summary["started_at"]).timestamp()
    first = json.loads(out.read_text().splitlines()[0])
    assert origin == pytest.approx(first["end_time"] - first["t_rel"], abs=1)
    bout_start = datetime.fromisoformat(summary["bouts"][0]["start"])
    assert "clock time" in result.output
    assert bout_start.astimezone().strftime("%H:%M:%S") in result.output


def prediction(end: float, t_rel: float) -> Prediction:
    return Prediction(0, end - LENGTH, end, "WALKING", 0.9, np.zeros(6), 0.1, t_rel=t_rel)


def test_the_live_view_shows_clock_time_where_there_is_one():
    handle = io.StringIO()
    view = TerminalView(handle, ["WALKING"])
    view.write([prediction(1_764_000_208.0, 208.0)])
    local = datetime.fromtimestamp(1_764_000_208.0, timezone.utc).astimezone()
    assert f"{local:%H:%M:%S} (+3 min 28 s)" in handle.getvalue()
    handle = io.StringIO()
    TerminalView(handle, ["WALKING"]).write([prediction(273.0, 208.0)])
    assert "+3 min 28 s" in handle.getvalue() and "t=" not in handle.getvalue()


# -- harlite report -------------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script>'


def write_predictions(path: Path, labels: str, start: float = 0.0, label=None) -> None:
    lines = []
    for i, (s, e, name) in enumerate(windows(labels, start)):
        record = {"window": i, "start_time": s, "end_time": e, "t_rel": e - start,
                  "label": label or name, "confidence": 0.8, "probabilities": {}}  # fmt: skip
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")


def test_report_writes_a_self_contained_page_escaping_what_came_from_the_input(tmp_path):
    predictions = tmp_path / "rec.jsonl"
    write_predictions(predictions, "W" * 20, label=HOSTILE)
    summary = {"input": f"{HOSTILE}.csv", "model": "lstm", "artifact": "float32",
               "backend": "ai_edge_litert", "bad_rows": 3, "warnings": [HOSTILE],
               "bad_row_reasons": {HOSTILE: 3}}  # fmt: skip
    (tmp_path / "rec.summary.json").write_text(json.dumps(summary))
    result = run_cli("report", str(predictions), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "<svg" in page and "lstm (float32 on ai_edge_litert)" in page
    assert "src=" not in page and "href=" not in page  # nothing fetched from elsewhere


def test_the_timeline_says_day_only_where_the_input_has_a_wall_clock(tmp_path):
    pages = {}
    for name, start in (("relative", 0.0), ("clock", 1_764_000_000.0)):
        predictions = tmp_path / f"{name}.jsonl"
        write_predictions(predictions, "W" * 10, start=start)
        assert run_cli("report", str(predictions), "--out", str(tmp_path / name)).exit_code == 0
        pages[name] = (tmp_path / name / "report.html").read_text()
    assert "Activity over the day" in pages["clock"]
    assert "Activity over the day" not in pages["relative"]
    assert "from each recording&#x27;s start" in pages["relative"]


def test_report_draws_the_png_with_matplotlib_and_says_what_to_install_without(
    tmp_path, monkeypatch
):
    predictions = tmp_path / "rec.jsonl"
    write_predictions(predictions, "W" * 10 + "s" * 10)
    pytest.importorskip("matplotlib")
    run_cli("report", str(predictions), "--out", str(tmp_path / "a"))
    assert (tmp_path / "a" / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setattr("harlite.report.matplotlib_missing", lambda: True)
    result = run_cli("report", str(predictions), "--out", str(tmp_path / "b"))
    assert "pip install matplotlib" in result.output
    assert (tmp_path / "b" / "report.html").exists()
    assert not (tmp_path / "b" / "timeline.png").exists()


def test_report_over_a_batch_folder_is_one_page_of_all_its_recordings(tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    write_predictions(folder / "monday.jsonl", "W" * 30, start=1_764_000_000.0)
    write_predictions(folder / "tuesday.jsonl", "s" * 30, start=1_764_086_400.0)
    (folder / "batch-summary.json").write_text("{}")
    result = run_cli("report", str(folder), "--out", str(tmp_path / "out"))
    assert "report of 2 recording(s)" in result.output
    page = (tmp_path / "out" / "report.html").read_text()
    assert "monday.jsonl" in page and "tuesday.jsonl" in page
    assert "WALKING" in page and "SITTING" in page and "2 recordings" in page


def test_a_bad_predictions_line_is_named_never_a_traceback(tmp_path):
    predictions = tmp_path / "rec.jsonl"
    write_predictions(predictions, "WW")
    predictions.write_text(predictions.read_text() + '{"window": 2}\n')
    result = CliRunner().invoke(cli, ["report", str(predictions), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "rec.jsonl" in result.output and "line 3" in result.output
    assert "no 'label'" in result.output


def test_stream_report_writes_the_page_of_the_run(tmp_path):
    run_cli("stream", "--demo", "--output", str(tmp_path / "p.jsonl"), "--report",
            str(tmp_path / "r"), "--quiet")  # fmt: skip
    page = (tmp_path / "r" / "report.html").read_text()
    assert "exp54_user27.csv.gz" in page and "WALKING_UPSTAIRS" in page


# -- harlite serve --------------------------------------------------------------------------


def test_the_server_gives_time_per_activity_per_phone():
    pytest.importorskip("aiohttp")
    from harlite.runtime.model.bundle import Bundle
    from harlite.serve.sessions import LiveSession
    from harlite.serve.settings import ServeSettings
    from harlite.shipped import model_path

    bundle = model_path("lstm")
    session = LiveSession(ServeSettings(bundle=bundle), Bundle.open(bundle), "p", "s", "csv",
                          "android")  # fmt: skip
    rows = [f"{i * 0.02:.2f},0,0,1,0,0,0" for i in range(50 * 30)]
    predictions = session.take_csv(("\n".join(rows) + "\n").encode(), 0.0)
    state = session.state()
    assert predictions and sum(state["time_per_label"].values()) == pytest.approx(
        predictions[-1].end_time - predictions[0].start_time, abs=0.01
    )
