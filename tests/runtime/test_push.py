"""Sensor Logger pushes: the parser on both platforms' shapes and on hostile bodies, and the
assembler (order, duplicates, gaps, alignment) against the Sensor Logger file reader."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import numpy as np
import pytest

from harlite.runtime.io.app_exports import SensorLoggerSource
from harlite.runtime.io.push import (
    BAD_ENTRY,
    GRAVITY,
    GYRO,
    TOTAL,
    USER,
    PushAssembler,
    PushError,
    parse_push,
)
from harlite.runtime.rows import OUTSIDE_GYRO
from harlite.runtime.signal.windower import NON_FINITE
from harlite.serve.replay import G, sensor_logger_messages

pytestmark = pytest.mark.runtime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "push"
DEMO = Path(__file__).resolve().parents[2] / "harlite" / "demo" / "exp54_user27.csv.gz"


def demo_rows(seconds: float | None = None) -> np.ndarray:
    with gzip.open(DEMO, "rt") as handle:
        rows = np.loadtxt(handle, delimiter=",", skiprows=1, usecols=range(7))
    if seconds is not None:
        rows = rows[rows[:, 0] < rows[0, 0] + seconds]
    return rows


def assemble(bodies, assembler=None, finish=True):
    assembler = assembler or PushAssembler()
    out = [assembler.add(parse_push(body), float(n) * 0.01) for n, body in enumerate(bodies)]
    if finish:
        out.append(assembler.finish())
    rows = np.concatenate([p.rows for p in out]) if out else np.empty((0, 7))
    return rows, [b for p in out for b in p.bad], assembler


# --- the parser ----------------------------------------------------------------------------


def test_an_android_push_keeps_the_used_sensors_and_counts_the_others():
    message = parse_push((FIXTURES / "android.json").read_bytes())
    assert message.message_id == 0
    assert message.key == ("6f0e9c1a-android-device", "a1b2c3d4-android-session")
    assert set(message.sensors) == {TOTAL, USER, GRAVITY, GYRO}
    total = message.sensors[TOTAL]
    assert total.values.shape == (5, 3)
    assert total.values[0].tolist() == [0.12, 9.79, 0.31]
    # epoch ns read as float64, as the file reader reads them: exact to 256 ns
    assert total.times[1] - total.times[0] == pytest.approx(10_000_000, abs=256)
    assert message.sensors[GYRO].times[0] - total.times[0] == pytest.approx(4_000_000, abs=256)
    assert dict(message.ignored) == {"magnetometer": 1, "orientation": 1, "location": 1,
                                     "battery": 1}  # fmt: skip
    assert message.bad == []


def test_an_ios_push_has_acceleration_without_gravity_plus_gravity():
    message = parse_push((FIXTURES / "ios.json").read_text())
    assert message.message_id == 7
    assert set(message.sensors) == {USER, GRAVITY, GYRO}
    assert message.ignored["orientation"] == 5
    assert message.ignored["accelerometeruncalibrated"] == 1


def test_android_rows_are_total_acceleration_in_g_and_gyroscope_aligned_onto_its_instants():
    body = (FIXTURES / "android.json").read_bytes()
    rows, bad, assembler = assemble([body])
    assert assembler.mode == TOTAL
    # the first accelerometer sample is 4 ms before the first gyroscope one: within
    # EDGE_MARGIN_S, it takes the gyroscope's first sample, as in a file
    assert bad == []
    assert rows.shape == (5, 7)
    assert rows[0, 2] == pytest.approx(9.79 / G)
    assert rows[0, 4] == 0.0
    # gyro x goes 0.00, 0.01, … at +4 ms: at the accelerometer's 10 ms it is 0.01 * 6/10
    assert rows[1, 4] == pytest.approx(0.006, abs=1e-6)  # times exact to 256 ns
    assert assembler.counters.ignored[USER] == 5  # acceleration taken from one source only


def test_ios_rows_add_gravity_and_turn_apples_sign_to_androids():
    body = (FIXTURES / "ios.json").read_bytes()
    raw, _, _ = assemble([body])
    ios, bad, assembler = assemble([body], PushAssembler(platform="ios"))
    assert assembler.mode == USER and bad == []
    assert len(ios) == 5
    assert ios[0, 2] == pytest.approx((9.80 - 0.05) / G)  # -(user + gravity), in g
    assert raw[0, 2] == pytest.approx(-ios[0, 2])
    assert ios[1, 5] == pytest.approx(0.01)  # the gyroscope is not turned


HOSTILE = [
    (b"", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "not an object"),
    (b'"payload"', "not an object"),
    (b"{}", "no 'payload' list"),
    (b'{"payload": {}}', "no 'payload' list"),
    (b'{"payload": [], "messageId": "7"}', "messageId"),
    (b'{"payload": [], "messageId": true}', "messageId"),
    (b'{"payload": [], "messageId": -1}', "messageId"),
    (b'{"payload": [], "deviceId": {"a": 1}}', "deviceId"),
    (b'{"payload": [], "deviceId": "a\\u0000b"}', "deviceId"),
    (b'{"payload": [], "sessionId": "' + b"x" * 200 + b'"}', "sessionId"),
    (b'{"payload": [{"name": "gyroscope", "time": NaN}]}', "NaN"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    (b'{"payload": [] ', "not JSON"),
]


@pytest.mark.parametrize(("body", "reason"), HOSTILE, ids=range(len(HOSTILE)))
def test_a_body_that_is_not_a_push_is_refused_with_the_reason(body, reason):
    with pytest.raises(PushError, match=reason):
        parse_push(body)


def test_bad_entries_are_bad_rows_and_the_rest_of_the_message_is_kept():
    good = {"name": "gyroscope", "time": 1_000, "values": {"x": 1, "y": 2, "z": 3}}
    payload = [
        good,
        "a string",
        {"time": 1},
        {"name": 5},
        {"name": "gyroscope", "time": "1", "values": {"x": 1, "y": 2, "z": 3}},
        {"name": "gyroscope", "time": True, "values": {"x": 1, "y": 2, "z": 3}},
        {"name": "gyroscope", "time": 2, "values": [1, 2, 3]},
        {"name": "gyroscope", "time": 3, "values": {"x": 1, "y": "2", "z": 3}},
        {"name": "gyroscope", "time": 4, "values": {"x": 1, "y": None, "z": 3}},
        {"name": "gyroscope", "time": 5, "values": {"x": "HUGE", "y": 0, "z": 3}},
        {"name": "<script>alert(1)</script>", "time": 6, "values": {}},
    ]
    # 1e400 is valid JSON that no float holds (NaN and Infinity are not JSON at all)
    message = parse_push(json.dumps({"payload": payload}).replace('"HUGE"', "1e400"))
    assert len(message.sensors[GYRO].times) == 1
    reasons = [reason for _, reason, _ in message.bad]
    assert reasons == [BAD_ENTRY] * 8 + [NON_FINITE]
    assert [n for n, _, _ in message.bad] == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert message.ignored == {"<script>alert(1)</script>": 1}  # counted, shown as text


# --- the assembler -------------------------------------------------------------------------


def write_export(folder: Path, rows: np.ndarray, gyro_offset_ns: int) -> None:
    """The samples of ``sensor_logger_messages`` as a Sensor Logger export (Android)."""
    messages = [json.loads(body) for _, body in sensor_logger_messages(
        rows, gyro_offset_ns=gyro_offset_ns)]  # fmt: skip
    files = {"TotalAcceleration.csv": TOTAL, "Gyroscope.csv": GYRO}
    for name, sensor in files.items():
        with open(folder / name, "w") as handle:
            handle.write("time,seconds_elapsed,z,y,x\n")
            for message in messages:
                for entry in message["payload"]:
                    if entry["name"] == sensor:
                        v = entry["values"]
                        handle.write(f"{entry['time']},0,{v['z']!r},{v['y']!r},{v['x']!r}\n")


def shuffled_with_duplicates(bodies: list[bytes], seed: int = 0, block: int = 4) -> list[bytes]:
    """Batches out of order within blocks, and a tenth of them sent twice."""
    rng = random.Random(seed)
    order = list(range(len(bodies)))
    for start in range(0, len(order), block):
        part = order[start : start + block]
        rng.shuffle(part)
        order[start : start + block] = part
    for i in rng.sample(range(len(order)), len(order) // 10):
        order.insert(min(i + rng.randint(1, 6), len(order)), order[i])
    return [bodies[i] for i in order]


def test_pushes_out_of_order_and_twice_give_exactly_the_rows_of_the_export(tmp_path):
    rows = demo_rows(60)
    write_export(tmp_path, rows, gyro_offset_ns=3_000_000)
    expected = np.concatenate([p.rows for p in SensorLoggerSource(tmp_path)])
    bodies = [body for _, body in sensor_logger_messages(rows, gyro_offset_ns=3_000_000)]
    got, bad, assembler = assemble(shuffled_with_duplicates(bodies))
    assert assembler.counters.duplicates == len(bodies) // 10
    assert assembler.counters.reordered > 0 and assembler.counters.missing == 0
    assert np.array_equal(got, expected)
    assert bad == []  # a 3 ms offset is within EDGE_MARGIN_S: no bad row, as in the file


@pytest.mark.parametrize("offset_ms", [80, -80, 30, -30])
def test_pushes_and_the_export_refuse_the_same_rows_at_the_gyroscopes_edges(tmp_path, offset_ms):
    # one alignment rule (phone_align): rows beyond EDGE_MARGIN_S of the gyroscope's span
    # are bad in both, rows within it take its edge sample in both
    rows = demo_rows(20)
    offset_ns = offset_ms * 1_000_000
    write_export(tmp_path, rows, gyro_offset_ns=offset_ns)
    parts = list(SensorLoggerSource(tmp_path))
    expected = np.concatenate([p.rows for p in parts])
    file_bad = [reason for p in parts for _, reason, _ in p.bad]
    bodies = [body for _, body in sensor_logger_messages(rows, gyro_offset_ns=offset_ns)]
    got, bad, _ = assemble(bodies)
    assert np.array_equal(got, expected)
    assert [reason for _, reason, _ in bad] == file_bad
    # 50 Hz: 80 ms outside leaves 2 rows (0 and 20 ms) beyond the 50 ms margin; 30 ms none
    assert file_bad == [OUTSIDE_GYRO] * (2 if abs(offset_ms) == 80 else 0)
    assert len(got) == len(rows) - len(file_bad)


def test_a_gap_is_waited_for_then_given_up_and_a_message_after_that_is_late():
    bodies = [body for _, body in sensor_logger_messages(demo_rows(6))]
    assembler = PushAssembler(reorder_wait_s=1.0)
    assembler.add(parse_push(bodies[0]), 0.0)
    held = assembler.add(parse_push(bodies[2]), 0.1)  # 1 is missing: 2 waits
    assert assembler.pending == 1
    released_at = len(held.rows)
    assert len(assembler.tick(0.5).rows) == 0  # still waiting
    assert len(assembler.tick(1.2).rows) > released_at  # given up: 2 goes on
    assert assembler.counters.missing == 1
    assembler.add(parse_push(bodies[1]), 1.3)
    assert assembler.counters.late == 1 and assembler.counters.duplicates == 0


def test_a_stream_joined_late_starts_from_its_lowest_message_after_the_wait():
    bodies = [body for _, body in sensor_logger_messages(demo_rows(8))]
    assembler = PushAssembler(reorder_wait_s=0.5)
    assert len(assembler.add(parse_push(bodies[4]), 0.0).rows) == 0
    assert len(assembler.add(parse_push(bodies[3]), 0.1).rows) == 0
    assert len(assembler.tick(0.7).rows) > 0
    assert assembler.counters.missing == 0


def test_waiting_messages_are_bounded():
    bodies = [body for _, body in sensor_logger_messages(demo_rows(100))]
    assembler = PushAssembler(reorder_wait_s=1e9, max_pending=8)
    for n, body in enumerate(bodies[1:]):  # message 0 never comes
        assembler.add(parse_push(body), float(n))
        assert assembler.pending < 8


def test_acceleration_without_a_gyroscope_is_held_briefly_then_refused_with_advice():
    rows = demo_rows(20)
    bodies = []
    for _, body in sensor_logger_messages(rows):
        message = json.loads(body)
        message["payload"] = [e for e in message["payload"] if e["name"] != GYRO]
        bodies.append(json.dumps(message).encode())
    got, bad, assembler = assemble(bodies, PushAssembler(max_unaligned_s=5.0), finish=False)
    assert len(got) == 0
    assert 0 < len(bad) <= len(rows) - 5 * 50 + 50  # all but the last ~5 s refused
    assert "turn on Gyroscope" in assembler.warnings[0]
    assert len(assembler._series[TOTAL].times) <= 5 * 50 + 50  # and not held forever


def test_gyroscope_without_acceleration_is_not_held_forever():
    rows = demo_rows(30)
    bodies = []
    for _, body in sensor_logger_messages(rows):
        message = json.loads(body)
        message["payload"] = [e for e in message["payload"] if e["name"] == GYRO]
        bodies.append(json.dumps(message).encode())
    _, _, assembler = assemble(bodies, finish=False)
    assert len(assembler._series[GYRO].times) <= 5 * 50 + 50


def test_a_sample_that_goes_back_in_its_own_sensor_is_a_bad_row():
    t0 = 1_764_400_000_000_000_000
    payload = [
        {"name": name, "time": t0 + k * 20_000_000, "values": {"x": 0, "y": 9.8, "z": 0}}
        for k in (0, 1, 2, 1, 3)
        for name in (TOTAL, GYRO)
    ]
    rows, bad, _ = assemble([json.dumps({"messageId": 0, "payload": payload})])
    assert len(rows) == 4
    assert sum(reason == "timestamp repeated or went backwards" for _, reason, _ in bad) == 2
