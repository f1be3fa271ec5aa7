"""Streaming: `harlite stream` speed on a long file, live per-window latency, and memory
over 10 million samples.

Targets (issue: runtime): ≥ 1,000× real time for `harlite stream` on a file with the fastest
artefact; RSS flat (within a few MB) over 10 M samples.

    python benchmarks/bench_stream.py [--bundle DIR] [--data ../shared/data/hapt]
                                      [--samples 10000000] [--save]

1. ``file``: the recordings of subjects 27–30 (../shared) joined into one CSV (a second of
   silence between recordings: each restarts the windows), streamed by the `harlite stream`
   command in a fresh process per artefact. Real-time factor = signal seconds / wall seconds,
   process start and imports included, and as the command's own summary states it.
2. ``live``: one hop (64 samples) pushed at a time, batch 1: push-to-prediction latency.
3. ``soak``: 10 M synthetic samples (55.6 h of signal) through one StreamClassifier, and the
   same count as CSV text piped into `harlite stream --input -`; resident memory sampled
   throughout; predictions counted against the complete windows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import save

from harlite.runtime.model.bundle import Bundle
from harlite.runtime.signal.sliding_window import count_windows
from harlite.runtime.stream import StreamClassifier
from harlite.shipped import model_path

SUBJECTS = [27, 28, 29, 30]
CHUNK = 1000


def rss_mib(pid: int | str = "self") -> float:
    """Resident set size of a process, in MiB (Linux /proc)."""
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def joined_recordings(data: str, path: Path) -> tuple[float, int]:
    """Write the validation subjects' recordings as one CSV; return (seconds, rows)."""
    from harlite.train.hapt_export import experiments, labelled_recording

    offset, rows = 0.0, 0
    with path.open("w") as handle:
        handle.write("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label\n")
        for experiment in experiments(data, SUBJECTS):
            raw, labels = labelled_recording(data, experiment)
            for i, row in enumerate(raw):
                values = ",".join(f"{v:.7g}" for v in row)
                handle.write(f"{offset + i / 50:.2f},{values},{labels[i]}\n")
            offset += len(raw) / 50 + 1.0
            rows += len(raw)
    return offset, rows


def bench_file(bundle: Path, data: str) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "validation.csv"
        seconds, rows = joined_recordings(data, path)
        results["input"] = {
            "rows": rows,
            "signal_s": round(seconds, 1),
            "bytes": path.stat().st_size,
        }
        for artifact in Bundle.open(bundle).tflite_names():
            summary_path = Path(tmp) / f"{artifact}.json"
            command = [
                sys.executable, "-m", "harlite.cli", "stream", str(bundle),
                "--artifact", artifact, "--input", str(path), "--output-format", "jsonl",
                "--summary", str(summary_path), "--quiet",
            ]  # fmt: skip
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                # predictions to stdout, discarded by the parent: no device path is named
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                best = min(best, time.perf_counter() - started)
            summary = json.loads(summary_path.read_text())
            results[artifact] = {
                "wall_s": round(best, 3),
                "realtime_factor_wall": round(summary["duration_s"] / best),
                "realtime_factor_stream": summary["realtime_factor"],
                "samples_per_s_wall": round(rows / best),
                "windows": summary["windows"],
                "gaps": summary["gaps"],
                "accuracy": summary.get("accuracy"),
            }
            print(f"file  {artifact:<8} {best:6.2f} s wall for {seconds / 3600:.2f} h of signal: "
                  f"{seconds / best:,.0f}× real time ({summary['realtime_factor']:,.0f}× inside "
                  f"the stream loop), {rows / best:,.0f} samples/s")  # fmt: skip
    return results


def bench_live(bundle: Path, artifact: str, windows: int = 2000) -> dict:
    classifier = StreamClassifier(bundle, artifact=artifact, batch_size=1)
    rows = synthetic_rows(128 + 64 * windows, 0)
    classifier.push(rows[:64])
    latencies = []
    for start in range(64, len(rows), 64):
        started = time.perf_counter()
        out = classifier.push(rows[start : start + 64])
        latencies.append((time.perf_counter() - started) * 1000)
        assert len(out) == 1
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    print(f"live  {artifact:<8} push of one hop → prediction: p50 {p50:.3f} ms, "
          f"p99 {p99:.3f} ms (budget: {classifier.hop_seconds * 1000:.0f} ms)")  # fmt: skip
    return {"p50_ms": round(p50, 4), "p90_ms": round(p90, 4), "p99_ms": round(p99, 4)}


def synthetic_rows(n: int, first: int, rate: float = 50.0) -> np.ndarray:
    """(n, 7) rows of a walking-like signal, sample indices from ``first``."""
    index = np.arange(first, first + n)
    t = index / rate
    phase = 2 * np.pi * 1.8 * t
    rows = np.empty((n, 7))
    rows[:, 0] = t
    rows[:, 1] = 1.0 + 0.3 * np.sin(phase)
    rows[:, 2] = 0.2 * np.cos(phase)
    rows[:, 3] = 0.1 * np.sin(2 * phase)
    rows[:, 4:7] = 0.5 * np.sin(phase[:, np.newaxis] + np.array([[0.0, 1.0, 2.0]]))
    return rows


