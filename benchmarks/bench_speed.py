"""Speed against the script a data scientist would write, and against the hardware floor.

Targets (issue: speed), every ratio measured in one run with the contenders interleaved:

1. ``stream``: `harlite stream` on a 1-hour CSV (180,000 rows at 50 Hz) uses ≤ 0.5× the CPU
   per sample of ``baseline_script.py`` (pandas ``read_csv`` + ``scipy.signal`` +
   ``sliding_window_view`` + one LiteRT invoke per window) on the same model. Each run is a
   fresh process; its CPU (user + system) comes from ``getrusage``. CPU per sample is the
   marginal cost: (CPU on the hour − CPU on its first minute) / (the samples between), so the
   fixed start-up (imports, model load) is not spread over the samples; whole-process
   figures are given too. harlite runs twice: on the script's own artefact (float32 TFLite)
   and on the fastest backend for the model here (``--backend auto``).
2. ``batch``: `harlite batch` over 20 such files, 2 workers ≥ 1.8× as fast as 1 (wall time;
   median of interleaved rounds, each round's own ratio given too). The workers filter with
   the bundle's own coefficients and never import ``scipy.signal``.
3. ``startup``: commands that print help or read manifests stay under 0.2 s (wall).
4. ``inference``: batch-1 latency of the fastest backend for ``lstm`` ≤ 1.5× the plain C
   forward pass (``harlite.bench.floor``); its batch-256 throughput ≥ 2.5× the float32
   TFLite artefact's (whose fixed batch of 1 runs window by window), one thread each.

harlite's modules are byte-compiled first, as ``pip install`` does: a checkout run with
``PYTHONDONTWRITEBYTECODE`` would otherwise compile them from source in every process.

    python benchmarks/bench_speed.py [--data ../shared/data/hapt] [--rounds 9] [--save]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pin_to_one_core, save

import harlite
from harlite.bench.floor import _compile, _time_forward, stacked_lstm
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.signal._sosfilt import kernel_in_use
from harlite.shipped import model_path

HERE = Path(__file__).resolve().parent
HOUR_ROWS = 180_000
MINUTE_ROWS = 3_000
SUBJECTS = [27, 28, 29, 30]
#: Batch-1 calls per block in the latency comparison.
BLOCK = 50


def write_recording(path: Path, rows: int, data: str | None) -> None:
    """A canonical CSV of ``rows`` samples at 50 Hz without gaps: the validation subjects'
    recordings one after another, repeated (synthetic noise where the data is missing)."""
    if data and Path(data).is_dir():
        from harlite.train.hapt_export import experiments, labelled_recording

        parts, labels = [], []
        for experiment in experiments(data, SUBJECTS):
            raw, codes = labelled_recording(data, experiment)
            parts.append(raw)
            labels += list(codes)
        raw = np.concatenate(parts)
    else:
        rng = np.random.default_rng(0)
        raw = np.hstack((1 + 0.05 * rng.standard_normal((rows, 3)), rng.standard_normal((rows, 3))))
        labels = [""] * rows
    index = np.arange(rows) % len(raw)
    with path.open("w") as handle:
        handle.write("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label\n")
        for i, j in enumerate(index):
            values = ",".join(f"{v:.7g}" for v in raw[j])
            handle.write(f"{i / 50:.2f},{values},{labels[j]}\n")


def cpu_of(command: list[str], **kwargs) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a child process run to completion."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   **kwargs)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def stream_commands(csv: Path, out: Path) -> dict[str, list[str]]:
    harlite = [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input", str(csv),
               "--quiet"]  # fmt: skip
    return {
        "script": [
            sys.executable,
            str(HERE / "baseline_script.py"),
            str(csv),
            str(model_path("lstm")),
            "--out",
            str(out.with_suffix(".script.txt")),
        ],
        "harlite_same_artifact": [
            *harlite,
            "--artifact",
            "float32",
            "--output",
            str(out.with_suffix(".same.jsonl")),
        ],
        "harlite_fastest": [
            *harlite,
            "--backend",
            "auto",
            "--output",
            str(out.with_suffix(".fastest.jsonl")),
        ],
        # the same without pandas (the core install): the built-in block reader
        "harlite_fastest_without_pandas": [
            sys.executable,
            "-c",
            "import sys; sys.modules['pandas'] = None; sys.argv[0] = 'harlite'; "
            "from harlite.cli import main; main()",
            *harlite[3:],
            "--backend",
            "auto",
            "--output",
            str(out.with_suffix(".nopandas.jsonl")),
        ],
    }


def bench_stream(folder: Path, rounds: int) -> dict:
    files = {
        "hour": (folder / "hour.csv", HOUR_ROWS),
        "minute": (folder / "minute.csv", MINUTE_ROWS),
    }
    cpu: dict[str, dict[str, list[float]]] = {}
    commands = {size: stream_commands(path, folder / size) for size, (path, _) in files.items()}
    for size, command in commands.items():  # warm the page cache and the backend cache
        for name, argv in command.items():
            cpu_of(argv)
            cpu.setdefault(name, {}).setdefault(size, [])
    for _ in range(rounds):
        for size in files:
            for name, argv in commands[size].items():
                cpu[name][size].append(cpu_of(argv)[0])
    samples = HOUR_ROWS - MINUTE_ROWS
    figures = {}
    for name, runs in cpu.items():
        hour, minute = float(np.median(runs["hour"])), float(np.median(runs["minute"]))
        figures[name] = {
            "cpu_s_hour": round(hour, 3),
            "cpu_s_minute": round(minute, 3),
            "cpu_us_per_sample": round((hour - minute) / samples * 1e6, 3),
            "cpu_us_per_sample_whole_process": round(hour / HOUR_ROWS * 1e6, 3),
        }
    script = figures["script"]
    marginal = {name: np.subtract(runs["hour"], runs["minute"]) for name, runs in cpu.items()}
    for name in ("harlite_same_artifact", "harlite_fastest", "harlite_fastest_without_pandas"):
        figures[name]["ratio_per_sample"] = round(
            figures[name]["cpu_us_per_sample"] / script["cpu_us_per_sample"], 3
        )
        # each round's ratio (its runs minutes apart at most), for the spread
        paired = marginal[name] / marginal["script"]
        figures[name]["ratio_per_sample_rounds"] = [round(float(r), 3) for r in paired]
        figures[name]["ratio_whole_process"] = round(
            figures[name]["cpu_s_hour"] / script["cpu_s_hour"], 3
        )
    figures["agreement"] = label_agreement(folder / "hour")
    figures["backend_choice"] = backend_said(folder / "hour.csv")
    return figures


def label_agreement(prefix: Path) -> dict:
    """Window labels of the script and of both harlite runs on the hour, compared."""
    script = prefix.with_suffix(".script.txt").read_text().split()
    runs = {}
    for name, suffix in (("same_artifact", ".same.jsonl"), ("fastest", ".fastest.jsonl")):
        lines = prefix.with_suffix(suffix).read_text().splitlines()
        runs[name] = [json.loads(line)["label"] for line in lines]
    out = {"windows": len(script)}
    for name, labels in runs.items():
        same = sum(a == b for a, b in zip(script, labels, strict=False))
        out[f"{name}_windows"] = len(labels)
        out[f"{name}_equal_to_script"] = round(same / max(len(script), 1), 5)
    return out


def backend_said(csv: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "stream", "lstm", "--input", str(csv), "--backend",
         "auto", "--output", str(csv.with_suffix(".said.jsonl"))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return next((line.strip() for line in result.stderr.splitlines() if "backend auto" in line), "")


def bench_startup(rounds: int) -> dict:
    """CPU and wall seconds of commands that print help or read manifests (goal: < 0.2 s
    wall), and of a whole `harlite stream --demo` process for comparison."""
    harlite = [sys.executable, "-m", "harlite.cli"]
    commands = {
        "--help": ["--help"],
        "models list": ["models", "list"],
        "stream --help": ["stream", "--help"],
        "models path lstm": ["models", "path", "lstm"],
    }
    out = {}
    for name, args in commands.items():
        runs = [cpu_of([*harlite, *args]) for _ in range(rounds)]
        out[name] = {
            "wall_s": round(float(np.median([w for _, w in runs])), 3),
            "cpu_s": round(float(np.median([c for c, _ in runs])), 3),
        }
    with tempfile.TemporaryDirectory() as tmp:
        demo = [*harlite, "stream", "--demo", "--quiet", "--output", f"{tmp}/demo.jsonl"]
        runs = [cpu_of(demo) for _ in range(rounds)]
    out["stream --demo (whole process)"] = {
        "wall_s": round(float(np.median([w for _, w in runs])), 3),
        "cpu_s": round(float(np.median([c for c, _ in runs])), 3),
    }
    return out


def bench_batch(folder: Path, files: int, rounds: int) -> dict:
    inputs = folder / "inputs"
    inputs.mkdir()
    for i in range(files):
        os.link(folder / "hour.csv", inputs / f"hour-{i:02d}.csv")
    wall: dict[int, list[float]] = {1: [], 2: []}
    for r in range(rounds):
        for workers in (1, 2):
            out = folder / f"out-{workers}-{r}"
            command = [sys.executable, "-m", "harlite.cli", "batch", "lstm", str(inputs),
                       "--out", str(out), "--workers", str(workers), "--backend", "auto",
                       "--quiet"]  # fmt: skip
            wall[workers].append(cpu_of(command)[1])
    one, two = (
        float(np.median(wall[1])),
        float(np.median(wall[2])),
    )
    return {
        "files": files,
        "rows_per_file": HOUR_ROWS,
        "rounds": rounds,
        "wall_s_1_worker": round(one, 2),
        "wall_s_2_workers": round(two, 2),
        "speedup_2_workers": round(one / two, 3),
        "speedup_rounds": [round(a / b, 3) for a, b in zip(wall[1], wall[2], strict=True)],
        "filter_kernel": kernel_in_use(),
    }


def bench_inference(rounds: int) -> dict:
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        return _inference(rounds)
    finally:
        if cores is not None:
            os.sched_setaffinity(0, cores)  # the batch workers that follow need every core


def _inference(rounds: int) -> dict:
    pinned = pin_to_one_core()  # one core for every contender: no migrations mid-call
    bundle = Bundle.open(model_path("lstm"))
    models = {
        f"{name} on {backend}": bundle.load_model(name, backend=backend, threads=1)
        for name, backend in (
            ("float32", "ai_edge_litert"),
            ("dynamic", "ai_edge_litert"),
            ("onnx", "onnxruntime"),
        )
    }
    library, compiler = _compile()
    graph = stacked_lstm(models["float32 on ai_edge_litert"])
    windows = np.random.default_rng(0).normal(size=(256, 128, 9)).astype(np.float32) * 0.3
    one = windows[:1]
    b1: dict[str, list[float]] = {name: [] for name in [*models, "plain C forward pass"]}
    throughput: dict[str, list[float]] = {
        "onnx on onnxruntime": [],
        "float32 on ai_edge_litert": [],
    }
    for model in models.values():
        model.resize(1)
        for _ in range(50):
            model.invoke(one)
    # Blocks of calls of each contender in turn: each runs warm (its own weights in cache),
    # and all of them see the same stretches of this noisy machine. The median over blocks of
    # each block's median call is compared.
    calls = {name: model.invoke for name, model in models.items()}
    calls["plain C forward pass"] = lambda x: _time_forward(library, graph, x[0])
    for _ in range(rounds * 16):
        for name, call in calls.items():
            times = []
            for _ in range(BLOCK):
                start = time.perf_counter()
                took = call(one)
                times.append(took if isinstance(took, float) else time.perf_counter() - start)
            b1[name].append(float(np.median(times)) * 1000)
    for _ in range(rounds):
        for name in throughput:
            model = models[name]
            model.resize(256)
            start = time.perf_counter()
            for _ in range(4):
                model.predict(windows)
            throughput[name].append(4 * 256 / (time.perf_counter() - start))
    latency = {name: round(float(np.median(v)), 4) for name, v in b1.items()}
    rates = {name: round(float(np.median(v)), 1) for name, v in throughput.items()}
    backends = {k: v for k, v in latency.items() if k != "plain C forward pass"}
    fastest = min(backends, key=backends.get)
    # each turn's ratio (blocks run moments apart), then their median
    paired = np.array(b1[fastest]) / np.array(b1["plain C forward pass"])
    return {
        "pinned": pinned,
        "batch1_p50_ms": latency,
        "compiler": compiler,
        "fastest_backend": fastest,
        "fastest_over_plain_forward": round(float(np.median(paired)), 3),
        "fastest_over_plain_forward_iqr": [
            round(float(q), 3) for q in np.percentile(paired, [25, 75])
        ],
        "batch256_windows_per_s": rates,
        "onnx_batch256_over_tflite": round(
            rates["onnx on onnxruntime"] / rates["float32 on ai_edge_litert"], 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(HERE.parents[1] / "shared" / "data" / "hapt"))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    compileall.compile_dir(Path(harlite.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_recording(folder / "hour.csv", HOUR_ROWS, args.data)
        write_recording(folder / "minute.csv", MINUTE_ROWS, args.data)
        figures = {"startup": bench_startup(args.rounds)}
        print(json.dumps(figures["startup"], indent=1), flush=True)
        figures["stream"] = bench_stream(folder, args.rounds)
        print(json.dumps(figures["stream"], indent=1), flush=True)
        figures["inference"] = bench_inference(args.rounds)
        print(json.dumps(figures["inference"], indent=1), flush=True)
        figures["batch"] = bench_batch(folder, args.files, args.rounds)
        print(json.dumps(figures["batch"], indent=1), flush=True)
    stream, inference, batch = figures["stream"], figures["inference"], figures["batch"]
    slowest_help = max(v["wall_s"] for k, v in figures["startup"].items() if "demo" not in k)
    figures["targets"] = {
        "help_and_manifest_commands_wall_s_max": 0.2,
        "startup_met": slowest_help < 0.2,
        "stream_cpu_per_sample_ratio_max": 0.5,
        "stream_met": stream["harlite_fastest"]["ratio_per_sample"] <= 0.5,
        "batch_speedup_min": 1.8,
        "batch_met": batch["speedup_2_workers"] >= 1.8,
        "batch1_over_plain_forward_max": 1.5,
        "batch1_met": inference["fastest_over_plain_forward"] <= 1.5,
        "batch256_over_tflite_min": 2.5,
        "batch256_met": inference["onnx_batch256_over_tflite"] >= 2.5,
    }
    print(json.dumps(figures["targets"], indent=1))
    if args.save:
        print(save("speed", figures))


if __name__ == "__main__":
    main()
