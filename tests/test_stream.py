"""The streaming runtime: resampling, StreamClassifier, smoothing, sources, sinks, sessions.

Runtime-only: runs with numpy, scipy and a TFLite interpreter (no TensorFlow), on the
shipped lstm bundle.
"""

from __future__ import annotations

import io
import itertools
import json
import socket
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harlite.errors import DataError
from harlite.runtime.resample import Resampler
from harlite.runtime.session import run_stream
from harlite.runtime.sinks import CsvSink, JsonLinesSink, TerminalView
from harlite.runtime.smoothing import Smoother, parse_smoothing
from harlite.runtime.sources import CsvSource, InputOptions, UdpSource, paced, read_lines
from harlite.runtime.stream import (
    BACKWARDS,
    NON_FINITE,
    OUT_OF_RANGE,
    REPEATED,
    StreamClassifier,
)
from harlite.runtime.windowing import count_windows
from harlite.shipped import model_path
from tests.builders import raw_signal

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


def timed_rows(n: int, rate: float = 50.0, seed: int = 0, start: float = 0.0) -> np.ndarray:
    """(n, 7) rows: time at ``rate`` from ``start``, then a plausible raw signal."""
    return np.column_stack((start + np.arange(n) / rate, raw_signal(n, seed)))


@pytest.fixture(scope="module")
def lstm_classifier_factory():
    def make(**kwargs) -> StreamClassifier:
        return StreamClassifier(LSTM, **kwargs)

    return make


# --- resampling -------------------------------------------------------------------------


def test_on_grid_input_comes_out_unchanged():
    t = np.arange(300) / 50.0
    x = np.random.default_rng(0).standard_normal((300, 6))
    pieces = Resampler(50.0, 0.25).push(t, x, np.zeros(300, np.int16))
    assert len(pieces) == 1
    np.testing.assert_allclose(pieces[0].values, x, atol=1e-12)
    np.testing.assert_allclose(pieces[0].times, t, atol=1e-12)


def test_100_hz_ramp_is_interpolated_onto_the_50_hz_grid():
    t = 0.003 + np.arange(1000) / 100.0  # off-grid start: the grid starts at the first sample
    x = np.column_stack([t * (k + 1) for k in range(6)])
    piece = Resampler(50.0, 0.25).push(t, x, np.zeros(1000, np.int16))[0]
    assert len(piece.times) == 500
    np.testing.assert_allclose(np.diff(piece.times), 0.02, atol=1e-9)
    np.testing.assert_allclose(
        piece.values, np.column_stack([piece.times * (k + 1) for k in range(6)])
    )


def test_a_gap_restarts_the_grid_instead_of_interpolating_across_it():
    t = np.concatenate((np.arange(100) / 50.0, 10.0 + np.arange(100) / 50.0))
    resampler = Resampler(50.0, 0.25)
    pieces = resampler.push(t, np.ones((200, 6)), np.zeros(200, np.int16))
    assert [p.restart for p in pieces] == [False, True]
    assert [len(p.times) for p in pieces] == [100, 100]
    assert pieces[1].times[0] == 10.0
    assert resampler.gaps == 1


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 400), min_size=1, max_size=8),
    rate=st.sampled_from([25.0, 50.0, 100.0, 200.0, 73.3]),
)
def test_resampling_does_not_depend_on_chunking(cuts, rate):
    rng = np.random.default_rng(1)
    n = 600
    t = np.cumsum(rng.uniform(0.5, 1.5, n) / rate)
    x = rng.standard_normal((n, 6))
    codes = rng.integers(0, 6, n).astype(np.int16)
    whole = Resampler(50.0, 1.0).push(t, x, codes)
    chunked = []
    resampler = Resampler(50.0, 1.0)
    bounds = sorted({0, n, *[c % n for c in np.cumsum(cuts)]})
    for a, b in itertools.pairwise(bounds):
        chunked += resampler.push(t[a:b], x[a:b], codes[a:b])
    np.testing.assert_allclose(
        np.concatenate([p.values for p in chunked]), whole[0].values, atol=1e-12
    )
    np.testing.assert_array_equal(np.concatenate([p.codes for p in chunked]), whole[0].codes)


