"""Sensor Logger's live pushes (HTTP Push and MQTT publish), read into sample rows.

The app sends one JSON message per batch period, the same schema over HTTP and MQTT (its
``awesome-sensor-logger`` repository, PUSHING.md)::

    {"messageId": 0, "sessionId": "…", "deviceId": "…",
     "payload": [{"name": "accelerometer", "time": 1698501144401773000,
                  "values": {"x": …, "y": …, "z": …}}, …]}

Times are UTC epoch nanoseconds; acceleration is in m/s² and angular rate in rad/s, each
sensor at its own instants. :func:`parse_push` checks one message (never trusting it);
:class:`PushAssembler` puts one phone's messages back in order (``messageId``), drops
duplicates, and aligns the gyroscope (and on iOS the gravity) onto the accelerometer's
instants exactly as the Sensor Logger file reader does
(:class:`~harlite.runtime.io.app_exports.SensorLoggerSource`), so that a pushed session is
classified like its export.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from harlite.runtime.io.input_options import DEFAULT_UNITS, SENSOR_LOGGER
from harlite.runtime.io.phone_align import Scales, align_phone
from harlite.runtime.rows import BACKWARDS_IN_SENSOR, BAD_ENTRY, ParsedRows
from harlite.runtime.rows import OUTSIDE_GYRO as OUTSIDE_GYRO
from harlite.runtime.signal.clock import ACCEPT, HOLD, JUMPED, REFUSE, ClockGuard
from harlite.runtime.signal.windower import DEFAULT_MAX_GAP_S, NON_FINITE

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

#: Sensor names the models use: acceleration with gravity (Android), or acceleration without
#: gravity plus gravity (iOS), and the gyroscope.
TOTAL, USER, GRAVITY, GYRO = "totalacceleration", "accelerometer", "gravity", "gyroscope"
USED_SENSORS = (TOTAL, USER, GRAVITY, GYRO)
#: How the phone's acceleration sign is read: ``android`` (and iOS with "Standardise Units &
#: Frames" on) as sent, ``ios`` (iOS without it) negated, as the file reader does.
PLATFORMS = ("android", "ios")
#: The longest id a message may carry (device and session ids are shown on the live page).
MAX_ID_LENGTH = 128

#: Message ids are below this (JavaScript's safe integers; the app counts from 0).
MAX_MESSAGE_ID = 1 << 53
#: Message ids given up on that are remembered (to count one that comes after all as late).
MAX_GIVEN_UP = 1024
#: The largest push body or MQTT message, in bytes (``harlite serve --max-body`` changes it
#: for the server): a Sensor Logger batch of 10 s from every sensor at 100 Hz is about 1 MB.
MAX_PUSH_BYTES = 4 << 20
#: Samples of one sensor held at most while they wait for another sensor to align with
#: (5 s at 1 kHz); older ones are bad rows.
MAX_HELD_SAMPLES = 5000
#: Names of unused sensors counted one by one; further names are counted together.
MAX_IGNORED_NAMES = 32
OTHER_SENSORS = "(other sensor names)"


class PushError(ValueError):
    """A push body that cannot be read at all (the reason, for a 400 reply)."""


@dataclass(frozen=True)
class SensorSeries:
    """One sensor's samples in a message: times [ns, as float], values (n, 3), the entry
    number of each sample in its message."""

    times: np.ndarray
    values: np.ndarray
    entries: np.ndarray


@dataclass
class PushMessage:
    """One checked push: ids, the used sensors' samples, what was left out and why."""

    message_id: int | None
    session_id: str
    device_id: str
    sensors: dict[str, SensorSeries]
    #: payload entries, used or not
    size: int = 0
    #: entries of sensors the models do not use, by sensor name
    ignored: Counter = field(default_factory=Counter)
    #: (entry number, reason, detail) of entries that could not be read
    bad: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """(device, session): one live stream."""
        return self.device_id, self.session_id

    @property
    def samples(self) -> int:
        return sum(len(s.times) for s in self.sensors.values())


