"""What the commands share: options and their callbacks, bundle resolution, messages on
stderr and the one progress bar."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from harlite.runtime.activity import MIN_BOUT_S


def echo_err(text: str) -> None:
    """A line for the person at the terminal (stderr), never mixed into output data."""
    click.echo(text, err=True)


def quiet_or_err(quiet: bool) -> Callable[[str], None]:
    """A log callable: stderr, or nothing with ``--quiet``."""
    return (lambda text: None) if quiet else echo_err


def bundle_path(value: str) -> Path:
    """A BUNDLE argument: a bundle folder or the name of a shipped model."""
    from harlite.shipped import resolve_bundle

    return resolve_bundle(value)


def model_argument(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    """A MODEL argument: a run folder, a ``.keras`` file, a bundle folder, or the name of a
    shipped model."""
    from harlite.shipped import resolve_path_or_name

    return resolve_path_or_name(value)


def parse_subjects(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--subjects``/``--val-subjects``: a list such as ``1,3,5-8`` (``none`` for an empty
    validation set)."""
    if value is None:
        return None
    if param.name == "val_subjects" and value.strip().lower() == "none":
        return []
    from harlite.train.splits import parse_subjects as parse

    try:
        return parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def data_option(help_text: str, required: bool = True):
    """The --data option of the commands that read a data set folder."""
    return click.option(
        "--data",
        "data_dir",
        required=required,
        type=click.Path(exists=True, path_type=Path),
        help=help_text,
    )


