"""``harlite batch``: classify many recordings on all cores, or across machines with Ray."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harlite.cli.options import (
    ProgressBar,
    batch_options,
    bundle_path,
    classifier_settings,
    input_options,
    model_and_input_options,
    quiet_or_err,
)
from harlite.runtime.spec import FILE_BATCH_SIZE


@click.command()
@click.argument("bundle")
@click.argument("inputs", nargs=-1, required=True)
@batch_options(out_required=True)
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
    run_batch_command(
        list(inputs),
        out_dir,
        bundle_path(bundle),
        classifier_settings(options, FILE_BATCH_SIZE),
        input_options(options),
        engine=engine,
        address=address,
        workers=workers,
        output_format=output_format,
        quiet=quiet,
    )


def run_batch_command(
    inputs: list[str],
    out_dir: Path,
    bundle: Path,
    settings,
    options,
    *,
    engine: str,
    address: str | None,
    workers: int | None,
    output_format: str,
    quiet: bool,
) -> None:
    """Run a batch with a progress bar and a closing line (also `harlite stream`'s batch
    mode); exit 130 when interrupted, 1 when a recording failed."""
    from harlite.batch.job import BATCH_SUMMARY, run_batch

    log = quiet_or_err(quiet)
    bar = ProgressBar("classifying", enabled=not quiet)

    def progress(task, record, error) -> None:
        name = Path(task.input).name
        if error:
            bar.note(f"FAILED {name}: {error}")
        else:
            accuracy = record.get("accuracy")
            extra = f", accuracy {accuracy:.2%}" if accuracy is not None else ""
            bar.note(f"{name}: {record['windows']} windows, {record['bad_rows']} bad rows{extra}")
        bar.advance()

    with bar:
        summary = run_batch(
            inputs,
            out_dir,
            bundle,
            settings,
            options,
            engine=engine,
            address=address,
            workers=workers,
            output_format=output_format,
            log=log,
            on_planned=lambda todo: bar.start(todo) if todo else None,
            progress=progress,
        )
    log(f"{summary.describe()} → {out_dir / BATCH_SUMMARY}")
    if summary.interrupted:
        log("interrupted: the finished recordings are kept; run the same command to go on")
        sys.exit(130)
    if summary.failed:
        raise click.ClickException(f"{len(summary.failed)} recording(s) failed")
    if summary.truncated:
        raise click.ClickException(
            f"{len(summary.truncated)} recording(s) ended early (damaged): "
            + "; ".join(f"{Path(k).name}: {v}" for k, v in summary.truncated.items())
        )