def _reject_constant(name: str) -> float:
    raise PushError(f"not JSON: {name} is not a number in JSON")


def parse_push(body: bytes | str) -> PushMessage:
    """Check and read one Sensor Logger push body.

    Raises :class:`PushError` for a body that is not a push at all (not JSON, not an object,
    no payload list, ids of the wrong type); an entry that is wrong (a missing or non-numeric
    value, a non-finite number) is a bad entry, and the rest of the message is kept.
    """
    data = _json_object(body)
    payload = data.get("payload")
    if not isinstance(payload, list):
        raise PushError("not a push: no 'payload' list")
    message = PushMessage(
        message_id=_message_id(data),
        session_id=_identifier(data, "sessionId"),
        device_id=_identifier(data, "deviceId"),
        sensors={},
        size=len(payload),
    )
    _read_payload(payload, message)
    return message


def _json_object(body: bytes | str) -> dict:
    """The body as a JSON object; anything else is a :class:`PushError` saying what it is."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        data = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise PushError("not UTF-8 text") from None
    except RecursionError:
        raise PushError("not a push: JSON nested too deeply") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno} column {error.colno}"
        raise PushError(f"not JSON: {error.msg} at {where}") from None
    except PushError:
        raise
    except ValueError:  # the one other ValueError of json.loads
        limit = sys.get_int_max_str_digits()
        raise PushError(f"not a push: a whole number of more than {limit} digits") from None
    if not isinstance(data, dict):
        raise PushError(f"not a push: the body is a JSON {type(data).__name__}, not an object")
    return data


def _message_id(data: dict) -> int | None:
    """The push's ``messageId`` (None without one), checked."""
    message_id = data.get("messageId")
    if message_id is not None and (
        isinstance(message_id, bool)
        or not isinstance(message_id, int)
        or not 0 <= message_id < MAX_MESSAGE_ID
    ):
        raise PushError(f"'messageId' must be a whole number in 0..{MAX_MESSAGE_ID - 1}")
    return message_id


