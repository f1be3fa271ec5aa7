"""``harlite data``: download data sets, describe them, export recordings as stream CSVs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harlite.cli.options import ProgressBar, echo_err, parse_subjects


@click.group()
def data() -> None:
    """Download data sets and inspect them."""


@data.command("download")
@click.argument("name", type=click.Choice(["hapt", "uci-har"]))
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Install here (default: $HARLITE_DATA_DIR/NAME or ~/.local/share/harlite/NAME).",
)
@click.option(
    "--from",
    "source",
    type=click.Path(exists=True, path_type=Path),
    help="Use this already downloaded zip or extracted folder instead of downloading.",
)
@click.option("--url", help="Download from this address instead of UCI's.")
@click.option("--sha256", help="Expected SHA-256 of the zip; a mismatch is an error.")
@click.option("--force", is_flag=True, help="Replace an existing installation.")
@click.option(
    "--timeout", default=30.0, show_default=True, help="Seconds without data before a retry."
)
@click.option("--retries", default=5, show_default=True, help="Retries after a failed attempt.")
def data_download(
    name: str,
    dest: Path | None,
    source: Path | None,
    url: str | None,
    sha256: str | None,
    force: bool,
    timeout: float,
    retries: int,
) -> None:
    """Fetch the UCI data set NAME (hapt or uci-har), verify it and extract it safely.

    A partial download resumes where it stopped. On a machine without internet, download
    the zip elsewhere and pass it with --from.
    """
    from harlite.train.download import DATASETS, install_dataset

    with ProgressBar("Downloading") as bar:
        path = install_dataset(
            name,
            dest,
            source=source,
            url=url,
            sha256=sha256,
            force=force,
            progress=bar.reach,
            timeout=timeout,
            retries=retries,
        )
    click.echo(f"{name}: {path}")
    echo_err(f"Please cite: {DATASETS[name].citation}")


@data.command("info")
@click.argument("directory", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-cache", is_flag=True, help="Build the windows afresh without the cache.")
def data_info(directory: Path, as_json: bool, no_cache: bool) -> None:
    """Subjects, experiments, hours of signal and windows per class of a data set folder;
    for a recordings folder also minutes per class, windows per subject, input rates, unit
    checks per recording and warnings."""
    from harlite.runtime.spec import HOP_SAMPLES, SAMPLE_RATE_HZ, WINDOW_SAMPLES
    from harlite.train.datasets import dataset_info

    info = dataset_info(directory, cache_dir=not no_cache)
    if as_json:
        click.echo(json.dumps(info.to_dict()))
        return
    click.echo(f"{info.path} ({info.layout})")
    click.echo(f"  subjects     {len(info.subjects)}: {', '.join(map(str, info.subjects))}")
    if info.experiments is not None:
        what = "recordings" if info.recordings is not None else "experiments"
        click.echo(f"  {what:<12} {info.experiments}")
    click.echo(f"  signal       {_duration(info.hours * 3600)}")
    if info.test_subjects:
        held = ", ".join(map(str, info.test_subjects))
        click.echo(f"  test subjects {held} (held out: never trained or validated on)")
    if info.input_rates_hz:
        low, high = info.input_rates_hz
        click.echo(f"  input rate   {low:g}–{high:g} Hz (resampled to the model's 50 Hz)")
    window_s, hop_s = WINDOW_SAMPLES / SAMPLE_RATE_HZ, HOP_SAMPLES / SAMPLE_RATE_HZ
    click.echo(
        f"  windows      {info.windows} ({WINDOW_SAMPLES} samples = {window_s:g} s, a new one "
        f"every {HOP_SAMPLES} = {hop_s:g} s)"
    )
    minutes = info.minutes_per_class or {}
    click.echo(f"    {'class':<20} {'windows':>7}" + ("  labelled signal" if minutes else ""))
    for label, count in info.windows_per_class.items():
        extra = f"  {minutes[label]:>8.2f} min" if label in minutes else ""
        click.echo(f"    {label:<20} {count:>7}{extra}")
    if minutes:
        click.echo(
            f"    (windows overlap by half: a class's minutes are about its windows × {hop_s:g} "
            f"s, not × {window_s:g} s; a labelled stretch shorter than {window_s:g} s gives "
            "no window)"
        )
    if info.windows_per_subject:
        per_subject = ", ".join(f"{s}: {n}" for s, n in info.windows_per_subject.items())
        click.echo(f"  windows per subject  {per_subject}")
    for recording in info.recordings or []:
        still = recording["still_acc_g"]
        click.echo(
            f"  {recording['name']}: subject {recording['subject']}, "
            f"{recording['duration_s']:.1f} s at {recording['input_rate_hz'] or 0:g} Hz, "
            f"{sum(recording['windows_per_class'].values())} labelled windows, |acc| still "
            f"{'n/a' if still is None else f'{still:.3f} g'}, gyro p99 "
            f"{recording['gyro_p99_rad_s']} rad/s, bad rows {recording['bad_rows']}"
        )
    for warning in info.warnings or []:
        click.echo(f"  warning: {warning}")


def _duration(seconds: float) -> str:
    """A length of signal in the unit that reads best: s, min or h."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


@data.command("export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the CSV files.",
)
@click.option("--subjects", callback=parse_subjects, help="E.g. 27-30.")
def data_export(directory: Path, out_dir: Path, subjects: list[int] | None) -> None:
    """Write each HAPT experiment in DIRECTORY as a labelled stream CSV in the canonical
    format (t,acc_x,…,gyro_z,label), ready for `harlite stream`."""
    from harlite.train.hapt_export import export_recordings

    for path in export_recordings(directory, out_dir, subjects):
        click.echo(str(path))
