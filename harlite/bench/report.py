"""``harlite bench`` results for a person: an aligned table, headline lines, a Markdown
report with ``bench.json`` and a chart."""

from __future__ import annotations

import json
from pathlib import Path

from harlite.atomic import atomic_file, write_text_atomic
from harlite.bench.results import BenchResult, BenchRow

#: The table's columns: text-table heading and width (negative: left-aligned), and the
#: Markdown heading.
_COLUMNS = (
    ("artifact", -9, "artefact"),
    ("backend", -17, "backend"),
    ("thr", 3, "threads"),
    ("batch", 5, "batch"),
    ("size KB", 8, "size (KB)"),
    ("load ms", 8, "load (ms)"),
    ("1st ms", 7, "first (ms)"),
    ("p50 ms", 8, "p50 (ms)"),
    ("p90 ms", 8, "p90 (ms)"),
    ("p99 ms", 8, "p99 (ms)"),
    ("win/s", 9, "windows/s"),
    ("MMAC", 6, "MMAC"),
    ("GMAC/s", 7, "GMAC/s"),
    ("RSS MiB", 8, "peak RSS (MiB)"),
    ("floor×", 6, "× floor"),
    ("val acc", 8, "val acc"),
    ("agree", 7, "Keras agreement"),
)


def _cells(r: BenchRow) -> list[str]:
    """One row's values as text, in the order of _COLUMNS ("-" where not measured)."""

    def optional(value: float | None, form: str) -> str:
        return "-" if value is None else format(value, form)

    return [
        r.artifact,
        r.backend,
        str(r.threads),
        str(r.batch),
        f"{r.size_bytes / 1000:.1f}",
        f"{r.load_ms:.1f}",
        f"{r.first_inference_ms:.2f}",
        f"{r.p50_ms:.4f}",
        f"{r.p90_ms:.4f}",
        f"{r.p99_ms:.4f}",
        f"{r.windows_per_s:,.0f}",
        optional(r.macs / 1e6 if r.macs else None, ".2f"),
        optional(r.gmacs_per_s or None, ".2f"),
        f"{r.peak_rss_mib:.1f}",
        optional(r.floor_ratio, ".2f"),
        optional(r.val_accuracy, ".2%"),
        optional(r.keras_agreement, ".2%"),
    ]


def _aligned(cells: list[str]) -> str:
    return " ".join(
        f"{cell[: abs(width)]:<{-width}}" if width < 0 else f"{cell:>{width}}"
        for cell, (_, width, _) in zip(cells, _COLUMNS, strict=True)
    )


def format_table(result: BenchResult) -> str:
    """The rows as an aligned text table, then the peak-compute line."""
    header = _aligned([heading for heading, _, _ in _COLUMNS])
    lines = [header, "-" * len(header)]
    lines += [_aligned(_cells(r)) for r in result.rows]
    for threads, peak in result.peak.items():
        if "peak_gmacs" in peak:
            lines.append(
                f"dense float32 matmul peak ({threads} thread(s), numpy BLAS): "
                f"{peak['peak_gmacs']:.1f} GMAC/s"
            )
    lines += floor_lines(result)
    if result.evaluation_note:
        lines.append(result.evaluation_note)
    for error in result.errors:
        lines.append(f"not measured: {error}")
    return "\n".join(lines)


def summary_lines(result: BenchResult) -> list[str]:
    """Headline comparisons: each artefact's best p50 against Keras, and the compute share."""
    best = result.best_rows()
    lines = []
    keras = best.get("keras")
    for name, row in sorted(best.items(), key=lambda item: item[1].p50_ms):
        text = f"{name}: p50 {row.p50_ms:.4f} ms on {row.backend} ({row.threads} thr)"
        if keras and name != "keras":
            text += f", {keras.p50_ms / row.p50_ms:.1f}× faster than Keras predict_on_batch"
        peak = result.peak_gmacs(row.threads)
        if row.gmacs_per_s and peak:
            text += (
                f"; {row.gmacs_per_s:.2f} GMAC/s = {row.gmacs_per_s / peak:.1%} of the "
                f"{peak:.1f} GMAC/s matmul peak"
            )
        if row.floor_ratio:
            text += f"; {row.floor_ratio:.2f}× the plain C forward pass"
        lines.append(text)
    return lines + deployment_advice(result)


def floor_lines(result: BenchResult) -> list[str]:
    """The floor reference in a line (what was measured, and why anything was not)."""
    floor = result.floor
    if not floor:
        return []
    if "error" in floor:
        return [f"floor: not measured ({floor['error']})"]
    parts = []
    if floor.get("macs"):
        parts.append(f"{floor['macs'] / 1e6:.2f} MMAC per window")
    if floor.get("forward_ms"):
        parts.append(
            f"plain C forward pass {floor['forward_ms']:.4f} ms at batch 1 "
            f"({floor['compiler']}; reproduces the float32 artefact to "
            f"{floor['max_abs_diff']:.1g})"
        )
    if floor.get("chain_ms"):
        parts.append(
            f"its {floor['chain_matvecs']} dependent recurrent mat-vecs alone "
            f"{floor['chain_ms']:.4f} ms"
        )
    text = "floor: " + ("; ".join(parts) or "nothing measured")
    return [text + (f" ({floor['note']})" if floor.get("note") else "")]


