"""Rebuild the recordings shipped in harlite/demo/ from the HAPT data in ../shared.

    python tools/make_demo.py [--data ../shared/data/hapt]

- ``exp54_user27.csv.gz``: samples 3257–14099 (3.6 min) of HAPT experiment 54 (subject 27,
  a validation subject of the reported split) in the canonical stream format with labels:
  standing, sitting, laying, the transitions between them, walking, stairs down and up.
- ``sensorlogger-sample.zip``: 20 s of walking from the same experiment laid out as the
  Sensor Logger app's Android zip export (TotalAcceleration.csv and Gyroscope.csv with
  ``time`` in ns since the epoch, ``seconds_elapsed``, ``z``, ``y``, ``x`` in m/s² and rad/s),
  resampled to 100 Hz. It is a format sample derived from HAPT, not a phone recording.
"""

from __future__ import annotations

import argparse
import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
from simulated_sensor import resampled_recording

from harlite.runtime.io.sensorcsv import CANONICAL_COLUMNS
from harlite.train.hapt_export import experiments, labelled_recording

DEMO = Path(__file__).resolve().parents[1] / "harlite" / "demo"
EXPERIMENT, SUBJECT = 54, 27
DEMO_SAMPLES = (3257, 14100)
SENSORLOGGER_SAMPLES = (10000, 11000)  # walking
EPOCH_NS = 1_764_000_000_000_000_000


def demo_csv(raw: np.ndarray, labels: np.ndarray) -> bytes:
    start, end = DEMO_SAMPLES
    lines = [",".join(CANONICAL_COLUMNS)]
    for i in range(start, end):
        values = ",".join(f"{v:.7g}" for v in raw[i])
        lines.append(f"{i / 50:.2f},{values},{labels[i]}")
    return ("\n".join(lines) + "\n").encode()


def sensorlogger_zip(raw: np.ndarray) -> bytes:
    start, end = SENSORLOGGER_SAMPLES
    resampled, _ = resampled_recording(raw[start:end], None, 100.0)
    seconds = np.arange(len(resampled)) / 100.0
    files = {
        "TotalAcceleration.csv": resampled[:, :3] * 9.80665,
        "Gyroscope.csv": resampled[:, 3:],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xyz in files.items():
            # The gyroscope runs on its own clock, a little after the accelerometer.
            offset = 0.0 if name.startswith("Total") else 0.004
            lines = ["time,seconds_elapsed,z,y,x"]
            for s, (x, y, z) in zip(seconds + offset, xyz, strict=True):
                lines.append(f"{EPOCH_NS + round(s * 1e9)},{s:.6f},{z:.9g},{y:.9g},{x:.9g}")
            info = zipfile.ZipInfo(name, date_time=(2025, 11, 24, 12, 0, 0))
            archive.writestr(info, "\n".join(lines) + "\n", zipfile.ZIP_DEFLATED)
        metadata = zipfile.ZipInfo("Metadata.csv", date_time=(2025, 11, 24, 12, 0, 0))
        archive.writestr(
            metadata,
            "version,device name,recording time,platform\n"
            "3,HAPT-derived sample,2025-11-24_12-00-00,android\n",
        )
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/hapt")
    args = parser.parse_args()
    (experiment,) = [e for e in experiments(args.data, [SUBJECT]) if e.experiment == EXPERIMENT]
    raw, labels = labelled_recording(args.data, experiment)
    DEMO.mkdir(exist_ok=True)
    with gzip.GzipFile(DEMO / "exp54_user27.csv.gz", "wb", mtime=0) as handle:
        handle.write(demo_csv(raw, labels))
    (DEMO / "sensorlogger-sample.zip").write_bytes(sensorlogger_zip(raw))
    for path in sorted(DEMO.iterdir()):
        print(f"{path}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
