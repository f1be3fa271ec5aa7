"""Property-based fuzzing of every input parser: sensor CSVs (canonical, mapped headers,
Sensor Logger), UDP datagrams, labels.txt, HAPT and UCI HAR signal files, manifest.json.

Arbitrary bytes, truncated and huge lines, other encodings, NaN/inf, extreme values and
timestamps out of order or repeated: each must end in a clear DataError/BundleError or a
counted bad row, never another exception and never a hang, and the good input around a
bad line must still be classified. The number of generated cases is printed at the end of
the run (conftest.py's terminal summary).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import string
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harlite.errors import DataError, HarliteError
from harlite.runtime.io.lines import read_lines
from harlite.runtime.io.sources import (
    CsvSource,
    InputOptions,
    SensorLoggerSource,
    UdpSource,
)
from harlite.runtime.model.bundle import Bundle, BundleError, validate_manifest
from harlite.runtime.run import run_stream
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.sinks import CollectingSink
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path
from tests.conftest import count_case

pytestmark = pytest.mark.runtime

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADER = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z"
LSTM = model_path("lstm")

garbage_line = st.one_of(
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" ")),
    st.text(max_size=200).map(lambda t: t.replace("\n", " ").encode("utf-8", "surrogatepass")),
    st.text(max_size=60).map(lambda t: t.replace("\n", " ").encode("utf-16")),
    st.sampled_from([b"", b"\r", b"nan,nan", b"1e999,0,0,0,0,0,0", b"," * 7, b"\x00" * 20]),
    st.integers(5000, 20000).map(lambda n: b"9" * n),  # a huge line
)
extreme = st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-320, 1e6, -500.0])


def good_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.column_stack(
        (
            np.arange(n) / 50.0,
            [1.0, 0.0, 0.0] + 0.05 * rng.standard_normal((n, 3)),
            0.1 * rng.standard_normal((n, 3)),
        )
    )
    return rows


def row_line(row) -> bytes:
    return (",".join(f"{v:.9g}" for v in row)).encode()


def stream_file(path, **options):
    classifier = StreamClassifier(LSTM)
    return run_stream(CsvSource(path, InputOptions(**options)), classifier, [], name=str(path))


@FUZZ
@given(data=st.data())
def test_garbage_lines_are_counted_and_the_rest_classified(tmp_path_factory, data):
    count_case("csv: garbage lines among good rows")
    n = 400
    rows = good_rows(n, data.draw(st.integers(0, 1000)))
    lines = [HEADER.encode()] + [row_line(r) for r in rows]
    positions = data.draw(st.lists(st.integers(2, n), max_size=6, unique=True))
    for position in positions:  # replace a row (never the first: it anchors the stream)
        lines[position] = data.draw(garbage_line)
    newline = data.draw(st.sampled_from([b"\n", b"\r\n"]))
    path = tmp_path_factory.mktemp("fuzz") / "rec.csv"
    path.write_bytes(newline.join(lines) + newline)
    summary = stream_file(path)
    assert summary.samples + summary.bad_rows == summary.rows
    if summary.samples == n - len(positions):  # every garbage line was refused
        # Isolated refused rows are interpolated over (far shorter than a gap): nothing lost.
        assert summary.windows == count_windows(n)
    assert summary.windows >= count_windows(n) - 2 * len(positions)


@FUZZ
@given(values=st.lists(extreme, min_size=1, max_size=10), data=st.data())
def test_extreme_values_are_refused_not_propagated(tmp_path_factory, values, data):
    count_case("csv: NaN, inf and extreme values")
    n = 300
    rows = good_rows(n)
    cells = data.draw(
        st.lists(st.tuples(st.integers(1, n - 1), st.integers(1, 6)), min_size=len(values),
                 max_size=len(values), unique=True)
    )  # fmt: skip
    for (i, j), value in zip(cells, values, strict=True):
        rows[i, j] = value
    path = tmp_path_factory.mktemp("fuzz") / "rec.csv"
    path.write_bytes(b"\n".join([HEADER.encode()] + [row_line(r) for r in rows]) + b"\n")
    sink = CollectingSink()
    summary = run_stream(CsvSource(path), StreamClassifier(LSTM), [sink], name=str(path))
    bad = {i for (i, _), v in zip(cells, values, strict=True) if not abs(v) < 40}
    assert summary.bad_rows == len(bad)
    assert all(np.isfinite(p.probabilities).all() for p in sink.predictions)


@FUZZ
@given(order=st.permutations(list(range(40))), repeats=st.lists(st.integers(0, 39), max_size=5))
def test_timestamps_out_of_order_or_repeated_are_counted(tmp_path_factory, order, repeats):
    count_case("csv: timestamps shuffled or repeated")
    rows = good_rows(300)
    block = rows[100:140].copy()
    rows[100:140] = block[order]
    for r in repeats:
        rows[100 + r, 0] = rows[99 + r, 0]
    path = tmp_path_factory.mktemp("fuzz") / "rec.csv"
    path.write_bytes(b"\n".join([HEADER.encode()] + [row_line(r) for r in rows]) + b"\n")
    summary = stream_file(path)
    assert summary.samples + summary.bad_rows == 300
    reasons = {"timestamp went backwards", "timestamp repeated", "timestamp jumped ahead"}
    assert set(summary.bad_row_reasons) <= reasons
    # Every row outside the shuffled block is kept: a row out of place costs only itself
    # (before issue 13, one row jumped ahead cost every row after it up to its time).
    assert summary.samples >= 300 - 40


@FUZZ
@given(content=st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_the_csv_reader(tmp_path_factory, content):
    count_case("csv: arbitrary bytes")
    path = tmp_path_factory.mktemp("fuzz") / "junk.csv"
    path.write_bytes(content)
    try:
        summary = stream_file(path)
    except DataError as error:
        assert str(path) in str(error)
    else:
        assert summary.samples > 0


@FUZZ
@given(
    columns=st.permutations(["time", "ax", "ay", "az", "gx", "gy", "gz", "note"]),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
    units=st.sampled_from([("g", "rad/s", "s"), ("m/s2", "deg/s", "ms"), ("m/s2", "rad/s", "ns")]),
)
def test_mapped_headers_in_any_order_delimiter_and_unit_parse_exactly(
    tmp_path_factory, columns, delimiter, bom, units
):
    count_case("csv: header mapping, delimiters, units")
    rows = good_rows(30)
    acc, gyro, time_unit = units
    scale = {
        "time": {"s": 1, "ms": 1e3, "ns": 1e9}[time_unit],
        "a": 9.80665 if acc == "m/s2" else 1.0,
        "g": 180 / np.pi if gyro == "deg/s" else 1.0,
    }
    source = {"time": 0, "ax": 1, "ay": 2, "az": 3, "gx": 4, "gy": 5, "gz": 6}
    lines = [delimiter.join(columns)]
    for row in rows:
        cells = []
        for name in columns:
            if name == "note":
                cells.append("x")
            else:
                factor = scale["time"] if name == "time" else scale[name[0]]
                cells.append(repr(float(row[source[name]] * factor)))
        lines.append(delimiter.join(cells))
    path = tmp_path_factory.mktemp("fuzz") / "rec.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode() + b"\n")
    options = InputOptions(acc_unit=acc, gyro_unit=gyro, time_unit=time_unit)
    parsed = np.concatenate([b.rows for b in CsvSource(path, options)])
    np.testing.assert_allclose(parsed, rows, rtol=1e-9, atol=1e-12)


@FUZZ
@given(blocks=st.lists(st.binary(max_size=200), max_size=20), size=st.integers(1, 64))
def test_line_reader_numbers_every_line_whatever_the_blocks(blocks, size):
    count_case("line reader: arbitrary blocks")
    data = b"".join(blocks)
    lines = [pair for batch in read_lines(io.BytesIO(data).read, size, 100) for pair in batch]
    assert [n for n, _ in lines] == list(range(1, len(lines) + 1))
    expected = data.removeprefix(b"\xef\xbb\xbf").count(b"\n") + (not data.endswith(b"\n"))
    if data:
        assert len(lines) == expected or len(lines) == expected - 1  # a trailing BOM-only line


@FUZZ
@given(
    acc=st.one_of(st.binary(max_size=400), st.just(b"time,seconds_elapsed,z,y,x\n1,0,0,0,0\n")),
    gyro=st.binary(max_size=400),
    names=st.sampled_from([("TotalAcceleration.csv", "Gyroscope.csv"), ("Accelerometer.csv", "x")]),
)
def test_sensorlogger_exports_with_junk_fail_clearly(tmp_path_factory, acc, gyro, names):
    count_case("sensorlogger: junk member files")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(names[0], acc)
        archive.writestr(names[1], gyro)
    path = tmp_path_factory.mktemp("fuzz") / "export.zip"
    path.write_bytes(buffer.getvalue())
    try:
        summary = run_stream(SensorLoggerSource(path), StreamClassifier(LSTM), [], name=str(path))
    except DataError:
        return
    assert summary.samples > 0


@FUZZ
@given(content=st.binary(max_size=500))
def test_truncated_or_junk_zip_is_a_clear_error(tmp_path_factory, content):
    count_case("sensorlogger: junk zip")
    path = tmp_path_factory.mktemp("fuzz") / "export.zip"
    path.write_bytes(b"PK\x03\x04" + content)
    with pytest.raises(DataError):
        list(SensorLoggerSource(path))


def test_udp_junk_bursts_duplicates_and_pauses_are_counted():
    rng = np.random.default_rng(0)
    lines = [row_line(r) for r in good_rows(1000)]
    datagrams = [b"\n".join(lines[i : i + 20]) for i in range(0, 1000, 20)]
    # One burst far faster than real time: junk, a duplicate (5) and a late datagram (10
    # arrives after 11, so its rows are refused and leave a 0.42 s hole: a gap).
    junk = [bytes(rng.integers(0, 256, 100, dtype=np.uint8)) for _ in range(5)]
    burst = [*datagrams[:10], datagrams[5], *junk, datagrams[11], datagrams[10], *datagrams[12:]]
    # Then the sender pauses and resumes 100 s later in its own clock.
    resumed = [row_line(r) for r in good_rows(300) + np.array([100.0, 0, 0, 0, 0, 0, 0])]
    source = UdpSource(0, idle_timeout=1.0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in burst:
            sender.sendto(datagram, ("127.0.0.1", source.port))
        time.sleep(0.3)
        for i in range(0, 300, 30):
            sender.sendto(b"\n".join(resumed[i : i + 30]), ("127.0.0.1", source.port))
    count_case("udp: junk, duplicate, late datagrams, pause")
    summary = run_stream(source, StreamClassifier(LSTM), [], name=source.name)
    reasons = summary.bad_row_reasons
    # The duplicate and the late datagram come after later samples: both go backwards.
    assert reasons["timestamp went backwards"] == 40
    assert summary.bad_rows >= 45  # and the junk, line by line
    assert summary.samples == 980 + 300  # all but the late datagram
    assert summary.gaps == 2
    assert summary.windows == count_windows(200) + count_windows(780) + count_windows(300)


@settings(max_examples=40, deadline=None)
@given(junk=st.lists(st.binary(min_size=1, max_size=1500), max_size=8), data=st.data())
def test_arbitrary_udp_datagrams_never_crash_the_stream(junk, data):
    count_case("udp: arbitrary datagrams")
    lines = [row_line(r) for r in good_rows(300)]
    datagrams = [b"\n".join(lines[i : i + 25]) for i in range(0, 300, 25)]
    for datagram in junk:
        datagrams.insert(data.draw(st.integers(1, len(datagrams))), datagram)
    source = UdpSource(0, idle_timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, ("127.0.0.1", source.port))
    summary = run_stream(source, StreamClassifier(LSTM), [], name=source.name)
    assert summary.samples >= 1
    assert summary.samples + summary.bad_rows == summary.rows


@FUZZ
@given(text=st.text(alphabet=string.printable, max_size=400))
def test_labels_file_parser_raises_only_data_errors(tmp_path_factory, text):
    count_case("labels.txt: arbitrary text")
    from harlite.train.hapt import read_labels

    path = tmp_path_factory.mktemp("fuzz") / "labels.txt"
    path.write_text(text)
    try:
        segments = read_labels(path)
    except DataError as error:
        assert "labels.txt" in str(error)
    else:
        assert all(1 <= s.activity <= 12 and s.start <= s.end for s in segments)


@FUZZ
@given(content=st.one_of(st.binary(max_size=600), st.text(string.printable, max_size=600)))
def test_signal_file_parser_raises_only_data_errors(tmp_path_factory, content):
    count_case("HAPT/UCI signal files: arbitrary content")
    from harlite.train.textio import read_numeric_table

    path = tmp_path_factory.mktemp("fuzz") / "acc_exp01_user01.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    try:
        table = read_numeric_table(path, 3)
    except DataError as error:
        assert path.name in str(error)
    else:
        assert table.shape[1] == 3 and np.isfinite(table).all()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(data=st.data())
def test_manifest_validation_raises_only_bundle_errors(data):
    count_case("manifest.json: mutated fields")
    manifest = json.loads((LSTM / "manifest.json").read_text())
    path = data.draw(
        st.sampled_from(
            [
                (), ("labels",), ("input",), ("input", "window"), ("preprocessing",),
                ("preprocessing", "design"), ("preprocessing", "design", "order"),
                ("preprocessing", "noise_sos"), ("preprocessing", "gravity_sos", 1),
                ("preprocessing", "gravity_sos", 1, 4),
                ("artifacts",), ("artifacts", "float32"), ("artifacts", "float32", "file"),
                ("artifacts", "float32", "size"), ("default_artifact",), ("schema_version",),
            ]
        )
    )  # fmt: skip
    value = data.draw(json_values)
    if not path:
        manifest = value
    else:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    with contextlib.suppress(BundleError):
        validate_manifest(manifest, "manifest.json")


@FUZZ
@given(content=st.binary(max_size=300))
def test_manifest_bytes_raise_only_bundle_errors(tmp_path_factory, content):
    count_case("manifest.json: arbitrary bytes")
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "manifest.json").write_bytes(content)
    with pytest.raises(BundleError):
        Bundle.open(folder)


def test_errors_are_harlite_errors():
    assert issubclass(DataError, HarliteError) and issubclass(BundleError, HarliteError)