def deployment_advice(result: BenchResult) -> list[str]:
    """Which artefact to deploy on this host, from the measured batch-1 rows: the fastest,
    and what full-integer int8 costs or gains here against dynamic-range (or float32)."""
    best = result.best_rows()
    tflite = {n: r for n, r in best.items() if r.format == "tflite"}
    if not best:
        return []
    machine = result.machine.get("machine") or result.machine.get("processor", "this")
    fastest = min(best.values(), key=lambda r: r.p50_ms)
    lines = [
        f"on this {machine} host, deploy {fastest.artifact} on {fastest.backend} "
        f"(the fastest here, p50 {fastest.p50_ms:.4f} ms)"
    ]
    phone = min(tflite.values(), key=lambda r: r.p50_ms) if tflite else None
    if phone is not None and phone is not fastest:
        lines.append(
            f"of the TFLite artefacts (phones, 32-bit Pis), {phone.artifact} is the fastest "
            f"here (p50 {phone.p50_ms:.4f} ms)"
        )
    int8, reference = tflite.get("int8"), tflite.get("dynamic") or tflite.get("float32")
    if int8 is None or reference is None:
        return lines
    ratio = int8.p50_ms / reference.p50_ms
    accuracy = ""
    if int8.val_accuracy is not None and reference.val_accuracy is not None:
        accuracy = (
            f" (validation accuracy {int8.val_accuracy:.2%} against {reference.val_accuracy:.2%})"
        )
    if ratio > 1.1:
        lines.append(
            f"full-integer int8 is {ratio:.1f}× slower than {reference.artifact} here"
            f"{accuracy}: this host's integer kernels for this graph are slower than its float "
            f"ones, so take {reference.artifact} here; Arm builds have NEON integer kernels, "
            "so measure int8 on the device it is meant for (harlite bench there)"
        )
    elif ratio < 0.9:
        lines.append(
            f"full-integer int8 is {1 / ratio:.1f}× faster than {reference.artifact} here{accuracy}"
        )
    else:
        lines.append(f"full-integer int8 runs as fast as {reference.artifact} here{accuracy}")
    return lines


def write_report(result: BenchResult, out_dir: str | Path) -> Path:
    """``report.md``, ``bench.json`` and (with matplotlib) ``bench.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "bench.json", json.dumps(result.to_dict(), indent=2) + "\n")
    chart = write_chart(result, out_dir / "bench.png")
    text = [
        f"# Benchmark of `{result.bundle}`",
        "",
        f"{result.date}, {result.machine['processor']}, {result.machine['cpu_count']} "
        f"CPUs, Python {result.machine['python']}.",
        "",
        "Every artefact in a fresh process: load (hash check + interpreter), first inference, "
        "then batch-1 latency over the invokes after a warm-up; throughput at larger batches "
        "where the model takes them; peak resident memory of that process; multiply-"
        "accumulates per window from the graph's matrix ops. Accuracy and Keras agreement "
        "are the validation figures recorded in the manifest.",
        "",
        *(f"- {line}" for line in summary_lines(result)),
        "",
        markdown_table(result),
        "",
    ]
    if chart:
        text += [f"![latency, size and accuracy]({chart.name})", ""]
    else:
        text += ["(No chart: matplotlib is not installed.)", ""]
    path = out_dir / "report.md"
    write_text_atomic(path, "\n".join(text))
    return path


def markdown_table(result: BenchResult) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| " + " | ".join(heading for _, _, heading in _COLUMNS) + " |",
        "|" + " --- |" * len(_COLUMNS),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in result.rows]
    peaks = [
        f"{p['peak_gmacs']:.1f} GMAC/s with {t} thread(s)"
        for t, p in result.peak.items()
        if "peak_gmacs" in p
    ]
    if peaks:
        lines += ["", "Dense float32 matmul peak (numpy BLAS, 1024²): " + ", ".join(peaks) + "."]
    if result.floor:
        lines += ["", *floor_lines(result)]
    if result.evaluation_note:
        lines += ["", result.evaluation_note[0].upper() + result.evaluation_note[1:] + "."]
    return "\n".join(lines)


def write_chart(result: BenchResult, path: Path) -> Path | None:
    """Batch-1 p50 latency per artefact (best backend), annotated with size and accuracy."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return None
    best = sorted(result.best_rows().values(), key=lambda r: r.p50_ms)
    if not best:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(best) + 1.5))
    names = [f"{r.artifact}\n{r.backend}" for r in best]
    values = [r.p50_ms for r in best]
    ax.barh(names, values, color="tab:blue")
    ax.set_xscale("log")
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if min(values) / 2 <= t]
    ax.set_xticks([t for t in ticks if t <= max(values) * 2])
    ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("batch-1 p50 latency per window (ms, log scale)")
    for i, r in enumerate(best):
        acc = f", {r.val_accuracy:.1%}" if r.val_accuracy is not None else ""
        label = f"  p50 {values[i]:.3f} ms, {r.size_bytes / 1000:.0f} KB{acc}"
        ax.text(values[i], i, label, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_title("Latency, size and validation accuracy per artefact")
    fig.tight_layout()
    with atomic_file(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)
    return path
