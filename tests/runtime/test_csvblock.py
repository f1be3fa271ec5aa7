"""harlite.runtime.io.csvblock: CSV blocks parsed at once give exactly what line-by-line parsing
gives (rows to the bit, line numbers, labels, bad rows and their reasons), with pandas' C
reader and with Python's float; files and stdin (runtime-only; pandas where installed)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harlite.runtime.io import csvblock
from harlite.runtime.io.lines import LineBlock, read_line_blocks
from harlite.runtime.io.sensorcsv import RowParser, Units, layout_from_header, positional_layout
from harlite.runtime.io.sources import CsvSource, InputOptions
from harlite.runtime.run import run_stream
from harlite.runtime.sinks import CollectingSink
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path
from tests.builders import canonical_csv, timed_rows
from tests.conftest import count_case

pytestmark = pytest.mark.runtime

LSTM = model_path("lstm")
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Fields a sensor CSV may hold: plain numbers in many spellings, and what is not a number.
NUMBERS = st.one_of(
    st.floats(allow_nan=False, width=64).map(repr),
    st.floats(-20, 20).map(lambda v: f"{v:.7g}"),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(
        ["0", "-0", "1e5", "1E-05", "+.5", "5.", " 1.5", "1.5 ", "inf", "-Infinity", "nan",
         "NaN", "1_000", "0x10", "", " ", "abc", "1,5", "１", "1e400", "0.000000000000001953",
         "9007199254740993", "1.00000000000000011102230246251565404236316680908203125"]
    ),
)  # fmt: skip
LABELS = st.sampled_from(["WALKING", "", " SITTING ", "Treppe hoch", "ü", "#x", "NA", "nan"])


def _line(draw, fields: int, label: bool, delimiter: str) -> str:
    kind = draw(st.sampled_from(["good"] * 6 + ["bad field", "count", "blank", "comment", "junk"]))
    numbers = fields - label
    if kind == "blank":
        return draw(st.sampled_from(["", "  ", "\t"]))
    if kind == "comment":
        return "# " + draw(st.text(max_size=10)).replace("\n", "")
    if kind == "junk":
        return draw(st.text(max_size=30)).replace("\n", "").replace("\r", "")
    values = [draw(st.floats(-20, 20).map(lambda v: f"{v:.7g}")) for _ in range(numbers)]
    if kind == "bad field":
        values[draw(st.integers(0, numbers - 1))] = draw(NUMBERS)
    if label:
        values.append(draw(LABELS))
    if kind == "count":
        values = values[:-1] if draw(st.booleans()) else [*values, "1"]
    return delimiter.join(values)


@st.composite
def csv_blocks(draw):
    """(parser factory, bytes of a block of lines) for a random layout and content."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    layout_kind = draw(st.sampled_from(["header+label", "header", "positional", "rate"]))
    if layout_kind == "rate":
        layout, label, rate = positional_layout(6), False, 50.0
    elif layout_kind == "positional":
        layout, label, rate = positional_layout(7), False, None
    else:
        label = layout_kind == "header+label"
        names = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z" + (",label" if label else "")
        layout, rate = layout_from_header(names.split(",")), None
    fields = layout.n_fields
    mostly_good = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(1, 40))):
        if mostly_good and draw(st.integers(0, 9)):
            values = [
                f"{v:.7g}"
                for v in draw(
                    st.lists(st.floats(-20, 20), min_size=fields - label, max_size=fields - label)
                )
            ]
            lines.append(delimiter.join(values + ([draw(LABELS)] if label else [])))
        else:
            lines.append(_line(draw, fields, label, delimiter))
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    data = ending.join(lines).encode() + (ending.encode() if draw(st.booleans()) else b"")
    if draw(st.integers(0, 9)) == 0:  # a line that is not UTF-8
        data = data.replace(b"\n", b"\n\xff\xfe,", 1)
    unit = draw(st.sampled_from([Units(), Units(acc="m/s2", gyro="deg/s", time="ms")]))

    def parser() -> RowParser:
        return RowParser(layout, unit, delimiter, rate_hz=rate)

    return parser, data


def _both_ways(make_parser, data: bytes, first: int = 1):
    block = LineBlock(first, data, data.count(b"\n") + (not data.endswith(b"\n")))
    fast = make_parser().parse_block(block)
    slow = make_parser().parse(block.lines())
    return fast, slow


def _assert_same(fast, slow) -> None:
    assert np.array_equal(fast.rows, slow.rows, equal_nan=True)
    assert fast.rows.dtype == slow.rows.dtype and fast.rows.shape == slow.rows.shape
    assert fast.lines.tolist() == slow.lines.tolist()
    assert fast.labels == slow.labels
    assert fast.bad == slow.bad


@pytest.fixture(params=["float", "pandas"])
def numeric_reader(request, monkeypatch):
    """Each test runs with Python's float over columns and with pandas' C reader."""
    if request.param == "pandas":
        pytest.importorskip("pandas", reason="the pandas reader needs pandas (harlite[fast])")
        monkeypatch.setattr(csvblock, "PANDAS_MIN_LINES", 1)
        monkeypatch.setattr(csvblock, "_READ_CSV", csvblock._UNSET)
        assert csvblock.pandas_reader() is not None
    else:
        monkeypatch.setattr(csvblock, "_READ_CSV", None)
    return request.param


@PROPERTY
@given(case=csv_blocks())
def test_a_block_parses_exactly_as_its_lines_do(numeric_reader, case):
    count_case(f"csv blocks: parsed at once = line by line ({numeric_reader})")
    make_parser, data = case
    fast, slow = _both_ways(make_parser, data, first=7)
    _assert_same(fast, slow)