def bench_soak_in_process(bundle: Path, artifact: str, samples: int) -> dict:
    classifier = StreamClassifier(bundle, artifact=artifact, batch_size=1)
    windows, trace, latency = 0, [], []
    started = time.perf_counter()
    for first in range(0, samples, CHUNK):
        batch_started = time.perf_counter()
        predictions = classifier.push(synthetic_rows(min(CHUNK, samples - first), first))
        windows += len(predictions)
        if predictions:
            latency.append((time.perf_counter() - batch_started) / len(predictions))
        if (first + CHUNK) % 1_000_000 == 0:
            trace.append(round(rss_mib(), 2))
            print(f"soak  {first + CHUNK:>10,} samples: RSS {trace[-1]:.1f} MiB, "
                  f"{windows:,} windows")  # fmt: skip
    elapsed = time.perf_counter() - started
    tenth = max(1, len(latency) // 10)
    first_ms = float(np.mean(latency[:tenth]) * 1000)
    last_ms = float(np.mean(latency[-tenth:]) * 1000)
    expected = count_windows(samples)
    return {
        "samples": samples,
        "signal_hours": round(samples / 50 / 3600, 2),
        "windows": windows,
        "expected_windows": expected,
        "rss_mib_per_million_samples": trace,
        "rss_growth_after_first_million_mib": round(trace[-1] - trace[0], 2),
        "ms_per_window_first_tenth": round(first_ms, 4),
        "ms_per_window_last_tenth": round(last_ms, 4),
        "elapsed_s": round(elapsed, 1),
        "realtime_factor": round(samples / 50 / elapsed),
    }


def _write_csv_lines(pipe, samples: int) -> None:
    try:
        pipe.write(b"t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n")
        for first in range(0, samples, 10_000):
            rows = synthetic_rows(min(10_000, samples - first), first)
            text = "\n".join(
                f"{r[0]:.2f},{r[1]:.5f},{r[2]:.5f},{r[3]:.5f},{r[4]:.5f},{r[5]:.5f},{r[6]:.5f}"
                for r in rows
            )
            pipe.write(text.encode() + b"\n")
    finally:
        pipe.close()


def bench_soak_cli(bundle: Path, artifact: str, samples: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary_path = Path(tmp) / "summary.json"
        command = [
            sys.executable, "-m", "harlite.cli", "stream", str(bundle), "--artifact", artifact,
            "--input", "-", "--output-format", "jsonl", "--summary", str(summary_path),
            "--quiet",
        ]  # fmt: skip
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        writer = threading.Thread(target=_write_csv_lines, args=(process.stdin, samples))
        started = time.perf_counter()
        writer.start()
        trace = []
        while process.poll() is None:
            time.sleep(2.0)
            try:
                trace.append(round(rss_mib(process.pid), 2))
            except (OSError, RuntimeError):
                break
        writer.join()
        elapsed = time.perf_counter() - started
        summary = json.loads(summary_path.read_text())
    settled = trace[len(trace) // 10 :] or trace
    result = {
        "samples": summary["samples"],
        "windows": summary["windows"],
        "expected_windows": count_windows(samples),
        "rss_mib_samples": trace,
        "rss_mib_min_max_after_first_tenth": [min(settled), max(settled)],
        "elapsed_s": round(elapsed, 1),
    }
    print(f"soak  harlite stream --input - : {summary['samples']:,} samples, "
          f"{summary['windows']:,} windows (expected {result['expected_windows']:,}), RSS "
          f"{min(settled):.1f}–{max(settled):.1f} MiB, {elapsed:.0f} s")  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=model_path("lstm"))
    parser.add_argument("--data", default="../shared/data/hapt")
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--artifact", default=None, help="for live and soak (default: fastest)")
    parser.add_argument("--skip-cli-soak", action="store_true")
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()

    figures: dict = {"bundle": str(args.bundle)}
    figures["file"] = bench_file(args.bundle, args.data)
    speeds = {k: v["wall_s"] for k, v in figures["file"].items() if k != "input"}
    fastest = args.artifact or min(speeds, key=speeds.get)
    figures["fastest_artifact"] = fastest
    figures["live"] = {name: bench_live(args.bundle, name) for name in speeds}
    figures["soak"] = bench_soak_in_process(args.bundle, fastest, args.samples)
    soak = figures["soak"]
    growth = soak["rss_growth_after_first_million_mib"]
    print(f"soak  StreamClassifier: {soak['windows']:,} windows of {soak['expected_windows']:,} "
          f"complete ones; RSS growth after the first million {growth} MiB; "
          f"{soak['ms_per_window_first_tenth']:.3f} → {soak['ms_per_window_last_tenth']:.3f} "
          "ms per window (first vs last tenth)")  # fmt: skip
    if not args.skip_cli_soak:
        figures["soak_cli"] = bench_soak_cli(args.bundle, fastest, args.samples)
    if args.save:
        print(f"saved {save('stream', figures)}")


if __name__ == "__main__":
    main()
