"""`harlite serve` on loopback: push-to-page latency, and 50 phones at 100 Hz.

    python benchmarks/bench_serve.py [--phones 50] [--seconds 60] [--save]

1. Latency: one phone pushes the shipped recording in 1 s batches (4 pushes a second); a
   reader of the page's live feed (/api/events) timestamps each prediction. A prediction's
   latency is its arrival minus the start of the push that carried its window's last sample
   (p50/p95; goal p95 ≤ 100 ms).
2. Load: ``--phones`` simulated phones, each 100 Hz accelerometer and gyroscope in 1 s
   batches (Sensor Logger's JSON) for ``--seconds`` seconds, with the feed read all along.
   Every sample must arrive (the server's per-session sample count = sent, no bad rows, no
   missing message) and the server's RSS stay flat (mean of the last 10 s against the mean
   of 10–20 s).

The server is a separate `harlite serve` process; the phones run in this one (aiohttp
client). Every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import save  # noqa: E402

from harlite.serve.replay import sensor_logger_messages  # noqa: E402
from tests.runtime.test_push import demo_rows  # noqa: E402
from tests.serve_tools import ServerProcess, read_events, request  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def latency(pushes: int = 120, per_second: float = 4.0) -> dict:
    rows = demo_rows()
    messages = list(sensor_logger_messages(rows, device="latency"))[:pushes]
    with ServerProcess("lstm", "--session-timeout", "30") as server:
        events: list = []
        reader = threading.Thread(
            target=lambda: events.extend(
                read_events(f"{server.url}/api/events", 10_000, timeout=pushes / per_second + 15)
            )
        )
        reader.start()
        time.sleep(0.5)
        sent: list[tuple[float, float]] = []  # (last sample time [epoch s], send start)
        started = time.monotonic()
        for n, (_, body) in enumerate(messages):
            time.sleep(max(0.0, started + n / per_second - time.monotonic()))
            last_ns = max(e["time"] for e in json.loads(body)["payload"])
            sent.append((last_ns * 1e-9, time.monotonic()))
            request(f"{server.url}/push", body)
        time.sleep(1.0)
        server.stop()
        reader.join(30)
    ends = np.array([s[0] for s in sent])
    delays = []
    for kind, data, arrived in events:
        if kind != "prediction":
            continue
        carrier = int(np.searchsorted(ends, data["end_time"] - 1e-6))  # the push with its end
        if carrier < len(sent):
            delays.append((arrived - sent[carrier][1]) * 1000)
    return {
        "pushes": len(sent),
        "predictions": len(delays),
        "latency_ms_p50": round(percentile(delays, 50), 2),
        "latency_ms_p95": round(percentile(delays, 95), 2),
        "latency_ms_max": round(max(delays), 2) if delays else None,
    }


def phone_batches(rows_50hz: np.ndarray, seconds: int, phone: int) -> list[bytes]:
    """``seconds`` of 100 Hz samples (the recording interpolated, each phone from its own
    offset), as 1 s Sensor Logger batches."""
    start = rows_50hz[0, 0] + (phone * 37) % 300
    t = start + np.arange(seconds * 100) / 100.0
    rows = np.column_stack(
        [t] + [np.interp(t, rows_50hz[:, 0], rows_50hz[:, c]) for c in range(1, 7)]
    )
    return [b for _, b in sensor_logger_messages(rows, device=f"phone-{phone:02d}", batch_s=1.0)]


async def run_phones(url: str, phones: int, seconds: int, pid: int) -> dict:
    import aiohttp

    recording = demo_rows()
    batches = [phone_batches(recording, seconds, p) for p in range(phones)]
    sent = [sum(json.loads(b)["payload"].__len__() for b in phone) for phone in batches]
    rss: list[tuple[float, float]] = []
    failures = 0
    process = psutil.Process(pid)
    async with aiohttp.ClientSession() as client:
        stop = asyncio.Event()

        async def watch_rss() -> None:
            begin = time.monotonic()
            while not stop.is_set():
                rss.append((time.monotonic() - begin, process.memory_info().rss / 2**20))
                await asyncio.sleep(1.0)

        async def phone(p: int) -> None:
            nonlocal failures
            await asyncio.sleep(p / phones)  # phones do not push in step
            begin = time.monotonic()
            for n, body in enumerate(batches[p]):
                await asyncio.sleep(max(0.0, begin + n + 1 - time.monotonic()))
                headers = {"Content-Type": "application/json"}
                async with client.post(f"{url}/push", data=body, headers=headers) as reply:
                    failures += reply.status != 200
                    await reply.read()

        async def page() -> None:  # the feed is read all along, as a page would
            async with client.get(f"{url}/api/events") as feed:
                async for _ in feed.content:
                    if stop.is_set():
                        return

        watcher, reader = asyncio.create_task(watch_rss()), asyncio.create_task(page())
        await asyncio.wait_for(asyncio.gather(*(phone(p) for p in range(phones))), seconds + 60)
        await asyncio.sleep(1.0)
        stop.set()
        await watcher
        reader.cancel()
    _, state, _ = request(f"{url}/api/state")
    sessions = state["sessions"]
    samples_each = [s["samples"] for s in sessions]
    expected_each = seconds * 100
    early = [m for t, m in rss if 10 <= t < 20]
    late = [m for t, m in rss if t >= seconds - 10]
    return {
        "phones": phones,
        "seconds": seconds,
        "rate_hz": 100,
        "entries_sent": int(sum(sent)),
        "push_failures": failures,
        "sessions": len(sessions),
        "samples_expected_per_phone": expected_each,
        "samples_received_min": min(samples_each),
        "samples_received_max": max(samples_each),
        "samples_lost": int(sum(expected_each - s for s in samples_each))
        + expected_each * (phones - len(sessions)),
        "bad_rows": sum(s["bad_rows"] for s in sessions),
        "missing_messages": sum(s["missing_messages"] for s in sessions),
        "windows": sum(s["windows"] for s in sessions),
        "rss_mb_10_20s": round(statistics.mean(early), 1) if early else None,
        "rss_mb_last_10s": round(statistics.mean(late), 1) if late else None,
        "rss_mb_max": round(max(m for _, m in rss), 1),
        "rss_growth_mb": round(statistics.mean(late) - statistics.mean(early), 1)
        if early and late
        else None,
    }


def load(phones: int, seconds: int) -> dict:
    with ServerProcess("lstm", "--session-timeout", "120", "--max-sessions", str(phones)) as server:
        figures = asyncio.run(run_phones(server.url, phones, seconds, server.process.pid))
        cpu = psutil.Process(server.process.pid).cpu_times()
        figures["server_cpu_s"] = round(cpu.user + cpu.system, 1)
        figures["server_cpu_share"] = round((cpu.user + cpu.system) / (seconds + 2), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    figures = {"latency": latency()}
    print(json.dumps(figures["latency"], indent=1))
    figures["load"] = load(args.phones, args.seconds)
    print(json.dumps(figures["load"], indent=1))
    if args.save:
        print(f"saved {save('serve', figures)}")


if __name__ == "__main__":
    main()
