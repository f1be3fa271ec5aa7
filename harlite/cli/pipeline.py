"""``harlite pipeline``: the main job, raw recordings to a measured bundle with a report."""

from __future__ import annotations

from pathlib import Path

import click

from harlite.cli.options import ProgressBar, epoch_progress


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, path_type=Path),
    help="HAPT raw folder, a recordings folder or its dataset.toml, or a mixture .toml such "
    "as benchmarks/datasets/anywhere.toml, the shipped default's data (default: download "
    "UCI HAPT).",
)
@click.option("--preset", default="lstm", show_default=True, help="Model preset to train.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the run, bundle, benchmark, streamed recording and report.md.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="A short training (25 epochs) and fewer timed invokes: minutes, for CI and first contact.",
)
def pipeline(data_dir: Path | None, preset: str, out_dir: Path, quick: bool) -> None:
    """Raw recordings to a measured, deployable bundle: data → train (with its validation
    evaluation) → convert → verify → bench → stream a validation recording, with
    OUT/report.md holding every figure and plot."""
    from harlite.pipeline import run_pipeline

    with ProgressBar("training") as bar:
        run_pipeline(
            out_dir,
            data_dir,
            preset=preset,
            quick=quick,
            log=bar.note,
            progress=epoch_progress(bar),
        )
    click.echo(str(out_dir / "report.md"))