# --- StreamClassifier -------------------------------------------------------------------


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
    assert classifier.last_rejected == [
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


# --- smoothing --------------------------------------------------------------------------


def test_mean_smoothing_averages_probabilities_and_states_its_delay():
    smoother = Smoother("mean", 3)
    a, b = np.array([0.9, 0.1]), np.array([0.2, 0.8])
    assert smoother.update(a) == (0, pytest.approx(0.9))
    assert smoother.update(b)[0] == 0  # mean (0.55, 0.45)
    assert smoother.update(b)[0] == 1
    assert smoother.delay_s(1.28) == pytest.approx(1.28)


def test_vote_smoothing_takes_the_majority_and_breaks_ties_by_recency():
    smoother = Smoother("vote", 4)
    one, two = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert smoother.update(one) == (0, 1.0)
    assert smoother.update(two) == (1, 0.5)  # tie: the most recent wins
    assert smoother.update(two) == (1, pytest.approx(2 / 3))


def test_parse_smoothing():
    assert parse_smoothing(None) is None
    assert parse_smoothing("none") is None
    assert parse_smoothing("vote:3").describe() == "vote of 3"
    with pytest.raises(ValueError):
        parse_smoothing("median:3")
    with pytest.raises(ValueError):
        parse_smoothing("mean:x")


# --- line reading and CSV parsing -------------------------------------------------------


def reader_of(data: bytes, block: int = 7):
    stream = io.BytesIO(data)
    return [pair for batch in read_lines(stream.read, block, max_line=64) for pair in batch]


def test_read_lines_handles_bom_crlf_and_blocks_splitting_lines():
    lines = reader_of(b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4")
    assert lines == [(1, "a,b"), (2, "1,2"), (3, "3,4")]


def test_read_lines_reports_long_and_undecodable_lines_and_goes_on():
    data = b"ok\n" + b"x" * 200 + b"\n\xff\xfe\nlast\n"
    lines = reader_of(data)
    assert lines[0] == (1, "ok")
    assert lines[1][0] == 2 and lines[1][1].reason == "line too long"
    assert lines[2][0] == 3 and lines[2][1].reason == "not UTF-8 text"
    assert lines[3] == (4, "last")


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


def canonical_csv(rows: np.ndarray, labels=None, header=True, newline="\n") -> str:
    lines = ["t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" + (",label" if labels else "")] * header
    for i, row in enumerate(rows):
        line = ",".join(f"{v:.9g}" for v in row)
        lines.append(line + (f",{labels[i]}" if labels else ""))
    return newline.join(lines) + newline


def parse_all(path, **options):
    source = CsvSource(path, InputOptions(**options))
    batches = list(source)
    rows = np.concatenate([b.rows for b in batches])
    bad = [x for b in batches for x in b.bad]
    return source, rows, bad


def test_canonical_csv_round_trips(tmp_path):
    rows = timed_rows(50)
    _, parsed, bad = parse_all(write(tmp_path, "a.csv", canonical_csv(rows)))
    np.testing.assert_allclose(parsed, rows, rtol=1e-8)
    assert bad == []


def test_bom_crlf_and_semicolons_are_read(tmp_path):
    rows = timed_rows(20)
    text = canonical_csv(rows, newline="\r\n").replace(",", ";")
    path = write(tmp_path, "a.csv", b"\xef\xbb\xbf" + text.encode())
    _, parsed, bad = parse_all(path)
    np.testing.assert_allclose(parsed, rows, rtol=1e-8)
    assert bad == []


def test_header_aliases_and_units(tmp_path):
    rows = timed_rows(20)
    lines = ["timestamp [ms],ax,ay,az,wx,wy,wz,extra"]
    for r in rows:
        acc = r[1:4] * 9.80665
        gyro = np.degrees(r[4:7])
        lines.append(",".join(f"{v:.12g}" for v in (r[0] * 1000, *acc, *gyro, 7)))
    path = write(tmp_path, "a.csv", "\n".join(lines) + "\n")
    source, parsed, _ = parse_all(path, acc_unit="m/s2", gyro_unit="deg/s", time_unit="ms")
    np.testing.assert_allclose(parsed, rows, rtol=1e-9, atol=1e-12)
    assert "acc_x=ax" in source.layout.describe()


def test_columns_option_maps_odd_names(tmp_path):
    rows = timed_rows(5)
    text = canonical_csv(rows).replace("gyro_", "rot", 3)
    path = write(tmp_path, "a.csv", text.replace("t,acc_x", "when,acc_x"))
    from harlite.runtime.sensorcsv import parse_columns_option

    mapping = parse_columns_option("t=when,gyro_x=rotx,gyro_y=roty,gyro_z=rotz")
    _, parsed, _ = parse_all(path, columns=mapping)
    np.testing.assert_allclose(parsed, rows, rtol=1e-8)


def test_headerless_input_takes_the_canonical_order(tmp_path):
    rows = timed_rows(10)
    _, parsed, _ = parse_all(write(tmp_path, "a.csv", canonical_csv(rows, header=False)))
    np.testing.assert_allclose(parsed, rows, rtol=1e-8)


def test_input_without_time_needs_a_rate(tmp_path):
    rows = timed_rows(10, rate=100.0)
    text = "\n".join(",".join(f"{v:.9g}" for v in r[1:]) for r in rows) + "\n"
    path = write(tmp_path, "a.csv", text)
    with pytest.raises(DataError, match="--rate"):
        parse_all(path)
    _, parsed, _ = parse_all(path, rate_hz=100.0)
    np.testing.assert_allclose(parsed, rows, rtol=1e-8, atol=1e-12)


def test_bad_lines_are_reported_with_line_and_reason(tmp_path):
    rows = timed_rows(6)
    lines = canonical_csv(rows).splitlines()
    lines[2] = "0.02,1,2"  # line 3: too few fields
    lines[3] = "0.04,1,,0,0,0,0"  # line 4: empty field
    lines[4] = "0.06,1,abc,0,0,0,0"  # line 5: not a number
    path = write(tmp_path, "a.csv", "\n".join(lines) + "\n\n# a comment\n")
    _, parsed, bad = parse_all(path)
    assert len(parsed) == 3
    assert [(line, reason) for line, reason, _ in bad] == [
        (3, "wrong number of fields"),
        (4, "missing value"),
        (5, "not a number"),
    ]
    assert "acc_y" in bad[1][2] and "abc" in bad[2][2]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty input"),
        (b"\x00\x01\x02\xff\xfe" * 50, "not a text CSV"),
        (b"PK\x03\x04\x14\x00\x00\x00binary\x00junk", "not a text CSV"),
        (b"name,age\nbob,3\n", "no column for acc_x"),
        (b"1,2,3\n", "3 fields and no header"),
    ],
)
def test_unusable_files_fail_clearly(tmp_path, content, message):
    with pytest.raises(DataError, match=message):
        parse_all(write(tmp_path, "a.csv", content))


