"""The ``harlite`` command: one entry point for data, training, conversion and the device.

Each command lives in a module of its family, parses its options, makes one library call and
renders the result; errors the library raises as :class:`~harlite.errors.HarliteError` are
shown as messages, never as tracebacks.
"""

from __future__ import annotations

import click

from harlite import __version__
from harlite.cli.batch import batch
from harlite.cli.bench import bench
from harlite.cli.convert import convert, verify
from harlite.cli.data import data
from harlite.cli.doctor import doctor
from harlite.cli.evaluate import evaluate
from harlite.cli.export import export
from harlite.cli.models import models
from harlite.cli.options import SETTING_OPTIONS
from harlite.cli.pipeline import pipeline
from harlite.cli.replay import replay
from harlite.cli.report import report
from harlite.cli.serve import serve
from harlite.cli.stream import stream
from harlite.cli.train import train
from harlite.errors import TRAINING_MODULES, HarliteError, SettingError, missing_training_tools


class _Group(click.Group):
    """A click group that shows harlite's errors as messages, never as tracebacks."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SettingError as error:
            option = SETTING_OPTIONS.get(error.setting, error.setting)
            message = str(error).removeprefix(f"{error.setting}: ")
            raise click.BadParameter(message, param_hint=f"'{option}'") from None
        except HarliteError as error:
            raise click.ClickException(str(error)) from None
        except ImportError as error:
            missing = (getattr(error, "name", None) or "").split(".")[0]
            if missing not in TRAINING_MODULES:
                raise
            raise click.ClickException(missing_training_tools(missing)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harlite")
def cli() -> None:
    """harlite: human-activity recognition from phone sensors, from training to the device.

    Train a classifier (the stacked LSTM or a stronger preset) on raw accelerometer and
    gyroscope recordings, convert it for phones and Raspberry Pis, and classify live sensor
    streams.
    """


for _command in (
    data,
    train,
    evaluate,
    convert,
    verify,
    export,
    models,
    bench,
    pipeline,
    stream,
    serve,
    replay,
    batch,
    report,
    doctor,
):
    cli.add_command(_command)


def main() -> None:
    """Console-script entry point."""
    cli()