class ProgressBar:
    """The one progress bar of the CLI: on stderr, started when its length is known, with
    notes printed above it. Off with ``enabled=False``."""

    def __init__(self, label: str, enabled: bool = True, show_pos: bool = False) -> None:
        self.label = label
        self.enabled = enabled
        self.show_pos = show_pos
        self._bar = None
        self._done = 0

    def start(self, total: int | None) -> None:
        """Show the bar for ``total`` steps (None or 0: unknown length)."""
        if not self.enabled or self._bar is not None:
            return
        self._bar = click.progressbar(
            length=total or 0,
            label=self.label,
            file=sys.stderr,
            show_pos=self.show_pos or not total,
            show_eta=bool(total),
            item_show_func=lambda text: text,
        )
        self._bar.__enter__()

    def advance(self, steps: int = 1, text: str | None = None) -> None:
        """Move on ``steps`` steps, showing ``text`` beside the bar."""
        if self._bar is not None:
            self._bar.update(steps, text)
            self._done += steps

    def reach(self, done: int, total: int | None = None) -> None:
        """Move to ``done`` steps (for callbacks that report totals so far)."""
        if self._bar is None:
            self.start(total)
        self.advance(done - self._done)

    def note(self, text: str) -> None:
        """A line above the bar."""
        if self.enabled:
            prefix = "\n" if self._bar is not None and sys.stderr.isatty() else ""
            echo_err(prefix + text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def epoch_progress(bar: ProgressBar):
    """A training progress callback: on a terminal, ``bar`` moves one epoch at a time;
    elsewhere (a file, a pipe, a service's log) a line per epoch group (about 20 lines in
    all) with the figures and the time left."""
    started = time.monotonic()

    def progress(epoch: int, epochs: int, logs: dict[str, float]) -> None:
        figures = (
            f"loss {logs.get('loss', 0):.3f} acc {logs.get('accuracy', 0):.3f} "
            f"val_loss {logs.get('val_loss', 0):.3f} val_acc {logs.get('val_accuracy', 0):.3f}"
        )
        if bar.enabled and not sys.stderr.isatty():
            every = max(1, epochs // 20)
            if epoch % every == 0 or epoch == epochs:
                left = (time.monotonic() - started) / epoch * (epochs - epoch)
                echo_err(f"epoch {epoch}/{epochs}: {figures} (ETA {_duration(left)})")
            return
        bar.start(epochs)
        bar.advance(1, f"epoch {epoch}: {figures}")
        if epoch == epochs:
            bar.close()

    return progress


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


# --- how a bundle runs and how an input is read (stream, batch) --------------------------


def positive_number(ctx: click.Context, param: click.Parameter, value: float | None):
    """A positive, finite number (None stays None)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"must be a positive, finite number, not {value}")
    return value


def _rate(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    if value is None or value.strip().lower() == "auto":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number of Hz nor 'auto'") from None
    if not (math.isfinite(rate) and rate > 0):
        raise click.BadParameter("the rate must be a positive, finite number of Hz")
    return rate


def _columns(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    from harlite.runtime.io.sensorcsv import parse_columns_option

    try:
        return parse_columns_option(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _smoothing(ctx: click.Context, param: click.Parameter, value: str | None):
    from harlite.runtime.signal.smoothing import parse_smoothing

    try:
        parse_smoothing(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


def export_options(what: str, weights_help: str):
    """The options every ``harlite export`` command takes: BUNDLE, ``--out`` (a folder for
    ``what``) and ``--weights``."""

    def apply(command):
        command = click.option(
            "--weights",
            type=click.Choice(["float32", "int8"]),
            default="float32",
            show_default=True,
            help=weights_help,
        )(command)
        command = click.option(
            "--out",
            "out_dir",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Folder to write {what} into.",
        )(command)
        return click.argument("bundle", callback=lambda ctx, param, value: bundle_path(value))(
            command
        )

    return apply


min_bout_option = click.option(
    "--min-bout",
    "min_bout_s",
    type=float,
    default=MIN_BOUT_S,
    show_default=True,
    callback=positive_number,
    help="Seconds: the shortest stretch of one activity listed as a bout (shorter ones count "
    "into the bout before them).",
)

placement_option = click.option(
    "--placement",
    type=click.Choice(["auto", "pocket", "waist", "off"]),
    default="auto",
    show_default=True,
    help="Where the phone is carried: auto (found from the stream's walking), pocket or waist; "
    "still postures then follow from the body's tilt (a pocket's flat thigh is SITTING); off: "
    "the model's own answer, as offline evaluation gives it (docs/placement.md).",
)


_MODEL_AND_INPUT_OPTIONS = [
    click.option("--artifact", help="Artefact to run (default: the manifest's default)."),
    click.option(
        "--backend",
        type=click.Choice(
            ["ai_edge_litert", "tflite_runtime", "tensorflow", "onnxruntime", "auto"]
        ),
        help="TFLite interpreter (default: the first available in this order); onnxruntime "
        "runs the bundle's ONNX artefact (pip install 'harlite[onnx]'); auto measures the "
        "installed ones on this host once (cached) and runs the fastest.",
    ),
    click.option(
        "--threads",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Interpreter threads.",
    ),
    click.option(
        "--hop",
        type=click.IntRange(min=1),
        help="Samples between windows (default: the bundle's, 50%; at most the window).",
    ),
    click.option(
        "--smooth",
        callback=_smoothing,
        help="Smooth successive predictions: mean:K (average of K probability vectors) or "
        "vote:K (majority of K labels); adds about (K-1)/2 hops of delay.",
    ),
    click.option(
        "--format",
        "input_format",
        type=click.Choice(["auto", "canonical", "sensorlogger", "phyphox"]),
        default="auto",
        show_default=True,
        help="Input format (auto: Sensor Logger for folders and .zip, CSV otherwise).",
    ),
    click.option(
        "--columns",
        callback=_columns,
        help="Column mapping: t=time,acc_x=ax,… (rename header columns), or a plain list "
        "t,acc_x,…,gyro_z for input without a header ('-' skips a column).",
    ),
    click.option("--acc-unit", type=click.Choice(["g", "m/s2"]), help="Acceleration unit."),
    click.option("--gyro-unit", type=click.Choice(["rad/s", "deg/s"]), help="Angular rate unit."),
    click.option("--time-unit", type=click.Choice(["s", "ms", "us", "ns"]), help="Time unit."),
    click.option(
        "--rate",
        default="auto",
        show_default=True,
        callback=_rate,
        help="Input sample rate in Hz (samples then taken as evenly spaced), or 'auto' to use "
        "the timestamps. Any rate is resampled to the model's.",
    ),
    click.option(
        "--max-gap",
        type=float,
        default=0.25,
        show_default=True,
        callback=positive_number,
        help="Seconds without samples after which the window restarts instead of interpolating.",
    ),
    click.option(
        "--window-label",
        type=click.Choice(["uniform", "majority", "center"]),
        default="uniform",
        show_default=True,
        help="Labelled input: a window's true label is the one all its samples carry "
        "(uniform), more than half carry (majority), or its middle sample's (center); use the "
        "rule the model was trained with (a recordings folder's window_label).",
    ),
    click.option(
        "--allow-low-rate",
        is_flag=True,
        help="Classify input slower than 10 Hz (with a warning) instead of refusing it: its "
        "samples are too far apart for the model's windows, so expect poor accuracy.",
    ),
    placement_option,
    click.option(
        "--data",
        "dataset",
        type=click.Path(exists=True, path_type=Path),
        callback=lambda ctx, param, value: _dataset(value),
        help="A data set's dataset.toml (or its folder): read the input with its column map, "
        "units, rate and delimiter, score labelled input with its renames and ignores and its "
        "window_label; options given here win over the file's.",
    ),
]


def _dataset(path: Path | None):
    """``--data``: the data set's settings (read by the training side, imported only here)."""
    if path is None:
        return None
    from harlite.errors import HarliteError
    from harlite.train.recording_meta import DatasetSettings

    try:
        return DatasetSettings.load(path)
    except HarliteError as error:
        raise click.BadParameter(str(error), param_hint="'--data'") from None


def _given(name: str) -> bool:
    """Whether option ``name`` was given on the command line (not left at its default)."""
    context = click.get_current_context(silent=True)
    if context is None:
        return True
    return context.get_parameter_source(name) not in (
        click.core.ParameterSource.DEFAULT,
        click.core.ParameterSource.DEFAULT_MAP,
        None,
    )


def model_and_input_options(command):
    """The options `harlite stream` and `harlite batch` share: which model and how to run
    it, and how to read the input."""
    for option in reversed(_MODEL_AND_INPUT_OPTIONS):
        command = option(command)
    return command


def _workers(ctx: click.Context, param: click.Parameter, value: int | None):
    if value is not None and value < 1:
        raise click.BadParameter("must be at least 1")
    return value


#: Where many jobs run (harlite.batch.job.ENGINES; not imported here: start-up).
ENGINE_CHOICE = click.Choice(["local", "ray"])


def batch_options(out_required: bool):
    """The options of batch work (`harlite batch`, and `harlite stream` with several inputs):
    where outputs go, which engine, how many at once. Old names stay as aliases
    (``--output-dir``/``--out``, ``--jobs``/``--workers``)."""
    options = [
        click.option(
            "--out",
            "--output-dir",
            "out_dir",
            required=out_required,
            type=click.Path(file_okay=False, path_type=Path),
            help="Batch: folder for one output and summary per recording, and batch-summary.json.",
        ),
        click.option(
            "--engine",
            type=ENGINE_CHOICE,
            default="local",
            show_default=True,
            help="Batch: local (a pool of processes on this machine) or ray (a Ray cluster; "
            "harlite[ray]).",
        ),
        click.option(
            "--address",
            help="Batch, Ray: the cluster to join (e.g. 127.0.0.1:6379); default: start Ray "
            "in this process.",
        ),
        click.option(
            "--workers",
            "--jobs",
            "workers",
            type=int,
            callback=_workers,
            help="Batch: recordings classified at once (default: all cores, or the "
            "cluster's CPUs).",
        ),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def classifier_settings(options: dict, batch_size: int = 1):
    """The ClassifierSettings the shared options describe."""
    from harlite.runtime.stream import ClassifierSettings

    dataset = options.get("dataset")
    window_label = options["window_label"]
    if dataset is not None and not _given("window_label"):
        window_label = dataset.window_label
    return ClassifierSettings(
        artifact=options["artifact"],
        backend=options["backend"],
        threads=options["threads"],
        hop=options["hop"],
        smoothing=options["smooth"],
        max_gap_s=options["max_gap"],
        batch_size=batch_size,
        window_label=window_label,
        allow_low_rate=options["allow_low_rate"],
        placement=options.get("placement", "auto"),
        label_map=None if dataset is None else dataset.label_map(),
    )


def input_options(options: dict):
    """The InputOptions the shared options describe: with ``--data``, the data set's
    reading options where the command line leaves one at its default."""
    from dataclasses import replace

    from harlite.runtime.io.sources import InputOptions

    given = InputOptions(
        format=options["input_format"],
        columns=options["columns"],
        acc_unit=options["acc_unit"],
        gyro_unit=options["gyro_unit"],
        time_unit=options["time_unit"],
        rate_hz=options["rate"],
    )
    dataset = options.get("dataset")
    if dataset is None:
        return given
    read = dataset.reading_options()
    return replace(
        read,
        **{
            name: value
            for name, value in vars(given).items()
            if value is not None and value != "auto" and name != "delimiter"
        },
    )


#: The option of each classifier setting, for messages about a setting out of range.
SETTING_OPTIONS = {
    "artifact": "--artifact",
    "backend": "--backend",
    "threads": "--threads",
    "hop": "--hop",
    "smoothing": "--smooth",
    "max_gap_s": "--max-gap",
    "batch_size": "--batch-size",
    "token": "--token",
    "platform": "--platform",
    "session_idle_s": "--session-timeout",
    "max_sessions": "--max-sessions",
    "max_body_bytes": "--max-body",
    "max_record_s": "--max-record-s",
}
