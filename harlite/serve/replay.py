"""Play a recording to a server as a phone would: Sensor Logger push messages, made from
canonical rows (t [s], acc [g], gyro [rad/s]).

Used to try ``harlite serve`` without a phone (``tools/replay_push.py``), and by its tests
and benchmarks.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import numpy as np

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
