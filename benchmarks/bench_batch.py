"""Batch throughput: many long recordings classified by the local and the Ray engine with 1
and 2 workers, and a projection for 1,000 recordings of 7 days each.

Target (issue: scale out): with 2 workers, throughput ≥ 1.6× one worker on this 2-core
machine.

    python benchmarks/bench_batch.py [--recordings 8] [--hours 1] [--save]

Recordings are assembled from ../shared: the 42 HAPT experiments laid end to end (at 50 Hz,
with their labels) and cut into ``--recordings`` files of ``--hours`` each. Throughput is
hours of signal per wall-clock second. Ray is started once before its runs (its start-up
time is reported apart); each run writes fresh outputs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

from harlite.batch.pool import plan_batch, run_local
from harlite.runtime.io.sources import InputOptions
from harlite.runtime.stream import ClassifierSettings
from harlite.shipped import model_path
from harlite.train.hapt_export import experiments, labelled_recording, write_stream_csv

WEEK_S = 7 * 24 * 3600


def assemble(data: str, folder: Path, count: int, hours: float) -> list[Path]:
    parts = [labelled_recording(data, e) for e in experiments(data)]
    raw = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    samples = int(hours * 3600 * 50)
    paths = []
    for i in range(count):
        index = np.arange(i * samples, (i + 1) * samples) % len(raw)  # wraps round
        path = folder / f"recording{i:02d}.csv"
        write_stream_csv(path, raw[index], labels[index])
        paths.append(path)
    return paths


def timed(engine: str, files: list[Path], out: Path, workers: int) -> dict:
    if out.exists():
        shutil.rmtree(out)
    todo, _ = plan_batch(files, out, model_path("lstm"), ClassifierSettings(), InputOptions())
    started = time.perf_counter()
    if engine == "ray":
        from harlite.batch.ray_engine import run_ray

        result = run_ray(todo, workers=workers)
    else:
        result = run_local(todo, workers=workers)
    seconds = time.perf_counter() - started
    assert not result.errors, result.errors
    signal_s = sum(r["duration_s"] for r in result.summaries.values())
    windows = sum(r["windows"] for r in result.summaries.values())
    figures = {
        "workers": workers,
        "seconds": round(seconds, 2),
        "signal_hours": round(signal_s / 3600, 2),
        "windows": windows,
        "signal_hours_per_s": round(signal_s / 3600 / seconds, 4),
        "realtime_factor": round(signal_s / seconds),
    }
    print(f"{engine:<5} {workers} worker(s): {seconds:6.1f} s for {signal_s / 3600:.1f} h of "
          f"signal ({windows:,} windows): {signal_s / seconds:,.0f}× real time")  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/hapt")
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()

    figures: dict = {"recordings": args.recordings, "hours_each": args.hours}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        started = time.perf_counter()
        files = assemble(args.data, folder, args.recordings, args.hours)
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} recordings of {args.hours} h ({size / 1e6:.0f} MB of CSV) written "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
        figures["input_mb"] = round(size / 1e6)
        for workers in (1, 2):
            figures[f"local_{workers}"] = timed("local", files, Path(tmp) / "out", workers)

        import ray

        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        figures["ray_init_s"] = round(time.perf_counter() - started, 2)
        try:
            for workers in (1, 2):
                figures[f"ray_{workers}"] = timed("ray", files, Path(tmp) / "out", workers)
        finally:
            ray.shutdown()

    for engine in ("local", "ray"):
        one = figures[f"{engine}_1"]["signal_hours_per_s"]
        two = figures[f"{engine}_2"]["signal_hours_per_s"]
        figures[f"{engine}_speedup_2_workers"] = round(two / one, 3)
        print(f"{engine}: 2 workers give {two / one:.2f}× one worker (target ≥ 1.6×)")

    # Projection: 1,000 recordings of 7 days on k machines of 16 cores like these, one
    # worker per core, at the measured per-worker rate and 2-worker parallel efficiency.
    per_worker = figures["local_1"]["signal_hours_per_s"] * 3600  # signal s per wall s
    efficiency = figures["local_speedup_2_workers"] / 2
    total_signal_s = 1000 * WEEK_S
    projection = {}
    for machines in (1, 4, 16, 64):
        rate = per_worker * 16 * machines * efficiency
        projection[str(machines)] = round(total_signal_s / rate / 3600, 2)
    figures["projection_hours_1000_recordings_7_days_16_core_machines"] = projection
    figures["projection_basis"] = {
        "signal_s_per_wall_s_per_worker": round(per_worker),
        "parallel_efficiency": round(efficiency, 3),
        "csv_bytes_per_week_recording": round(
            WEEK_S * 50 * size / (args.recordings * args.hours * 3600 * 50)
        ),
    }
    for machines, hours in projection.items():
        print(f"projection: 1,000 × 7-day recordings on {machines:>2} × 16-core machines: "
              f"{hours:,.1f} h")  # fmt: skip
    if args.save:
        print(f"saved {save('batch', figures)}")


if __name__ == "__main__":
    main()