def test_gzip_input_is_read(tmp_path):
    import gzip

    rows = timed_rows(30)
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(canonical_csv(rows).encode()))
    _, parsed, _ = parse_all(path)
    np.testing.assert_allclose(parsed, rows, rtol=1e-8)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    import gzip

    data = gzip.compress(canonical_csv(timed_rows(3000)).encode())
    path = write(tmp_path, "a.csv.gz", data[: len(data) // 2])
    with pytest.raises(DataError, match="cannot read"):
        parse_all(path)


# --- sessions and sinks -----------------------------------------------------------------


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
    assert "window 8" in screen.getvalue() and "\x1b[3F" in screen.getvalue()


def test_replay_paces_by_timestamps(tmp_path):
    path = write(tmp_path, "a.csv", canonical_csv(timed_rows(50)))  # 0.98 s of signal
    started = time.monotonic()
    batches = list(paced(CsvSource(path), speed=4.0))
    elapsed = time.monotonic() - started
    assert sum(len(b.rows) for b in batches) == 50
    assert len(batches) > 5
    assert elapsed >= 0.98 / 4 - 0.01


def test_udp_datagrams_are_classified(lstm_classifier_factory):
    source = UdpSource(0, options=InputOptions(), idle_timeout=1.0)
    rows = timed_rows(400)
    text = canonical_csv(rows, header=False).splitlines()
    text[5] = "not,a,row"

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for start in range(0, len(text), 10):
                payload = "\n".join(text[start : start + 10]).encode()
                sender.sendto(payload, ("127.0.0.1", source.port))
                time.sleep(0.001)

    thread = threading.Thread(target=send)
    thread.start()
    summary = run_stream(source, lstm_classifier_factory(), [], name=source.name)
    thread.join()
    assert summary.samples == 399
    assert summary.bad_row_reasons == {"wrong number of fields": 1}
    assert summary.windows == count_windows(400)
    assert source.name.startswith("udp://127.0.0.1:")


def test_udp_listens_on_loopback_by_default():
    source = UdpSource(0, idle_timeout=0.01)
    try:
        assert source._socket.getsockname()[0] == "127.0.0.1"
    finally:
        source.close()


def test_predictions_serialise_to_json(lstm_classifier_factory):
    classifier = lstm_classifier_factory()
    p = classifier.push(timed_rows(128))[0]
    record = json.loads(json.dumps(p.to_dict(classifier.labels)))
    assert set(record) >= {"window", "start_time", "end_time", "label", "confidence"}
    assert set(record["probabilities"]) == set(classifier.labels)
