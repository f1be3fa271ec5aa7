"""``harlite report``: what a person did, as an HTML page and a timeline picture."""

from __future__ import annotations

from pathlib import Path

import click

from harlite.cli.options import echo_err, min_bout_option


@click.command()
@click.argument("predictions", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.html (and timeline.png where matplotlib is installed).",
)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The run's summary JSON (default: NAME.summary.json beside the predictions, as "
    "`harlite batch` writes it): bad rows, warnings and the model.",
)
@min_bout_option
@click.option("--title", default="What was done", show_default=True, help="The page's title.")
def report(predictions, out_dir, summary_path, min_bout_s, title) -> None:
    """Make an activity report from PREDICTIONS: a predictions file of `harlite stream`
    (JSON lines, CSV or Parquet) or a `harlite batch` output folder (one page over all its
    recordings). Writes a self-contained report.html (activity ribbon over the day, time
    per activity, bouts, confidence, bad rows and warnings, the model) and, where
    matplotlib is installed, timeline.png.
    """
    from harlite.outputs import refuse_inputs
    from harlite.report import load_recordings, write_report

    refuse_inputs([out_dir], [predictions])
    recordings = load_recordings(predictions, summary_path)
    _show(write_report(recordings, out_dir, min_bout_s=min_bout_s, title=title))


def write_stream_report(predictions, summary, labels: list[str], out_dir: Path, quiet: bool):
    """``harlite stream --report DIR``: the report of the run just made."""
    from harlite.report import write_report
    from harlite.report.load import from_predictions

    recording = from_predictions(predictions, labels, summary.to_dict())
    result = write_report([recording], out_dir, min_bout_s=summary.min_bout_s)
    if not quiet:
        _show(result)


def _show(result) -> None:
    written = [str(result.html)] + ([str(result.png)] if result.png else [])
    echo_err(f"report of {len(result.recordings)} recording(s): {', '.join(written)}")
    if result.note:
        echo_err(f"note: {result.note}")
