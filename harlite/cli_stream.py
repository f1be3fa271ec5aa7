"""``harlite stream``: classify sensor CSVs, stdin or a UDP stream on the device."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path

import click

from harlite.errors import HarliteError

DEMO_RECORDING = Path(__file__).resolve().parent / "demo" / "exp54_user27.csv.gz"
DEMO_MODEL = "lstm"
SHOWN_BAD_ROWS = 10


def resolve_bundle(value: str | None, demo: bool = False) -> Path:
    """A bundle folder, or the name of a shipped model (``lstm``)."""
    from harlite.shipped import model_path

    if value is None:
        if demo:
            return model_path(DEMO_MODEL)
        raise click.UsageError("give a BUNDLE (a bundle folder or a shipped model name)")
    path = Path(value)
    if path.is_dir():
        return path
    if "/" not in value and not path.exists():
        return model_path(value)
    raise HarliteError(f"{value}: no such bundle folder")


def _rate(ctx: click.Context, param: click.Parameter, value: str) -> float | None:
    if value is None or value.strip().lower() == "auto":
        return None
    try:
        rate = float(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number of Hz nor 'auto'") from None
    if not rate > 0:
        raise click.BadParameter("the rate must be positive")
    return rate


def _columns(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    from harlite.runtime.sensorcsv import parse_columns_option

    try:
        return parse_columns_option(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _smoothing(ctx: click.Context, param: click.Parameter, value: str | None):
    from harlite.runtime.smoothing import parse_smoothing

    try:
        parse_smoothing(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


def model_and_input_options(command):
    """The options `harlite stream` and `harlite batch` share: which model and how to run
    it, and how to read the input."""
    for option in reversed(_SHARED_OPTIONS):
        command = option(command)
    return command


_SHARED_OPTIONS = [
    click.option("--artifact", help="Artefact to run (default: the manifest's default)."),
    click.option(
        "--backend",
        type=click.Choice(["ai_edge_litert", "tflite_runtime", "tensorflow"]),
        help="TFLite interpreter (default: the first available in this order).",
    ),
    click.option("--threads", type=int, default=1, show_default=True, help="Interpreter threads."),
    click.option("--hop", type=int, help="Samples between windows (default: the bundle's, 50%)."),
    click.option(
        "--smooth",
        callback=_smoothing,
        help="Smooth successive predictions: mean:K (average of K probability vectors) or "
        "vote:K (majority of K labels); adds about (K-1)/2 hops of delay.",
    ),
    click.option(
        "--format",
        "input_format",
        type=click.Choice(["auto", "canonical", "sensorlogger"]),
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
        help="Seconds without samples after which the window restarts instead of interpolating.",
    ),
]


@click.command()
@click.argument("bundle", required=False)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    help="CSV file (.csv or .csv.gz), Sensor Logger export (folder or .zip), '-' for stdin, "
    "udp://HOST:PORT (or udp:PORT, bound to 127.0.0.1). A folder, a glob or several "
    "--input give batch mode (with --output-dir).",
)
@click.option("--demo", is_flag=True, help="The shipped lstm model on a shipped recording.")
@model_and_input_options
@click.option("--replay", is_flag=True, help="Play the input at real-time pace.")
@click.option(
    "--speed",
    type=float,
    help="Replay speed-up (default 1; --demo on a terminal replays at 10).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write predictions here (written atomically; default: stdout).",
)
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "csv", "terminal"]),
    help="jsonl (default), csv (default for a .csv --output) or terminal (a live view; the "
    "default on a terminal).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Batch mode: one output and summary per input here.",
)
@click.option("--jobs", type=int, help="Batch mode: worker processes (default: all cores).")
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run's summary JSON here.",
)
@click.option("--strict", is_flag=True, help="Stop at the first bad row with an error.")
@click.option(
    "--batch-size",
    type=int,
    default=64,
    show_default=True,
    help="Windows per interpreter call for artefacts exported with a dynamic batch "
    "(harlite's own artefacts have a static batch of 1 and run window by window).",
)
@click.option("--idle-timeout", type=float, help="UDP: stop after this many seconds without data.")
@click.option("--quiet", is_flag=True, help="No bad-row messages or summary on stderr.")
def stream(bundle, inputs, demo, **options) -> None:
    """Classify accelerometer + gyroscope samples with BUNDLE (a bundle folder or the name
    of a shipped model), a window every hop, as they arrive.

    Input is the canonical CSV (t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z[,label]: seconds,
    g, rad/s), any CSV whose header names those columns, or a Sensor Logger export. Bad rows
    are counted and reported, and the stream goes on. Predictions go out as JSON lines; the
    summary goes to stderr (and --summary).
    """
    bundle_path = resolve_bundle(bundle, demo)
    if demo and not inputs:
        inputs = (str(DEMO_RECORDING),)
        if sys.stdout.isatty() and options["output"] is None and not options["replay"]:
            options["replay"], options["speed"] = True, options["speed"] or 10.0
    options["speed"] = options["speed"] or 1.0
    if not inputs:
        raise click.UsageError("give --input (a file, '-', udp://HOST:PORT) or --demo")
    input_options = input_options_from(options)
    settings = settings_from(
        bundle_path, options, batch_size=1 if options["replay"] else options["batch_size"]
    )
    if _is_batch(inputs, options):
        _run_batch(inputs, settings, input_options, options)
    else:
        _run_single(inputs[0], settings, input_options, options)
    if demo and not options["quiet"]:
        click.echo(
            "note: the demo recording (HAPT subject 27) is in the shipped model's training "
            "data; on subjects held out from training the same model scores about 95% "
            "(benchmarks/results/stream_accuracy.json)",
            err=True,
        )


def input_options_from(options: dict):
    """The InputOptions the shared options describe."""
    from harlite.runtime.sources import InputOptions

    return InputOptions(
        format=options["input_format"],
        columns=options["columns"],
        acc_unit=options["acc_unit"],
        gyro_unit=options["gyro_unit"],
        time_unit=options["time_unit"],
        rate_hz=options["rate"],
    )


def settings_from(bundle_path: Path, options: dict, batch_size: int = 1):
    """The ClassifierSettings the shared options describe."""
    from harlite.runtime.batch import ClassifierSettings

    return ClassifierSettings(
        bundle=str(bundle_path),
        artifact=options["artifact"],
        backend=options["backend"],
        threads=options["threads"],
        hop=options["hop"],
        smoothing=options["smooth"],
        max_gap_s=options["max_gap"],
        batch_size=batch_size,
    )


def _is_batch(inputs: tuple[str, ...], options: dict) -> bool:
    if options["output_dir"] is not None:
        return True
    if len(inputs) > 1:
        raise click.UsageError("several inputs need --output-dir (batch mode)")
    only = inputs[0]
    if only == "-" or only.startswith("udp:"):
        return False
    from harlite.runtime.sources import is_recording_folder

    path = Path(only)
    if path.is_dir() and not is_recording_folder(path):
        raise click.UsageError(f"{only} is a folder: give --output-dir for batch mode")
    if not path.exists() and any(c in only for c in "*?["):
        raise click.UsageError(f"{only} is a glob: give --output-dir for batch mode")
    return False


def _open_input(name: str, input_options, options: dict):
    from harlite.runtime.sources import UdpSource, open_source, paced

    if name.startswith("udp:"):
        host, port = _udp_address(name)
        source = UdpSource(port, host, input_options, idle_timeout=options["idle_timeout"])
        click.echo(f"listening on {source.name}", err=True)
    else:
        source = open_source(name, input_options)
    if options["replay"]:
        return source.name if hasattr(source, "name") else name, paced(source, options["speed"])
    return getattr(source, "name", name), source


def _udp_address(value: str) -> tuple[str, int]:
    rest = value.removeprefix("udp://").removeprefix("udp:")
    host, _, port = rest.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise click.BadParameter(f"{value}: expected udp://HOST:PORT or udp:PORT") from None


def _run_single(name: str, settings, input_options, options: dict) -> None:
    from harlite.atomic import atomic_file, write_text_atomic
    from harlite.runtime.session import run_stream
    from harlite.runtime.sinks import make_sink

    quiet = options["quiet"]
    classifier = settings.build()
    source_name, source = _open_input(name, input_options, options)
    kind = options["output_format"]
    output = options["output"]
    if kind is None:
        if output is not None:
            kind = "csv" if output.suffix == ".csv" else "jsonl"
        else:
            kind = "terminal" if sys.stdout.isatty() else "jsonl"
    shown = [0]

    def on_bad_row(line: int, reason: str, detail: str) -> None:
        shown[0] += 1
        if quiet or shown[0] > SHOWN_BAD_ROWS:
            return
        suffix = f" ({detail})" if detail else ""
        click.echo(f"{source_name}: line {line}: {reason}{suffix}", err=True)
        if shown[0] == SHOWN_BAD_ROWS:
            click.echo("… further bad rows are counted in the summary", err=True)

    _terminate_as_interrupt()
    if output is None:
        sink = make_sink(kind, sys.stdout, classifier.labels)
        summary = run_stream(
            source,
            classifier,
            [sink],
            name=source_name,
            strict=options["strict"],
            on_bad_row=on_bad_row,
        )
    else:
        with atomic_file(output, "w", encoding="utf-8") as handle:
            sink = make_sink(kind, handle, classifier.labels)
            summary = run_stream(
                source,
                classifier,
                [sink],
                name=source_name,
                strict=options["strict"],
                on_bad_row=on_bad_row,
            )
    record = summary.to_dict()
    if options["summary_path"] is not None:
        write_text_atomic(options["summary_path"], json.dumps(record, indent=2) + "\n")
    if not quiet:
        click.echo(summary.format(), err=True)
    if summary.interrupted:
        sys.exit(130)


def _run_batch(inputs, settings, input_options, options: dict) -> None:
    """Batch mode of `harlite stream` (several inputs and --output-dir): the local engine
    of `harlite batch`, resumable the same way."""
    from harlite.cli_batch import run_batch_job

    if any(i == "-" or i.startswith("udp:") for i in inputs):
        raise click.UsageError("batch mode reads files, not stdin or UDP")
    kind = options["output_format"] or "jsonl"
    if kind == "terminal":
        raise click.UsageError("batch mode writes jsonl or csv files")
    run_batch_job(
        list(inputs),
        options["output_dir"],
        settings,
        input_options,
        workers=options["jobs"],
        output_format=kind,
        quiet=options["quiet"],
    )


def _terminate_as_interrupt() -> None:
    """SIGTERM ends a stream like Ctrl-C: predictions so far are kept, the summary written."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, handler)
