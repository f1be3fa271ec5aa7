"""The ``harlite`` command: one entry point for data, training, conversion and the device."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harlite import __version__
from harlite.errors import HarliteError


class _Group(click.Group):
    """A click group that shows harlite's errors as messages, never as tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HarliteError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harlite")
def cli() -> None:
    """harlite: human-activity recognition from phone sensors, from training to the device.

    Train the stacked-LSTM classifier on raw accelerometer and gyroscope recordings, convert
    it for phones and Raspberry Pis, and classify live sensor streams.
    """


@cli.group()
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

    bar = _DownloadBar()
    try:
        path = install_dataset(
            name,
            dest,
            source=source,
            url=url,
            sha256=sha256,
            force=force,
            progress=bar.update,
            timeout=timeout,
            retries=retries,
        )
    finally:
        bar.close()
    click.echo(f"{name}: {path}")
    click.echo(f"Please cite: {DATASETS[name].citation}", err=True)


class _DownloadBar:
    """A click progress bar that starts once the download's size is known."""

    def __init__(self) -> None:
        self._bar = None
        self._shown = 0

    def update(self, done: int, total: int | None) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=total or 0, label="Downloading", file=sys.stderr, show_pos=total is None
            )
            self._bar.__enter__()
        self._bar.update(done - self._shown)
        self._shown = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


@data.command("info")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--no-cache", is_flag=True, help="Build the windows afresh without the cache.")
def data_info(directory: Path, as_json: bool, no_cache: bool) -> None:
    """Subjects, experiments, hours of signal and windows per class of a data set folder."""
    from harlite.train.datasets import dataset_info

    info = dataset_info(directory, cache_dir=not no_cache)
    if as_json:
        click.echo(json.dumps(info.to_dict()))
        return
    click.echo(f"{info.path} ({info.layout})")
    click.echo(f"  subjects     {len(info.subjects)}: {', '.join(map(str, info.subjects))}")
    if info.experiments is not None:
        click.echo(f"  experiments  {info.experiments}")
    click.echo(f"  signal       {info.hours:.2f} h")
    click.echo(f"  windows      {info.windows} (128 samples, hop 64)")
    for label, count in info.windows_per_class.items():
        click.echo(f"    {label:<20} {count:>6}")


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
