"""``harlite stream``: classify sensor CSVs, stdin or a UDP stream on the device."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harlite.cli.batch import run_batch_command
from harlite.cli.options import (
    batch_options,
    bundle_path,
    classifier_settings,
    echo_err,
    input_options,
    min_bout_option,
    model_and_input_options,
    positive_number,
)
from harlite.errors import printable
from harlite.runtime.spec import FILE_BATCH_SIZE

DEMO_RECORDING = Path(__file__).resolve().parents[1] / "demo" / "exp54_user27.csv.gz"
DEMO_MODEL = "lstm"
SHOWN_BAD_ROWS = 10


@click.command()
@click.argument("bundle", required=False)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    help="CSV file (.csv or .csv.gz), Sensor Logger export (folder or .zip), '-' for stdin, "
    "udp://HOST:PORT (or udp:PORT, bound to 127.0.0.1), or Sensor Logger's MQTT pushes "
    "mqtt://[USER:PASS@]HOST[:PORT]/TOPIC (needs harlite[serve]). A folder, a glob or "
    "several --input give batch mode (with --output-dir).",
)
@click.option("--demo", is_flag=True, help="The shipped lstm model on a shipped recording.")
@model_and_input_options
@click.option("--replay", is_flag=True, help="Play the input at real-time pace.")
@click.option(
    "--speed",
    type=float,
    callback=positive_number,
    help="Replay speed-up (default 1; --demo on a terminal replays at 10).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write predictions here (written atomically; default: stdout).",
)
@click.option(
    "--output-format",
    type=click.Choice(["jsonl", "csv", "parquet", "terminal"]),
    help="jsonl (default), csv (default for a .csv --output), parquet (batch mode, needs "
    "pyarrow) or terminal (a live view; the default on a terminal).",
)
@batch_options(out_required=False)
@click.option(
    "--summary",
    "summary_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run's summary JSON here.",
)
@click.option("--strict", is_flag=True, help="Stop at the first bad row with an error.")
@min_bout_option
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write an activity report here (report.html; timeline.png with matplotlib), "
    "as `harlite report` does.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=FILE_BATCH_SIZE,
    show_default=True,
    help="Windows per call over files for artefacts with a dynamic batch (ONNX); harlite's "
    "TFLite artefacts have a fixed batch of 1 and run window by window.",
)
@click.option(
    "--idle-timeout",
    type=float,
    callback=positive_number,
    help="UDP and MQTT: stop after this many seconds without data.",
)
@click.option(
    "--platform",
    type=click.Choice(["android", "ios"]),
    default="android",
    show_default=True,
    help="MQTT: Sensor Logger's acceleration sign (ios: an iPhone without 'Standardise Units "
    "& Frames').",
)
@click.option("--quiet", is_flag=True, help="No bad-row messages or summary on stderr.")
def stream(bundle, inputs, demo, **options) -> None:
    """Classify accelerometer + gyroscope samples with BUNDLE (a bundle folder or the name
    of a shipped model), a window every hop, as they arrive.

    Input is the canonical CSV (t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z[,label]: seconds,
    g, rad/s), any CSV whose header names those columns, or a Sensor Logger export. Bad rows
    are counted and reported, and the stream goes on. Predictions go out as JSON lines; the
    summary goes to stderr (and --summary).
    """
    if bundle is None and not demo:
        raise click.UsageError("give a BUNDLE (a bundle folder or a shipped model name)")
    bundle = bundle_path(bundle or DEMO_MODEL)
    if demo and not inputs:
        inputs = (str(DEMO_RECORDING),)
        if sys.stdout.isatty() and options["output"] is None and not options["replay"]:
            options["replay"], options["speed"] = True, options["speed"] or 10.0
    options["speed"] = options["speed"] or 1.0
    if not inputs:
        raise click.UsageError("give --input (a file, '-', udp://HOST:PORT) or --demo")
    batch_size = 1 if options["replay"] else options["batch_size"]
    settings = classifier_settings(options, batch_size)
    if _is_batch(inputs, options):
        _stream_batch(inputs, bundle, settings, options)
    else:
        _stream_one(inputs[0], bundle, settings, options)
    if demo and not options["quiet"]:
        echo_err(
            "note: the demo recording (HAPT subject 27) is in the shipped model's training "
            "data; on subjects held out from training the same model scores about 95% "
            "(benchmarks/results/stream_accuracy.json)"
        )


def _is_batch(inputs: tuple[str, ...], options: dict) -> bool:
    if options["out_dir"] is not None:
        return True
    if len(inputs) > 1:
        raise click.UsageError("several inputs need --output-dir (batch mode)")
    only = inputs[0]
    if only == "-" or _is_live(only):
        return False
    from harlite.runtime.io.sources import is_recording_folder

    path = Path(only)
    if path.is_dir() and not is_recording_folder(path):
        raise click.UsageError(f"{only} is a folder: give --output-dir for batch mode")
    if not path.exists() and any(c in only for c in "*?["):
        raise click.UsageError(f"{only} is a glob: give --output-dir for batch mode")
    return False


def _stream_batch(inputs, bundle: Path, settings, options: dict) -> None:
    """Batch mode (several inputs and --output-dir): `harlite batch`, resumable the same way."""
    if any(i == "-" or _is_live(i) for i in inputs):
        raise click.UsageError("batch mode reads files, not stdin, UDP or MQTT")
    kind = options["output_format"] or "jsonl"
    if kind == "terminal":
        raise click.UsageError("batch mode writes jsonl, csv or parquet files")
    run_batch_command(
        list(inputs),
        options["out_dir"],
        bundle,
        settings,
        input_options(options),
        engine=options["engine"],
        address=options["address"],
        workers=options["workers"],
        output_format=kind,
        quiet=options["quiet"],
    )


def _stream_one(name: str, bundle: Path, settings, options: dict) -> None:
    from harlite.cli.report import write_stream_report
    from harlite.outputs import refuse_inputs
    from harlite.runtime.run import classify_recording
    from harlite.runtime.shutdown import interrupts_end_the_run
    from harlite.runtime.sinks import CollectingSink
    from harlite.runtime.stream import StreamClassifier

    refuse_inputs([options["output"], options["summary_path"], options["report_dir"]], [name])
    kind = _output_kind(options)
    collected = CollectingSink() if options["report_dir"] is not None else None
    classifier = StreamClassifier(bundle, settings)
    source_name, source = _open_input(name, options)
    quiet = options["quiet"]
    with interrupts_end_the_run(ignore_after_signal=True):  # the command ends with the run
        summary = classify_recording(
            source,
            classifier,
            options["output"] if options["output"] is not None else sys.stdout,
            name=source_name,
            output_format=kind,
            summary_path=options["summary_path"],
            strict=options["strict"],
            on_bad_row=_bad_row_printer(source_name, quiet),
            on_warning=None if quiet else lambda text: echo_err(f"warning: {printable(text)}"),
            min_bout_s=options["min_bout_s"],
            extra_sinks=[] if collected is None else [collected],
        )
    if not quiet:
        echo_err(summary.format())
    if collected is not None:
        write_stream_report(
            collected.predictions, summary, classifier.labels, options["report_dir"], quiet
        )
    if summary.interrupted:
        sys.exit(130)
    if summary.truncated:
        raise click.ClickException(
            f"{source_name}: {summary.truncated_reason}; the predictions of its readable "
            "part were written"
        )


def _output_kind(options: dict) -> str:
    kind, output = options["output_format"], options["output"]
    if kind is None:
        if output is not None:
            return "csv" if output.suffix == ".csv" else "jsonl"
        return "terminal" if sys.stdout.isatty() else "jsonl"
    if kind == "parquet" and output is None:
        raise click.UsageError("parquet output needs --output FILE (it is binary)")
    return kind


def _bad_row_printer(source_name: str, quiet: bool):
    shown = [0]

    def on_bad_row(line: int, reason: str, detail: str) -> None:
        shown[0] += 1
        if quiet or shown[0] > SHOWN_BAD_ROWS:
            return
        suffix = f" ({detail})" if detail else ""
        echo_err(printable(f"{source_name}: line {line}: {reason}{suffix}"))
        if shown[0] == SHOWN_BAD_ROWS:
            echo_err("… further bad rows are counted in the summary")

    return on_bad_row


def _is_live(name: str) -> bool:
    from harlite.runtime.io.mqtt import is_mqtt_url

    return name.startswith("udp:") or is_mqtt_url(name)


def _open_input(name: str, options: dict):
    from harlite.runtime.io.mqtt import MqttSource, is_mqtt_url
    from harlite.runtime.io.sources import UdpSource, open_source, paced

    read = input_options(options)
    if is_mqtt_url(name):
        source = MqttSource(name, options["platform"], idle_timeout=options["idle_timeout"])
        echo_err(f"subscribed to {source.name}")
    elif name.startswith("udp:"):
        host, port = _udp_address(name)
        source = UdpSource(port, host, read, idle_timeout=options["idle_timeout"])
        echo_err(f"listening on {source.name}")
    else:
        source = open_source(name, read)
    source_name = getattr(source, "name", name)
    if options["replay"]:
        return source_name, paced(source, options["speed"])
    return source_name, source


def _udp_address(value: str) -> tuple[str, int]:
    rest = value.removeprefix("udp://").removeprefix("udp:")
    host, _, port = rest.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 <= number <= 65535:
        raise click.BadParameter(
            f"{value}: expected udp://HOST:PORT or udp:PORT with a port in 0..65535",
            param_hint="'--input'",
        )
    return host or "127.0.0.1", number
