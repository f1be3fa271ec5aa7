"""Measurements inside one process: a runtime artefact's (TFLite, ONNX) load time, first
inference, batch-1 latency percentiles, throughput and peak memory; the compute per window;
the dense-matmul peak of this machine. Needs only the runtime (numpy and an interpreter).

Each runs in a fresh process (:mod:`harlite.bench.worker`), so that a load time is a
cold start and a peak resident memory is that of a process holding only one artefact.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import numpy as np

from harlite.runtime.model.base import Model
from harlite.runtime.model.bundle import Bundle, sample_windows

#: Batch sizes measured for throughput, where the model takes them.
BATCHES = (1, 16, 256)


def latency_stats(seconds: list[float]) -> dict[str, float]:
    """p50/p90/p99 and mean of per-call times, in milliseconds."""
    ms = np.asarray(seconds) * 1000
    p50, p90, p99 = np.percentile(ms, [50, 90, 99])
    return {
        "p50_ms": round(float(p50), 4),
        "p90_ms": round(float(p90), 4),
        "p99_ms": round(float(p99), 4),
        "mean_ms": round(float(ms.mean()), 4),
    }


def timed_calls(call, inputs: list) -> list[float]:
    """Seconds of ``call(x)`` for each input."""
    times = []
    for x in inputs:
        started = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - started)
    return times


def batch_calls(spec: dict[str, Any], batch: int) -> int:
    """Timed calls at a batch size: as many windows as the batch-1 run, at least 5 calls."""
    return spec["invokes"] if batch == 1 else max(5, spec["invokes"] // batch)


def throughput_row(batch: int, times: list[float]) -> dict[str, Any]:
    """A result row: latency percentiles of the calls and windows per second."""
    return {
        "batch": batch,
        **latency_stats(times),
        "windows_per_s": round(batch / np.mean(times), 1),
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB.

    Linux's VmHWM starts afresh at exec; getrusage's ru_maxrss would carry over the peak of
    the parent process this one was forked from.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 2)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 2)


def macs_per_window(model: Model) -> int | None:
    """Multiply-accumulates of one window through the graph's matrix ops (fully connected,
    convolutions, batch matmul, LSTM gates); element-wise ops are not counted. None where
    the backend does not expose the graph."""
    interpreter = getattr(model, "_interpreter", None)  # ONNX Runtime does not expose it
    try:
        ops = interpreter._get_ops_details()
    except AttributeError:
        return None
    shapes = {
        t["index"]: tuple(int(d) for d in t["shape"]) for t in interpreter.get_tensor_details()
    }

    def shape(index: int) -> tuple[int, ...]:
        return shapes.get(index, ())

    total = 0
    for op in ops:
        name, inputs, outputs = op["op_name"], list(op["inputs"]), list(op["outputs"])
        out = shape(outputs[0]) if outputs else ()
        out_elements = int(np.prod(out)) if out else 0
        if name == "FULLY_CONNECTED":
            total += out_elements * shape(inputs[1])[-1]
        elif name == "CONV_2D":
            _, kh, kw, ic = shape(inputs[1])
            total += out_elements * kh * kw * ic
        elif name == "DEPTHWISE_CONV_2D":
            _, kh, kw, _ = shape(inputs[1])
            total += out_elements * kh * kw
        elif name == "BATCH_MATMUL":
            total += out_elements * shape(inputs[0])[-1]
        elif name in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM"):
            steps_and_batch = int(np.prod(shape(inputs[0])[:-1]))
            n_in = shape(inputs[0])[-1]
            gates = [i for i in inputs[1:5] if i >= 0]
            hidden = shape(gates[0])[0]
            total += steps_and_batch * len(gates) * hidden * (n_in + hidden)
    batch = int(model.input_details["shape"][0]) or 1
    return total // batch


def measure_tflite(spec: dict[str, Any]) -> dict[str, Any]:
    """Measure one runtime artefact (TFLite, or ONNX on onnxruntime) in this process (meant
    to be a fresh one)."""
    started = time.perf_counter()
    bundle = Bundle.open(spec["bundle"])
    model = bundle.load_model(
        spec["artifact"], backend=spec.get("backend"), threads=spec["threads"]
    )
    load_ms = (time.perf_counter() - started) * 1000
    windows = sample_windows(bundle)
    single = windows[:1]

    started = time.perf_counter()
    model.invoke(single)
    first_ms = (time.perf_counter() - started) * 1000

    def cycled(count: int) -> list[np.ndarray]:
        return [windows[i % len(windows)][None] for i in range(count)]

    model.resize(1)
    timed_calls(model.invoke, cycled(spec.get("warmup", 50)))
    rows = [throughput_row(1, timed_calls(model.invoke, cycled(spec["invokes"])))]
    macs = macs_per_window(model)
    for batch in BATCHES[1:]:
        if not model.resize(batch):
            continue
        data = np.resize(windows, (batch, *windows.shape[1:]))
        model.invoke(data)
        rows.append(
            throughput_row(batch, timed_calls(model.invoke, [data] * batch_calls(spec, batch)))
        )
    return {
        "backend": model.backend,
        "load_ms": round(load_ms, 3),
        "interpreter_init_ms": round(model.load_seconds * 1000, 3),
        "first_inference_ms": round(first_ms, 3),
        "macs": macs,
        "peak_rss_mib": peak_rss_mib(),
        "rows": rows,
    }


def measure_matmul_peak(spec: dict[str, Any]) -> dict[str, Any]:
    """Best float32 GMAC/s of numpy's dense matrix multiply (BLAS) at this thread count."""
    n = spec.get("size", 1024)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    a @ b
    best = float("inf")
    deadline = time.perf_counter() + spec.get("seconds", 2.0)
    while time.perf_counter() < deadline:
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return {"matmul_size": n, "peak_gmacs": round(n**3 / best / 1e9, 2)}
