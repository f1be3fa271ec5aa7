"""``harlite bench``: size, speed, memory and accuracy of every artefact of a bundle."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harlite.cli.options import bundle_path, quiet_or_err


def _thread_counts(ctx: click.Context, param: click.Parameter, value: str) -> list[int]:
    try:
        counts = [int(t) for t in value.split(",") if t.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected numbers like 1,2") from None
    if not counts or min(counts) < 1:
        raise click.UsageError("--invokes and --threads must be positive")
    return counts


@click.command()
@click.argument("bundle")
@click.option(
    "--backends",
    help="Comma-separated interpreters (ai_edge_litert, tflite_runtime, tensorflow); "
    "default: every one installed.",
)
@click.option(
    "--threads",
    default="1",
    show_default=True,
    callback=_thread_counts,
    help="Thread counts, e.g. 1,2.",
)
@click.option("--invokes", default=1000, show_default=True, help="Timed batch-1 invokes per row.")
@click.option("--no-tensorflow", is_flag=True, help="Skip the Keras model and the .pb.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md, bench.json and the chart bench.png here.",
)
def bench(
    bundle: str,
    backends: str | None,
    threads: list[int],
    invokes: int,
    no_tensorflow: bool,
    as_json: bool,
    report_dir: Path | None,
) -> None:
    """Measure every artefact of BUNDLE (a folder or a shipped model name): size, load and
    first-inference time, batch-1 latency p50/p90/p99, throughput, peak memory, MACs and
    GMAC/s, with the validation accuracy and Keras agreement from the manifest."""
    from harlite.bench import benchmark_bundle
    from harlite.bench.report import format_table, summary_lines, write_report

    if invokes < 1:
        raise click.UsageError("--invokes and --threads must be positive")
    log = quiet_or_err(as_json)
    result = benchmark_bundle(
        bundle_path(bundle),
        backends=[b.strip() for b in backends.split(",")] if backends else None,
        threads=threads,
        invokes=invokes,
        include_tensorflow=not no_tensorflow,
        log=log,
    )
    if report_dir is not None:
        log(f"report: {write_report(result, report_dir)}")
    if as_json:
        click.echo(json.dumps([row.to_dict() for row in result.rows]))
        return
    click.echo(format_table(result))
    for line in summary_lines(result):
        click.echo(line)
