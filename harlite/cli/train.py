"""``harlite train``: train a preset on a data set folder into a run folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from harlite.cli.options import (
    ENGINE_CHOICE,
    ProgressBar,
    data_option,
    echo_err,
    epoch_progress,
    model_argument,
    parse_subjects,
)

if TYPE_CHECKING:
    from harlite.train.config import TrainConfig


def parse_fold(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--val-fold I/K``: fold I of K."""
    if value is None:
        return None
    i, slash, k = value.partition("/")
    try:
        if not slash:
            raise ValueError
        return int(i), int(k)
    except ValueError:
        raise click.BadParameter(f"expected I/K such as 2/5, not {value!r}") from None


@click.command()
@click.option(
    "--preset",
    help="Model preset (see `harlite models presets`; default lstm, or the --init model's).",
)
@data_option("Data set folder (HAPT raw, UCI HAR, or a recordings folder: docs/own-data.md).")
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
@click.option(
    "--val-fold",
    callback=parse_fold,
    help="Validate on leave-subjects-out fold I of K of the training subjects, e.g. 2/5 "
    "(seeded by --seed).",
)
@click.option("--patience", type=int, help="Stop after this many epochs without improvement.")
@click.option(
    "--init",
    callback=lambda ctx, param, value: None if value is None else model_argument(ctx, param, value),
    help="Fine-tune: start from this model's weights (a run folder, .keras file, bundle or "
    "shipped model name), with a new classifier head when the classes differ. Defaults for "
    "small data: 60 epochs, batch 32, lr 0.001, head alone for 10 epochs, patience 20.",
)
@click.option(
    "--freeze-epochs",
    type=click.IntRange(min=0),
    help="With --init: train only the classifier head for this many epochs first (default "
    "10 of 60; a shorter --epochs scales it down, keeping at least 1).",
)
@click.option(
    "--unroll/--loop",
    default=None,
    help="Train the recurrent layers as 128 static steps (about 15% faster per epoch here, "
    "16 s more to build) or as a loop (the preset's default). Same numbers either way.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
    help="Cross-validate: train K models, each holding out a K-th of the training people "
    "(each placement's people spread over the folds), each keeping its last weights (or "
    "the mean of the last epochs' with the preset's average_epochs); write "
    "OUT/cv.json and OUT/cv.md with figures per placement, class and person, worst person "
    "included (docs/crossval.md). Finished folds are kept: run again to resume.",
)
@click.option(
    "--engine",
    type=ENGINE_CHOICE,
    default="local",
    show_default=True,
    help="With --folds: one fold after another here, or in parallel on Ray (harlite[ray]).",
)
@click.option(
    "--address",
    help="With --engine ray: the cluster to join (default: start Ray here with --workers CPUs).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="With --engine ray and no --address: folds at once (default: all cores).",
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
    val_fold: tuple[int, int] | None,
    patience: int | None,
    init: Path | None,
    freeze_epochs: int | None,
    unroll: bool | None,
    folds: int | None,
    engine: str,
    address: str | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Train a model on DATA and write the run folder OUT.

    Model selection and early stopping use the validation subjects only; the data set's test
    subjects (UCI HAR's standard ones, a recordings folder's split=test) are never used.
    Ctrl-C stops training and keeps the best checkpoint.
    """
    if val_subjects is not None and val_fold is not None:
        raise click.UsageError("give --val-subjects or --val-fold, not both")
    if freeze_epochs is not None and init is None:
        raise click.UsageError("--freeze-epochs fine-tunes: give --init MODEL")
    config, note = _training_config(
        preset,
        init,
        seed=seed,
        val_subjects=val_subjects,
        unroll=unroll,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        freeze_epochs=freeze_epochs,
    )
    if note is not None and not quiet:
        echo_err(note)
    if folds is not None:
        if val_subjects is not None or val_fold is not None:
            raise click.UsageError("--folds chooses the held-out people: drop --val-*")
        _cross_validate(config, data_dir, run_dir, folds, engine, address, workers, quiet)
        return
    _train_one(config, data_dir, run_dir, val_fold, quiet)


def _training_config(
    preset: str | None,
    init: Path | None,
    *,
    seed: int | None,
    val_subjects: list[int] | None,
    unroll: bool | None,
    **chosen: int | float | None,
) -> tuple[TrainConfig, str | None]:
    """The preset's config (the --init model's preset by default) with the options given on
    top, fine-tuning defaults included with --init; and the note on the head-only epochs
    to show (None: nothing to say)."""
    from harlite.train.finetune import base_settings, fine_tune_config, freeze_note
    from harlite.train.models import get_preset

    base = base_settings(init) if init is not None else None
    name = preset or (base.preset if base else "lstm")
    config = get_preset(name).config(seed=seed, val_subjects=val_subjects, unroll=unroll)
    note = None
    if base is not None:
        config = fine_tune_config(init, base, config, **chosen)
        note = freeze_note(config, freeze_given=chosen["freeze_epochs"] is not None)
    else:
        config = config.override(**chosen)
    if val_subjects == []:
        config = config.override(select="last")
    return config, note


def _train_one(
    config: TrainConfig,
    data_dir: Path,
    run_dir: Path,
    val_fold: tuple[int, int] | None,
    quiet: bool,
) -> None:
    """One model: trained with a progress bar, its figures as JSON on stdout; Ctrl-C exits
    with 130 once the best checkpoint is kept."""
    from harlite.train.trainer import train as run_training

    with ProgressBar("training", enabled=not quiet) as bar:
        result = run_training(
            config,
            data_dir,
            run_dir,
            log=None if quiet else bar.note,
            progress=epoch_progress(bar),
            fold=val_fold,
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
                "labels": list(result.report.labels),
            }
        )
    )
    if result.interrupted:
        sys.exit(130)


def _cross_validate(config, data_dir, run_dir, folds, engine, address, workers, quiet) -> None:
    """``--folds K``: every fold, then the figures per placement, class and person."""
    from harlite.train.crossval import cross_validate
    from harlite.train.crossval_report import crossval_summary, format_table, write_summary

    log = (lambda text: None) if quiet else echo_err
    results = cross_validate(
        config, data_dir, run_dir, folds, engine=engine, address=address, workers=workers, log=log
    )
    summary = crossval_summary(run_dir)
    write_summary(run_dir, summary)
    if not quiet:
        echo_err(format_table(summary))
    figures = {
        placement: {"accuracy": data["accuracy"]["mean"], "worst": data["accuracy"]["worst"]}
        for placement, data in summary["stream"].items()
    }
    click.echo(
        json.dumps(
            {
                "run_dir": str(run_dir),
                "folds": folds,
                "folds_done": len(results),
                "seconds": round(sum(r.seconds for r in results), 1),
                "placements": figures,
            }
        )
    )
