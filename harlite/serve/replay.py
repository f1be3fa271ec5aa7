"""Play a recording to a server as a phone would: Sensor Logger push messages, made from
canonical rows (t [s], acc [g], gyro [rad/s]).

Used to try ``harlite serve`` without a phone (``harlite replay``), and by its tests and
benchmarks. Needs no web framework: the standard library's HTTP client posts.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from harlite.errors import DataError, HarliteError
from harlite.runtime.io.input_options import InputOptions
from harlite.runtime.io.sources import open_source

#: Standard gravity: Sensor Logger sends m/s².
G = 9.80665
#: An epoch time for recordings whose clock starts at 0.
EPOCH_NS = 1_764_400_000_000_000_000


def sensor_logger_messages(
    rows: np.ndarray,
    *,
    batch_s: float = 1.0,
    device: str = "replay",
    session: str = "session-1",
    gyro_offset_ns: int = 0,
    platform: str = "android",
    extra_sensors: bool = True,
) -> Iterator[tuple[float, bytes]]:
    """(batch end time [s in the rows' clock], JSON body) of each push, ``batch_s`` of samples
    a push, as Sensor Logger sends them: ``totalacceleration`` in m/s² (sign-flipped for
    ``ios``), ``gyroscope`` in rad/s (its instants shifted by ``gyro_offset_ns``), epoch ns
    times, and (``extra_sensors``) a ``battery`` and an ``orientation`` entry the models do
    not use."""
    rows = np.asarray(rows, dtype=float)
    times_ns = np.round(rows[:, 0] * 1e9).astype(np.int64)
    if times_ns[0] < 10**17:  # a clock from 0: move it to an epoch time, as phones send
        times_ns = times_ns + EPOCH_NS
    sign = -1.0 if platform == "ios" else 1.0
    acc = rows[:, 1:4] * G * sign
    edges = np.arange(rows[0, 0], rows[-1, 0] + batch_s, batch_s)
    cuts = np.searchsorted(rows[:, 0], edges[1:], side="left")
    start = 0
    for number, stop in enumerate([*cuts.tolist(), len(rows)]):
        if stop <= start:
            continue
        payload = []
        for i in range(start, stop):
            payload.append(_entry("totalacceleration", times_ns[i], acc[i]))
            payload.append(_entry("gyroscope", times_ns[i] + gyro_offset_ns, rows[i, 4:7]))
        if extra_sensors:
            payload.append(
                {"name": "battery", "time": int(times_ns[start]), "values": {"batteryLevel": 0.8}}
            )
            payload.append(
                {
                    "name": "orientation",
                    "time": int(times_ns[start]),
                    "values": {"qx": 0.0, "qy": 0.0, "qz": 0.0, "qw": 1.0},
                }
            )
        body = {"messageId": number, "sessionId": session, "deviceId": device, "payload": payload}
        yield float(rows[stop - 1, 0]), json.dumps(body).encode()
        start = stop


def _entry(name: str, time_ns: int, xyz: np.ndarray) -> dict:
    x, y, z = (float(v) for v in xyz)
    return {"name": name, "time": int(time_ns), "values": {"x": x, "y": y, "z": z}}


def post(url: str, body: bytes, token: str | None = None, timeout: float = 10.0) -> dict:
    """POST one push; returns the server's JSON answer (an error answer raises)."""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass(frozen=True)
class ReplaySummary:
    """What a replay sent and what the server answered.

    Attributes:
        pushes: messages posted.
        readings: sensor readings in them (accelerometer and gyroscope: two per instant).
        windows: windows the server classified, by its replies.
        seconds: of the recording played.
        session: the server's id of the phone session (its panel), None if none came.
    """

    pushes: int
    readings: int
    windows: int
    seconds: float
    session: str | None


def read_recording(path: str | Path) -> tuple[np.ndarray, int]:
    """The rows (t [s], acc [g], gyro [rad/s]) of anything ``harlite stream --input``
    reads from a file (a canonical CSV, a Sensor Logger or phyphox export), and how many of
    its lines were bad (left out)."""
    chunks, bad = [], 0
    for parsed in open_source(str(path), InputOptions()):
        chunks.append(parsed.rows)
        bad += len(parsed.bad)
    rows = np.concatenate(chunks) if chunks else np.empty((0, 7))
    if not len(rows):
        raise DataError("no samples to replay", Path(path))
    return rows, bad


def replay(
    rows: np.ndarray,
    url: str,
    *,
    token: str | None = None,
    speed: float = 1.0,
    device: str = "replay",
    session: str | None = None,
    platform: str = "android",
    on_push: Callable[[int, dict], None] | None = None,
) -> ReplaySummary:
    """Post ``rows`` to ``url`` as Sensor Logger's HTTP Push would, one message per second
    of samples, at ``speed`` times real time. ``session`` None: a new one each run (a
    session id used again would repeat its message ids, which the server drops as
    duplicates). ``on_push(number, reply)`` is called after each push.

    Raises :class:`~harlite.errors.HarliteError` with the server's reason when it refuses a
    push, or when it cannot be reached.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        raise HarliteError(f"{url}: the push URL must start with http:// or https://")
    session = session or f"replay-{time.strftime('%Y%m%dT%H%M%S')}"
    started, sent, readings, windows, key = time.monotonic(), 0, 0, 0, None
    for end, body in sensor_logger_messages(
        rows, device=device, session=session, platform=platform
    ):
        time.sleep(max(0.0, started + (end - rows[0, 0]) / speed - time.monotonic()))
        reply = _post_or_explain(url, body, token)
        sent, readings = sent + 1, readings + int(reply.get("readings", 0))
        windows, key = windows + int(reply.get("windows", 0)), reply.get("session") or key
        if on_push is not None:
            on_push(sent, reply)
    return ReplaySummary(sent, readings, windows, float(rows[-1, 0] - rows[0, 0]), key)


def _post_or_explain(url: str, body: bytes, token: str | None) -> dict:
    """:func:`post`, its failures as one-line errors."""
    try:
        return post(url, body, token)
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read()).get("error", error.reason)
        except (ValueError, AttributeError, OSError):
            reason = error.reason
        raise HarliteError(f"{url} answered {error.code}: {reason}") from None
    except (urllib.error.URLError, OSError) as error:
        why = getattr(error, "reason", None) or error
        raise HarliteError(f"cannot reach {url}: {why} (is harlite serve running there?)") from None
    except ValueError:
        raise HarliteError(f"{url} did not answer JSON: is it harlite serve's /push?") from None
