"""harlite.runtime.io.sensorcsv: column mapping, units and line parsing (runtime-only)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harlite.runtime.io.sensorcsv import (
    CANONICAL_COLUMNS,
    SIGNALS,
    RowParser,
    Units,
    is_numeric_line,
    layout_from_header,
    parse_columns_option,
    positional_layout,
    sniff_delimiter,
)
from harlite.runtime.spec import RAW_CHANNELS

pytestmark = pytest.mark.runtime


def test_the_signal_columns_are_the_raw_channels():
    assert SIGNALS == RAW_CHANNELS
    assert ("t", *RAW_CHANNELS, "label") == CANONICAL_COLUMNS


def test_header_aliases_map_to_the_canonical_columns():
    layout = layout_from_header(["Time [ms]", "gx", "gy", "gz", "ax", "ay", "az", "Activity"])
    assert layout.time == 0 and layout.label == 7
    assert layout.signals == (4, 5, 6, 1, 2, 3)
    assert "acc_x=ax" in layout.describe()


def test_a_header_without_the_signals_names_what_is_missing():
    with pytest.raises(ValueError, match="no column for gyro_x, gyro_y, gyro_z"):
        layout_from_header(["t", "ax", "ay", "az"])


def test_columns_option_renames_or_orders():
    assert parse_columns_option("t=time,acc_x=X") == {"t": "time", "acc_x": "X"}
    assert parse_columns_option("t,-,acc_x") == {"t": "0", "acc_x": "2"}
    with pytest.raises(ValueError, match="unknown column"):
        parse_columns_option("speed=v")
    with pytest.raises(ValueError, match="not both"):
        parse_columns_option("t=time,acc_x")


def test_positional_layouts_by_field_count():
    assert positional_layout(7).time == 0 and positional_layout(7).label is None
    assert positional_layout(8).label == 7
    assert positional_layout(6).time is None
    with pytest.raises(ValueError, match="5 fields and no header"):
        positional_layout(5)


def test_delimiters_and_numeric_lines():
    assert sniff_delimiter("a;b;c") == ";" and sniff_delimiter("a\tb") == "\t"
    assert sniff_delimiter("abc") == ","
    assert is_numeric_line(["1", "-2.5e3"]) and not is_numeric_line(["t", "1"])


def test_units_convert_to_seconds_g_and_rad_per_s():
    scale = Units("m/s2", "deg/s", "ms").scale()
    assert scale[0] == 1e-3
    assert scale[1] == pytest.approx(1 / 9.80665)
    assert scale[4] == pytest.approx(math.pi / 180)
    with pytest.raises(ValueError, match="unknown acc unit"):
        Units("furlong")


def test_row_parser_reports_each_bad_line_and_keeps_the_good():
    parser = RowParser(positional_layout(8), Units())
    parsed = parser.parse(
        [(1, "0.0,1,0,0,0,0,0,WALKING"), (2, "0.02,1,0,0"), (3, "0.04,1,x,0,0,0,0,"), (4, "")]
    )
    np.testing.assert_array_equal(parsed.lines, [1])
    assert parsed.labels == ["WALKING"]
    assert [(line, reason) for line, reason, _ in parsed.bad] == [
        (2, "wrong number of fields"),
        (3, "not a number"),
    ]


def test_a_rate_spaces_samples_evenly_from_the_first_time():
    parser = RowParser(positional_layout(7), Units(), rate_hz=10.0)
    parsed = parser.parse([(1, "5,1,0,0,0,0,0"), (2, "9,1,0,0,0,0,0"), (3, "1,1,0,0,0,0,0")])
    np.testing.assert_allclose(parsed.rows[:, 0], [5.0, 5.1, 5.2])