def _read_payload(payload: list, message: PushMessage) -> None:
    """The payload's entries into ``message``: a series per used sensor, the entries of
    other sensors counted, bad entries listed with their number and reason."""
    columns: dict[str, tuple[list[float], list[tuple[float, float, float]], list[int]]] = {}
    for number, entry in enumerate(payload, start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            message.bad.append((number, BAD_ENTRY, f"entry {number}: no sensor 'name'"))
            continue
        name = name.lower()
        if name not in USED_SENSORS:
            count_ignored(message.ignored, name[:40], 1)
            continue
        problem, sample = _sample(entry)
        if problem is not None:
            reason = NON_FINITE if problem == NON_FINITE else BAD_ENTRY
            message.bad.append((number, reason, f"entry {number} ({name}): {problem}"))
            continue
        times, values, entries = columns.setdefault(name, ([], [], []))
        times.append(sample[0])
        values.append(sample[1])
        entries.append(number)
    for name, (times, values, entries) in columns.items():
        message.sensors[name] = SensorSeries(
            np.array(times, dtype=float),
            np.array(values, dtype=float).reshape(-1, 3),
            np.array(entries, dtype=np.int64),
        )


def count_ignored(counter: Counter, name: str, count: int) -> None:
    """Count ``count`` entries of an unused sensor: by name for the first
    :data:`MAX_IGNORED_NAMES` names, together beyond (a push may carry any names)."""
    if name not in counter and len(counter) >= MAX_IGNORED_NAMES:
        name = OTHER_SENSORS
    counter[name] += count


def _identifier(data: dict, key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PushError(f"{key!r} must be a string")
    # A lone surrogate (JSON "\ud800") is text no file, page or hash can encode: replaced.
    value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in str(value))
    if len(value) > MAX_ID_LENGTH or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PushError(f"{key!r} must be at most {MAX_ID_LENGTH} printable characters")
    return value


def _sample(entry: dict) -> tuple[str | None, tuple[float, tuple[float, float, float]]]:
    """(problem, (time [ns], xyz)) of one payload entry; the problem is None when it reads."""
    time = entry.get("time")
    if isinstance(time, bool) or not isinstance(time, int | float):
        return "no numeric 'time'", (0.0, (0.0, 0.0, 0.0))
    values = entry.get("values")
    if not isinstance(values, dict):
        return "no 'values' object", (0.0, (0.0, 0.0, 0.0))
    xyz = []
    for axis in "xyz":
        value = values.get(axis)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"no numeric value {axis!r}", (0.0, (0.0, 0.0, 0.0))
        try:
            xyz.append(float(value))
        except OverflowError:  # a whole number beyond any float
            return NON_FINITE, (0.0, (0.0, 0.0, 0.0))
    try:
        seconds = float(time)
    except OverflowError:
        return NON_FINITE, (0.0, (0.0, 0.0, 0.0))
    if not all(math.isfinite(v) for v in (seconds, *xyz)):
        return NON_FINITE, (0.0, (0.0, 0.0, 0.0))
    return None, (seconds, (xyz[0], xyz[1], xyz[2]))


@dataclass
class PushCounters:
    """What a phone's messages held besides good samples."""

    messages: int = 0
    duplicates: int = 0
    reordered: int = 0
    missing: int = 0  #: messages never received (a gap in messageId given up on)
    late: int = 0  #: messages that came after their place was given up
    ignored: Counter = field(default_factory=Counter)


class _Series:
    """A growing, time-ordered sensor series: (times [ns], xyz, entry lines, arrival [s]),
    with the clock guard that judges its samples and the samples it holds meanwhile."""

    def __init__(self, max_gap_s: float) -> None:
        self.times = np.empty(0)
        self.values = np.empty((0, 3))
        self.lines = np.empty(0, np.int64)
        self.arrived = np.empty(0)  #: when each sample came (the assembler's clock)
        self.first: float | None = None  #: the first sample ever kept
        self.guard = ClockGuard(max_gap_s)
        #: samples the guard holds (times [ns], xyz, lines, where they came from)
        self.held: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            np.empty(0), np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, object)
        )  # fmt: skip

    @property
    def last(self) -> float | None:
        return float(self.times[-1]) if len(self.times) else None

    def extend(self, times, values, lines, arrived: float) -> None:
        if len(times) and self.first is None:
            self.first = float(times[0])
        self.times = np.concatenate([self.times, times])
        self.values = np.concatenate([self.values, values])
        self.lines = np.concatenate([self.lines, lines])
        self.arrived = np.concatenate([self.arrived, np.full(len(times), arrived)])

    def drop_before(self, index: int) -> None:
        self.times, self.values = self.times[index:], self.values[index:]
        self.lines, self.arrived = self.lines[index:], self.arrived[index:]


