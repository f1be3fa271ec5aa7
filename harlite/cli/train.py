"""``harlite train``: train a preset on a data set folder into a run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harlite.cli.options import ProgressBar, data_option, echo_err, epoch_progress, parse_subjects


@click.command()
@click.option(
    "--preset",
    default="lstm",
    show_default=True,
    help="Model preset (see `harlite models presets`).",
)
@data_option("Data set folder (HAPT raw or UCI HAR).")
@click.option(
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run folder to write (model, config, history, report).",
)
@click.option("--epochs", type=int, help="Most epochs (preset default otherwise).")
@click.option("--batch-size", type=int, help="Batch size.")
@click.option("--lr", type=float, help="Adam learning rate.")
@click.option("--seed", type=int, help="Random seed (weights, shuffling, augmentation).")
@click.option(
    "--val-subjects",
    callback=parse_subjects,
    help="Validation subjects, e.g. 27,28,29-30 (default 27-30; never test subjects); "
    "'none' trains on every training subject for a fixed number of epochs.",
)
@click.option("--patience", type=int, help="Stop after this many epochs without improvement.")
@click.option(
    "--unroll/--loop",
    default=None,
    help="Train the recurrent layers as 128 static steps (about 15% faster per epoch here, "
    "16 s more to build) or as a loop (the preset's default). Same numbers either way.",
)
@click.option("--quiet", is_flag=True, help="No progress bar or report on stderr.")
def train(
    preset: str,
    data_dir: Path,
    run_dir: Path,
    epochs: int | None,
    batch_size: int | None,
    lr: float | None,
    seed: int | None,
    val_subjects: list[int] | None,
    patience: int | None,
    unroll: bool | None,
    quiet: bool,
) -> None:
    """Train a model on DATA and write the run folder OUT.

    Model selection and early stopping use the validation subjects only; the standard UCI
    HAR test subjects are never used. Ctrl-C stops training and keeps the best checkpoint.
    """
    from harlite.train.models import get_preset
    from harlite.train.trainer import train as run_training

    config = get_preset(preset).config(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        val_subjects=val_subjects,
        patience=patience,
        unroll=unroll,
    )
    if val_subjects == []:
        config = config.override(select="last")
    with ProgressBar("training", enabled=not quiet) as bar:
        result = run_training(
            config,
            data_dir,
            run_dir,
            log=None if quiet else bar.note,
            progress=epoch_progress(bar),
        )
    if not quiet:
        echo_err("")
    click.echo(
        json.dumps(
            {
                "run_dir": str(result.run_dir),
                "accuracy": result.report.accuracy,
                "best_epoch": result.best_epoch,
                "epochs_run": result.epochs_run,
                "seconds": round(result.seconds, 1),
            }
        )
    )
    if result.interrupted:
        sys.exit(130)
