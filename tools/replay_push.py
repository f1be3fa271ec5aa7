"""Play a recording to ``harlite serve`` as a phone running Sensor Logger would.

    python tools/replay_push.py harlite/demo/exp54_user27.csv.gz http://127.0.0.1:8000/push

Each second of samples goes as one HTTP Push message, at real-time pace (``--speed``).
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import urllib.error

import numpy as np

from harlite.serve.replay import post, sensor_logger_messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("recording", help="a canonical CSV (t, acc xyz [g], gyro xyz [rad/s])")
    parser.add_argument("url", help="the server's push URL, e.g. http://127.0.0.1:8000/push")
    parser.add_argument("--speed", type=float, default=1.0, help="times real time (default 1)")
    parser.add_argument("--token", help="the server's token")
    parser.add_argument("--device", default="replay", help="the phone's id on the page")
    args = parser.parse_args(argv)
    opener = gzip.open if args.recording.endswith(".gz") else open
    with opener(args.recording, "rt") as handle:
        rows = np.loadtxt(handle, delimiter=",", skiprows=1, usecols=range(7), ndmin=2)
    started = time.monotonic()
    for end, body in sensor_logger_messages(rows, device=args.device):
        due = started + (end - rows[0, 0]) / args.speed
        time.sleep(max(0.0, due - time.monotonic()))
        try:
            post(args.url, body, args.token)
        except (urllib.error.URLError, OSError) as error:
            print(f"{args.url}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
