"""harlite.runtime.io.sources: line reading, CSV files, replay and UDP (runtime-only)."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from harlite.errors import DataError
from harlite.runtime.io.sources import CsvSource, InputOptions, LineFeed, UdpSource, paced
from harlite.runtime.run import run_stream
from harlite.runtime.signal.sliding_window import count_windows
from harlite.shipped import model_path
from tests.builders import canonical_csv, parse_all, reader_of, timed_rows, write

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")


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
    from harlite.runtime.io.sensorcsv import parse_columns_option

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


def test_truncated_gzip_keeps_the_readable_part_and_says_so(tmp_path):
    import gzip

    data = gzip.compress(canonical_csv(timed_rows(3000)).encode())
    path = write(tmp_path, "a.csv.gz", data[: len(data) // 2])
    source, rows, _ = parse_all(path)  # until issue 13 a DataError: everything was lost
    assert source.truncated and "ends early" in source.truncated
    assert 0 < len(rows) < 3000
    np.testing.assert_allclose(rows[:, 0], np.arange(len(rows)) / 50, atol=1e-6)
    header_only = write(tmp_path, "b.csv.gz", data[:20])
    with pytest.raises(DataError, match="cannot read"):
        parse_all(header_only)


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


def test_udp_lines_after_a_labelled_first_datagram_are_read_with_or_without_their_label():
    """Issue 28, item 23: the first datagram's label column fixed the field count, so every
    unlabelled line after it was a bad row (and the other way round)."""
    source = UdpSource(0, idle_timeout=0.5)
    lines = canonical_csv(timed_rows(6), header=False).splitlines()
    datagrams = [lines[0] + ",WALKING", "\n".join(lines[1:3]), lines[3] + ",SITTING", lines[4]]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram.encode(), ("127.0.0.1", source.port))
    batches = []
    for parsed in source:
        batches.append(parsed)
        if len(batches) == len(datagrams):
            break
    source.close()
    assert [b.bad for b in batches] == [[]] * 4
    assert [len(b.rows) for b in batches] == [1, 2, 1, 1]
    assert [b.labels for b in batches] == [["WALKING"], None, ["SITTING"], None]
    np.testing.assert_allclose(np.vstack([b.rows for b in batches]), timed_rows(6)[:5], atol=1e-6)


def test_a_feed_started_without_labels_reads_labelled_lines_too():
    feed = LineFeed("udp://test")
    first = feed.parse(b"0.00,0,0,1,0,0,0\n")
    second = feed.parse(b"0.02,0,0,1,0,0,0,WALKING\n0.04,0,0,1,0,0,0\n")
    assert first.bad == [] and first.labels is None
    assert second.bad == [] and second.labels == ["WALKING", None]
    # a header fixes the columns: a line with a field more is still a bad row
    named = LineFeed("udp://test")
    named.parse(b"t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
    assert named.parse(b"0.02,0,0,1,0,0,0,WALKING\n").bad[0][1] == "wrong number of fields"
