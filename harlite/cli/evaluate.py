"""``harlite evaluate``: a model's figures on the windows of a data set folder."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harlite.cli.options import data_option, echo_err, model_argument, parse_subjects


@click.command()
@click.argument("model", callback=model_argument)
@data_option("Data set folder; all its subjects are evaluated unless narrowed.")
@click.option(
    "--subjects", callback=parse_subjects, help="Evaluate only these subjects, e.g. 1,3,5-8."
)
@click.option(
    "--split",
    type=click.Choice(["test", "val"]),
    help="Evaluate the standard test subjects or the model's validation subjects.",
)
@click.option(
    "--artifact",
    help="Artefact of a bundle: keras, pb, float32, dynamic, int8, float16 (default: keras "
    "for a run folder, the manifest's default for a bundle).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.json, report.txt and confusion.png here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate(
    model: Path,
    data_dir: Path,
    subjects: list[int] | None,
    split: str | None,
    artifact: str | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Evaluate MODEL (a run folder, .keras file, bundle or shipped model name) on the
    windows of DATA; every figure says whether its subjects were in the model's training.

    Windows are built with the model's own preprocessing settings. Prints accuracy, weighted
    precision/recall/F1, per-class recall, per-subject accuracy and the confusion matrix.
    """
    from harlite.evaluate import evaluate as run_evaluation

    if subjects and split:
        raise click.UsageError("give --subjects or --split, not both")
    report, text = run_evaluation(
        model,
        data_dir,
        subjects=subjects,
        split=split,
        artifact=artifact,
        out_dir=out_dir,
        log=echo_err,
    )
    click.echo(json.dumps(report.to_dict()) if as_json else text)
