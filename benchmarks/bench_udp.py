"""UDP listener: the sustained datagram rate `harlite stream --input udp:PORT` takes without
loss, on loopback, with the shipped lstm model classifying as the samples arrive.

For each shape (1 and 10 canonical lines per datagram) and each rate, a sender paces
datagrams for a few seconds while the listener streams them through the StreamClassifier;
the kernel's drop counter (SO_RXQ_OVFL / /proc/net/udp) and the samples received say what
was lost. Bounded: at most 6 rates × 2 shapes × SECONDS each, loopback only.

    python benchmarks/bench_udp.py [--seconds 2] [--save]
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

from harlite.runtime.io.sources import UdpSource
from harlite.runtime.run import run_stream
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path

RATES = (1_000, 2_000, 5_000, 10_000, 20_000, 40_000)  # datagrams per second


def send(port: int, rate: int, seconds: float, lines_per: int) -> int:
    """Send paced datagrams of ``lines_per`` lines; returns the datagrams sent."""
    count = int(rate * seconds)
    step = 1.0 / rate
    sample = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        start = time.perf_counter()
        for i in range(count):
            lines = []
            for _ in range(lines_per):
                lines.append(f"{sample / 50:.2f},1.0,0.01,0.02,0.001,0.002,0.003")
                sample += 1
            sender.sendto("\n".join(lines).encode(), ("127.0.0.1", port))
            while time.perf_counter() < start + (i + 1) * step:
                pass
    return count


def measure(rate: int, seconds: float, lines_per: int, classifier: StreamClassifier) -> dict:
    classifier.reset()
    source = UdpSource(0, idle_timeout=1.0)
    sent: list[int] = []
    sender = threading.Thread(
        target=lambda: sent.append(send(source.port, rate, seconds, lines_per))
    )
    sender.start()
    summary = run_stream(source, classifier, [], name=source.name)
    sender.join()
    received = summary.rows // lines_per
    return {
        "datagrams_per_s": rate,
        "lines_per_datagram": lines_per,
        "sent": sent[0],
        "received": received,
        "dropped": summary.udp_dropped,
        "samples_per_s": rate * lines_per,
        "windows": summary.windows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()
    classifier = StreamClassifier(model_path("lstm"))
    rows, best = [], {}
    for lines_per in (1, 10):
        for rate in RATES:
            row = measure(rate, args.seconds, lines_per, classifier)
            rows.append(row)
            lossless = row["received"] == row["sent"] and not row["dropped"]
            print(
                f"{lines_per:>2} line(s)/datagram, {rate:>6,}/s for {args.seconds:g} s: sent "
                f"{row['sent']:,}, received {row['received']:,}, kernel dropped {row['dropped']}"
                + ("" if lossless else "  ← loss")
            )
            if lossless:
                best[lines_per] = rate
            else:
                break  # faster rates lose more
    for lines_per, rate in best.items():
        print(
            f"sustained without loss: {rate:,} datagrams/s of {lines_per} line(s) "
            f"= {rate * lines_per:,} samples/s"
        )
    if args.save:
        figures = {"rows": rows, "lossless_datagrams_per_s": {str(k): v for k, v in best.items()}}
        print(f"saved {save('udp', figures)}")


if __name__ == "__main__":
    main()