@PROPERTY
@given(values=st.lists(NUMBERS, min_size=7, max_size=7), rows=st.integers(2, 30))
def test_every_number_spelling_is_read_as_float_reads_it(numeric_reader, values, rows):
    count_case(f"csv blocks: number spellings ({numeric_reader})")
    good = ",".join(["0.02", "1", "0", "0", "0.1", "0", "0"])
    lines = [good] * rows
    lines[rows // 2] = ",".join(values)
    layout = positional_layout(7)
    fast, slow = _both_ways(
        lambda: RowParser(layout, Units(), ","), ("\n".join(lines) + "\n").encode()
    )
    _assert_same(fast, slow)


def test_plain_blocks_take_the_fast_path(numeric_reader, monkeypatch):
    """The fast path is really taken for clean data (else the tests above prove nothing)."""
    text = canonical_csv(timed_rows(600, seed=1), labels=["WALKING"] * 600, header=False)
    layout = layout_from_header(
        ["t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z", "label"]
    )
    calls = []
    monkeypatch.setattr(RowParser, "parse", lambda self, lines: calls.append(1))
    parsed = RowParser(layout, Units()).parse_block(LineBlock(2, text.encode(), 600))
    assert not calls and len(parsed.rows) == 600 and parsed.labels[0] == "WALKING"
    assert parsed.lines.tolist() == list(range(2, 602))


def test_a_line_split_across_reads_and_a_long_line_are_numbered_as_before():
    data = b"t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n" + b"0,1,0,0,0,0,0\n" * 5
    data += b"9" * 5000 + b"\n" + b"1,1,0,0,0,0,0\n" * 3
    for size in (7, 64, 4096, 1 << 20):
        stream = iter([data[i : i + size] for i in range(0, len(data), size)] + [b""])
        items = list(read_line_blocks(lambda n, s=stream: next(s), size))
        numbers = []
        for item in items:
            numbers += [n for n, _ in (item.lines() if isinstance(item, LineBlock) else item)]
        assert numbers == list(range(1, 11))


def _predictions(path, monkeypatch, *, line_by_line: bool):
    with monkeypatch.context() as patch:
        if line_by_line:
            patch.setattr(RowParser, "parse_block", lambda self, block: self.parse(block.lines()))
        sink = CollectingSink()
        source = CsvSource(path, InputOptions())
        classifier = StreamClassifier(LSTM)
        summary = run_stream(source, classifier, [sink], name=str(path))
    return [p.to_dict(classifier.labels) for p in sink.predictions], summary


def test_a_file_with_bad_rows_streams_exactly_as_line_by_line(
    tmp_path, monkeypatch, numeric_reader
):
    rows = timed_rows(40_000, seed=3)  # about 3 MB: several 1 MiB blocks
    labels = ["WALKING" if i % 3000 < 1500 else "SITTING" for i in range(len(rows))]
    lines = canonical_csv(rows, labels=labels).splitlines()
    for at in (5, 12_000, 12_001, 25_000, 39_000):  # bad rows inside some blocks
        lines[at] = lines[at].replace(",", ",x", 1)
    lines[30_000] = "# a comment"
    lines[30_001] = ""
    path = tmp_path / "rec.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    fast, fast_summary = _predictions(path, monkeypatch, line_by_line=False)
    slow, slow_summary = _predictions(path, monkeypatch, line_by_line=True)
    for p in fast + slow:
        p.pop("latency_ms")
    assert fast == slow and len(fast) > 600
    assert fast_summary.bad_rows == slow_summary.bad_rows == 5
    assert fast_summary.first_bad_rows == slow_summary.first_bad_rows
    assert fast_summary.bad_row_reasons == slow_summary.bad_row_reasons


def test_stdin_gives_what_the_file_gives(tmp_path):
    rows = timed_rows(20_000, seed=4)
    lines = canonical_csv(rows).splitlines()
    lines[7000] = "0.1,oops"
    path = tmp_path / "rec.csv"
    path.write_text("\n".join(lines) + "\n")
    outputs = []
    for source in ("file", "stdin"):
        out = tmp_path / f"{source}.jsonl"
        summary = tmp_path / f"{source}.json"
        command = [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--output", str(out),
                   "--summary", str(summary), "--quiet", "--input"]  # fmt: skip
        if source == "file":
            subprocess.run([*command, str(path)], check=True, timeout=120)
        else:
            with path.open("rb") as handle:
                subprocess.run([*command, "-"], stdin=handle, check=True, timeout=120)
        records = [json.loads(line) for line in out.read_text().splitlines()]
        for record in records:
            record.pop("latency_ms")
        report = json.loads(summary.read_text())
        outputs.append((records, report["bad_rows"], report["first_bad_rows"]))
    assert outputs[0] == outputs[1]
    assert outputs[0][1] == 1 and outputs[0][2][0]["line"] == 7001


def test_a_comment_line_shaped_like_data_is_skipped_as_line_by_line(numeric_reader):
    """With the label first, '#…' with the right number of fields still parses as numbers
    everywhere but its first field: only the comment check keeps it out of the data."""
    layout = layout_from_header(
        ["label", "t", "acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
    )
    lines = ["WALKING,0.02,1,0,0,0.1,0,0"] * 4 + ["#note,0.1,1,0,0,0,0,0"] * 2
    fast, slow = _both_ways(lambda: RowParser(layout, Units(), ","), "\n".join(lines).encode())
    _assert_same(fast, slow)
    assert len(fast.rows) == 4 and fast.bad == []