class PushAssembler:
    """One phone session's pushes → sample rows (t [s], acc [g], gyro [rad/s]).

    Messages are taken in ``messageId`` order: one that comes early waits (at most
    ``reorder_wait_s`` seconds, or until ``max_pending`` messages wait) for the ones before
    it; a duplicate is dropped. Each sensor's timestamps are judged as the CSV reader judges
    a stream's (:class:`~harlite.runtime.signal.clock.ClockGuard`: one that jumps ahead and is not
    followed by others on its clock is refused, not believed) and must go forward in time
    (others are bad rows). Rows are released at the accelerometer's instants once the
    gyroscope (and gravity, for acceleration without gravity) has samples past them,
    interpolated as the Sensor Logger file reader interpolates, by the same function
    (:func:`~harlite.runtime.io.phone_align.align_phone`): accelerometer samples more than
    :data:`~harlite.runtime.io.phone_align.EDGE_MARGIN_S` before the gyroscope's first are bad
    rows, those within it take its first sample. Bad rows are numbered by sample across the
    session (``line``) and named by message and entry.

    Args:
        platform: ``android`` (or iOS with "Standardise Units & Frames") or ``ios``.
        reorder_wait_s: how long a gap in message ids is waited for.
        max_pending: messages held while waiting for a gap, at most.
        max_unaligned_s: accelerometer seconds held without a gyroscope sample to align
            with, in the phone's time and in arrival time; older ones are bad rows (a phone
            recording without its gyroscope, or whose gyroscope stopped), as are any beyond
            :data:`MAX_HELD_SAMPLES`.
        max_gap_s: the longest step between a sensor's samples the clock guard takes at
            once (a longer one is believed once samples after it agree).
    """

    def __init__(
        self,
        platform: str = "android",
        reorder_wait_s: float = 2.0,
        max_pending: int = 64,
        max_unaligned_s: float = 5.0,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
        scale = DEFAULT_UNITS[SENSOR_LOGGER].scale()
        self.time_scale, self.gyro_scale = scale[0], scale[4]
        self.acc_scale = -scale[1] if platform == "ios" else scale[1]
        self.scales = Scales(self.time_scale, self.acc_scale, self.gyro_scale)
        self.reorder_wait_s = reorder_wait_s
        self.max_pending = max_pending
        self.max_unaligned_s = max_unaligned_s
        self.counters = PushCounters()
        self.mode: str | None = None  #: TOTAL or USER once the first acceleration came
        self._next_id: int | None = None
        self._given_up: set[int] = set()  # ids of gaps given up on (a late one may come)
        self._pending: dict[int, tuple[PushMessage, float]] = {}
        self._series = {name: _Series(max_gap_s) for name in USED_SENSORS}
        self._now = 0.0  # the latest ``now`` given: when the samples taken arrived
        self._samples = 0  # entries numbered across the session
        self._bad: list[tuple[int, str, str]] = []
        #: what looks wrong with the phone's pushes, each said once
        self.warnings: list[str] = []

    @property
    def pending(self) -> int:
        """Messages waiting for an earlier one."""
        return len(self._pending)

    def add(self, message: PushMessage, now: float) -> ParsedRows:
        """Take one message (``now``: a monotonic clock, seconds); return the rows it
        releases."""
        self._now = now
        self.counters.messages += 1
        ready: list[PushMessage] = []
        number = message.message_id
        if number is None:
            ready.append(message)
        elif number in self._pending or (self._next_id is not None and number < self._next_id):
            if number in self._pending:
                self.counters.duplicates += 1
            else:
                self._late_or_duplicate(number)
            return self._release(ready)
        else:
            if number != (self._next_id if self._next_id is not None else 0):
                self.counters.reordered += 1
            self._pending[number] = (message, now)
            ready += self._in_order(now)
        return self._release(ready)

    def tick(self, now: float) -> ParsedRows:
        """Give up on gaps older than ``reorder_wait_s``; return the rows that releases."""
        self._now = now
        return self._release(self._in_order(now))

    def finish(self) -> ParsedRows:
        """The session ended: release what waits, and the accelerometer samples left
        (interpolated with the gyroscope's and gravity's last values held, as the file
        reader does at the end of a recording; past the gyroscope's span they are bad)."""
        return self._release(self._in_order(float("inf")), final=True)

    # -- ordering ---------------------------------------------------------------------------

    def _late_or_duplicate(self, number: int) -> None:
        if number in self._given_up:  # its samples would now go back in time
            self.counters.late += 1
            self._given_up.discard(number)
        else:
            self.counters.duplicates += 1

    def _in_order(self, now: float) -> list[PushMessage]:
        ready = []
        if self._next_id is None and self._pending:
            # The app counts from 0; a stream joined later starts at its lowest id once the
            # wait for earlier ones is over.
            self._next_id = 0 if 0 in self._pending else None
            if self._next_id is None:
                oldest = min(arrived for _, arrived in self._pending.values())
                if now - oldest < self.reorder_wait_s and len(self._pending) < self.max_pending:
                    return ready
                self._next_id = min(self._pending)
        while self._pending:
            if self._next_id in self._pending:
                message, _ = self._pending.pop(self._next_id)
            else:
                oldest = min(arrived for _, arrived in self._pending.values())
                if now - oldest < self.reorder_wait_s and len(self._pending) < self.max_pending:
                    break
                first = min(self._pending)  # give up on the gap before it
                self.counters.missing += first - self._next_id
                if first - self._next_id <= MAX_GIVEN_UP:
                    self._given_up.update(range(self._next_id, first))
                self._next_id = first
                continue
            self._next_id += 1
            ready.append(message)
        if len(self._given_up) > MAX_GIVEN_UP:
            self._given_up = set(sorted(self._given_up)[-MAX_GIVEN_UP:])
        return ready

    # -- samples ----------------------------------------------------------------------------

    def _release(self, messages: list[PushMessage], final: bool = False) -> ParsedRows:
        for message in messages:
            for name, count in message.ignored.items():
                count_ignored(self.counters.ignored, name, count)
            self._take(message)
        if final:
            for name, series in self._series.items():
                self._refuse_held(name, series, series.guard.finish())
        rows, lines = self._aligned(final)
        bad, self._bad = self._bad, []
        return ParsedRows(rows, lines, None, bad)

    def _take(self, message: PushMessage) -> None:
        base = self._samples
        self._samples += message.size
        where = f"message {message.message_id}" if message.message_id is not None else "message"
        self._bad += [(base + n, reason, f"{where}, {detail}") for n, reason, detail in message.bad]
        if self.mode is None:
            if TOTAL in message.sensors:
                self.mode = TOTAL
            elif USER in message.sensors:
                self.mode = USER
        for name, sensor in message.sensors.items():
            if name in (TOTAL, USER) and name != self.mode:
                count_ignored(self.counters.ignored, name, len(sensor.times))
                continue
            self._append(name, sensor, base, where)

    def _append(self, name: str, sensor: SensorSeries, base: int, where: str) -> None:
        """The message's samples of one sensor, judged by its clock guard with the ones it
        held; the accepted ones that go forward are kept."""
        series = self._series[name]
        held_times, held_values, held_lines, held_where = series.held
        times = np.concatenate([held_times, sensor.times])  # ns: seconds since 1970 are coarse
        values = np.concatenate([held_values, sensor.values])
        lines = np.concatenate([held_lines, base + sensor.entries])
        wheres = np.concatenate([held_where, [f"{where}, entry {e}" for e in sensor.entries]])
        verdict = series.guard.admit(sensor.times * self.time_scale)
        for i in np.flatnonzero(verdict.status == REFUSE):
            self._refused(name, int(lines[i]), verdict.reasons[i], wheres[i])
        hold = verdict.status == HOLD
        series.held = times[hold], values[hold], lines[hold], wheres[hold]
        if hold.sum() > MAX_HELD_SAMPLES:  # a clock the guard can never settle on
            self._refuse_held(name, series, series.guard.finish())
        accept = np.flatnonzero(verdict.status == ACCEPT)
        last = series.last
        previous = np.concatenate(([-np.inf if last is None else last], times[accept][:-1]))
        forward = times[accept] > np.maximum.accumulate(previous)
        for i in accept[~forward]:
            self._refused(name, int(lines[i]), BACKWARDS_IN_SENSOR, wheres[i])
        kept = accept[forward]
        series.extend(times[kept], values[kept], lines[kept], self._now)

    def _refuse_held(self, name: str, series: _Series, verdict) -> None:
        """The samples the guard held, refused (the guard's ``finish`` verdict)."""
        _, _, lines, wheres = series.held
        for line, reason, where in zip(lines, verdict.reasons, wheres, strict=True):
            self._refused(name, int(line), reason, where)
        series.held = np.empty(0), np.empty((0, 3)), np.empty(0, np.int64), np.empty(0, object)

    def _refused(self, name: str, line: int, reason: str, where: str) -> None:
        reason = JUMPED if reason == JUMPED else BACKWARDS_IN_SENSOR
        self._bad.append((line, reason, f"{where} ({name})"))

    def _aligned(self, final: bool) -> tuple[np.ndarray, np.ndarray]:
        """Accelerometer rows whose gyroscope (and gravity) values are known."""
        empty = np.empty((0, 7)), np.empty(0, np.int64)
        self._trim_unused()
        if self.mode is None:
            return empty
        acc, gyro, gravity = self._series[self.mode], self._series[GYRO], self._series[GRAVITY]
        if gyro.first is None or (self.mode == USER and gravity.first is None):
            self._drop_unaligned(acc, final)
            return empty
        done = align_phone(
            (acc.times, acc.values, acc.lines),
            gyro,
            gravity if self.mode == USER else None,
            self.scales,
            final=final,
        )
        self._bad += done.bad
        acc.drop_before(done.settled)
        self._drop_unaligned(acc, final)
        if done.until is not None:
            self._forget(done.until)
        return done.rows, done.lines

    def _forget(self, released: float) -> None:
        """Keep of the aligned series only what later interpolation can still use: the last
        sample at or before the released time, and the ones after it."""
        for name in (GYRO, GRAVITY):
            series = self._series[name]
            keep_from = max(int(np.searchsorted(series.times, released, side="right")) - 1, 0)
            series.drop_before(keep_from)

    def _drop_unaligned(self, acc: _Series, final: bool) -> None:
        """Acceleration waiting for a gyroscope (or gravity) sample past it, none sent or the
        sensor stopped: held ``max_unaligned_s`` seconds (of the phone's clock and of arrival
        time) and :data:`MAX_HELD_SAMPLES` samples at most, then (or at the end) bad rows."""
        if not len(acc.times):
            return
        gyro, gravity = self._series[GYRO], self._series[GRAVITY]
        lags = gyro.first is not None and (gravity.last is None or gravity.last < gyro.last)
        missing = "gravity" if self.mode == USER and lags else "gyroscope"
        if final:
            cut = len(acc.times)
        else:
            phone = acc.times[-1] - self.max_unaligned_s / self.time_scale
            cut = max(
                int(np.searchsorted(acc.times, phone, side="left")),
                int(np.searchsorted(acc.arrived, self._now - self.max_unaligned_s, "left")),
                len(acc.times) - MAX_HELD_SAMPLES,
            )
        if cut and not self.warnings:
            setting = "Gyroscope" if missing == "gyroscope" else "Gravity (or TotalAcceleration)"
            self.warnings.append(
                f"the phone sends acceleration but no {missing}: turn on {setting} in Sensor "
                "Logger's sensor list"
                if (gyro if missing == "gyroscope" else gravity).first is None
                else f"the phone's {missing} stopped while its acceleration goes on"
            )
        reason = f"no {missing} samples to align with"
        self._bad += [(int(line), reason, "") for line in acc.lines[:cut]]
        acc.drop_before(cut)

    def _trim_unused(self) -> None:
        """Gyroscope and gravity samples no acceleration came for: before any acceleration,
        only the last ``max_unaligned_s`` are kept; at most :data:`MAX_HELD_SAMPLES` ever."""
        for name in (GYRO, GRAVITY):
            series = self._series[name]
            if len(series.times):
                cut = len(series.times) - MAX_HELD_SAMPLES
                if self.mode is None:
                    phone = series.times[-1] - self.max_unaligned_s / self.time_scale
                    cut = max(cut, int(np.searchsorted(series.times, phone, side="left")))
                series.drop_before(max(cut, 0))
