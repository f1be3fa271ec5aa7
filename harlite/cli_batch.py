"""``harlite batch``: classify many recordings on all cores, or across machines with Ray."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from harlite.cli_stream import (
    input_options_from,
    model_and_input_options,
    resolve_bundle,
    settings_from,
)


@click.command()
@click.argument("bundle")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for one output and summary per recording, and batch-summary.json.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: a pool of processes on this machine; ray: a Ray cluster (harlite[ray]).",
)
@click.option(
    "--address",
    help="Ray: the cluster to join (e.g. 127.0.0.1:6379); default: start Ray in this process.",
)
@click.option(
    "--workers",
    type=int,
    help="Recordings classified at once (default: all cores, or the cluster's CPUs).",
)
@model_and_input_options
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default="jsonl",
    show_default=True,
    help="Predictions per recording: JSON lines, CSV, or Parquet (needs pyarrow).",
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def batch(bundle, inputs, out_dir, engine, address, workers, output_format, quiet, **options):
    """Classify every recording in INPUTS (files, folders, globs) with BUNDLE.

    Each recording is one unit of work with its own stream state, written to OUT/NAME.jsonl
    (or .csv/.parquet) and OUT/NAME.summary.json atomically. A rerun skips recordings whose
    outputs are complete and match the input's and the model's hashes, so an interrupted
    run loses nothing and redoes nothing.
    """
    if workers is not None and workers < 1:
        raise click.BadParameter("must be at least 1", param_hint="--workers")
    settings = settings_from(resolve_bundle(bundle), options)
    run_batch_job(
        list(inputs),
        out_dir,
        settings,
        input_options_from(options),
        engine=engine,
        address=address,
        workers=workers,
        output_format=output_format,
        quiet=quiet,
    )


def run_batch_job(
    inputs: list[str],
    out_dir: Path,
    settings,
    input_options,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    output_format: str = "jsonl",
    quiet: bool = False,
) -> dict:
    """Plan, run (skipping finished recordings) and summarise a batch; shared by
    `harlite batch` and the batch mode of `harlite stream`."""
    from harlite.atomic import write_text_atomic
    from harlite.runtime.batch import batch_summary, expand_inputs, plan_batch, run_local

    files = expand_inputs(inputs)
    todo, done = plan_batch(files, out_dir, settings, input_options, output_format)
    echo = (lambda text: None) if quiet else (lambda text: click.echo(text, err=True))
    echo(
        f"{len(files)} recordings: {len(done)} already done, {len(todo)} to classify "
        f"({engine} engine)"
    )
    bar = _Bar(len(todo), quiet)

    def progress(task, record, error) -> None:
        name = Path(task.input).name
        if error:
            bar.note(f"FAILED {name}: {error}")
        else:
            accuracy = record.get("accuracy")
            extra = f", accuracy {accuracy:.2%}" if accuracy is not None else ""
            bar.note(f"{name}: {record['windows']} windows, {record['bad_rows']} bad rows{extra}")
        bar.advance()

    started = time.perf_counter()
    try:
        if engine == "ray":
            from harlite.runtime.batch_ray import run_ray

            result = run_ray(todo, address=address, workers=workers, progress=progress)
        else:
            result = run_local(todo, workers=workers, progress=progress)
    finally:
        bar.close()
    summary = batch_summary(result, done, engine, time.perf_counter() - started)
    write_text_atomic(out_dir / "batch-summary.json", json.dumps(summary, indent=2) + "\n")
    line = (
        f"{summary['processed']} classified, {summary['skipped']} skipped, "
        f"{len(result.errors)} failed; {summary['windows']} windows in all"
    )
    if "accuracy" in summary:
        line += f", accuracy {summary['accuracy']:.2%} over {summary['labelled_windows']} windows"
    if summary["realtime_factor"]:
        line += f"; {summary['realtime_factor']:,.0f}× real time"
    echo(line + f" → {out_dir / 'batch-summary.json'}")
    if result.interrupted:
        echo("interrupted: the finished recordings are kept; run the same command to go on")
        sys.exit(130)
    if result.errors:
        raise click.ClickException(f"{len(result.errors)} recording(s) failed")
    return summary


class _Bar:
    """A click progress bar on stderr with messages printed above it."""

    def __init__(self, total: int, quiet: bool) -> None:
        self._bar = None
        if total and not quiet:
            self._bar = click.progressbar(length=total, label="classifying", file=sys.stderr)
            self._bar.__enter__()
        self.quiet = quiet

    def note(self, text: str) -> None:
        if not self.quiet:
            click.echo(("\n" if self._bar and sys.stderr.isatty() else "") + text, err=True)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
