"""The ``harlite`` command: one entry point for data, training, conversion and the device."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harlite import __version__
from harlite.cli_batch import batch
from harlite.cli_stream import stream
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


@data.command("export")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the CSV files.",
)
@click.option("--subjects", callback=lambda c, p, v: _subjects(c, p, v), help="E.g. 27-30.")
def data_export(directory: Path, out_dir: Path, subjects: list[int] | None) -> None:
    """Write each HAPT experiment in DIRECTORY as a labelled stream CSV in the canonical
    format (t,acc_x,…,gyro_z,label), ready for `harlite stream`."""
    from harlite.train.recordings import export_recordings

    for path in export_recordings(directory, out_dir, subjects):
        click.echo(str(path))


def _subjects(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    if param.name == "val_subjects" and value.strip().lower() == "none":
        return []
    from harlite.train.splits import parse_subjects

    try:
        return parse_subjects(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _data_option(help_text: str):
    """The --data option shared by the commands that read a data set folder."""
    return click.option(
        "--data",
        "data_dir",
        required=True,
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help=help_text,
    )


@cli.command()
@click.option(
    "--preset",
    default="lstm",
    show_default=True,
    help="Model preset (see `harlite models presets`).",
)
@_data_option("Data set folder (HAPT raw or UCI HAR).")
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
    callback=_subjects,
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
    result = run_training(config, data_dir, run_dir, verbose=not quiet)
    click.echo(
        json.dumps(
            {
                "run_dir": str(result.run_dir),
                "accuracy": result.report["accuracy"],
                "best_epoch": result.best_epoch,
                "epochs_run": result.epochs_run,
                "seconds": round(result.seconds, 1),
            }
        )
    )
    if result.interrupted:
        sys.exit(130)


@cli.command()
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@_data_option("Data set folder; all its subjects are evaluated unless narrowed.")
@click.option("--subjects", callback=_subjects, help="Evaluate only these subjects, e.g. 1,3,5-8.")
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
    """Evaluate MODEL (a run folder, .keras file or bundle) on the windows of DATA.

    Windows are built with the model's own preprocessing settings. Prints accuracy, weighted
    precision/recall/F1, per-class recall, per-subject accuracy and the confusion matrix.
    """
    if subjects and split:
        raise click.UsageError("give --subjects or --split, not both")
    if (model / "manifest.json").is_file():
        from harlite.convert.evaluate_bundle import evaluate_bundle

        report, text = evaluate_bundle(
            model, data_dir, subjects=subjects, split=split, artifact=artifact, out_dir=out_dir
        )
    else:
        from harlite.train.evaluate_run import evaluate_path

        report, text = evaluate_path(
            model,
            data_dir,
            subjects=subjects,
            split=split,
            artifact=artifact or "keras",
            out_dir=out_dir,
        )
    click.echo(json.dumps(report) if as_json else text)


@cli.command()
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Bundle folder to write (replaced only once the new one is complete).",
)
@_data_option(
    "Data set folder: training windows calibrate int8, validation windows measure every artefact."
)
@click.option(
    "--formats",
    default="keras,pb,float32,dynamic,int8",
    show_default=True,
    help="Comma-separated: keras, pb, float32, dynamic, int8, float16.",
)
@click.option(
    "--lstm",
    "lstm_mode",
    type=click.Choice(["fused", "unrolled"]),
    default="fused",
    show_default=True,
    help="TFLite's fused LSTM op (compact) or 128 unrolled steps of builtin ops.",
)
@click.option(
    "--val-subjects",
    callback=_subjects,
    help="Subjects to measure on (default: the model's validation subjects).",
)
@click.option("--default", "default_artifact", help="Artifact the runtime uses by default.")
def convert(
    model: Path,
    out_dir: Path,
    data_dir: Path,
    formats: str,
    lstm_mode: str,
    val_subjects: list[int] | None,
    default_artifact: str | None,
) -> None:
    """Convert MODEL (a run folder or .keras file) into a bundle: frozen .pb, TFLite
    float32/dynamic/int8 (and float16), and a manifest with every figure a device needs."""
    from harlite.convert.bundle_writer import convert_model

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    click.echo(f"converting {model} → {out_dir}", err=True)
    convert_model(
        model,
        out_dir,
        data_dir,
        formats=chosen,
        unrolled=lstm_mode == "unrolled",
        val_subjects=val_subjects,
        default=default_artifact,
        log=lambda text: click.echo(text, err=True),
    )
    click.echo(str(out_dir))


@cli.command()
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--backend",
    type=click.Choice(["ai_edge_litert", "tflite_runtime", "tensorflow"]),
    help="TFLite interpreter to use (default: the first available).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
def verify(bundle: Path, backend: str | None, as_json: bool) -> None:
    """Check BUNDLE's hashes and schema, load every artefact and run the reference windows
    through it; exits non-zero on any mismatch."""
    from harlite.convert.verify import format_rows, rows_as_dicts, verify_bundle
    from harlite.runtime.bundle import Bundle

    rows = verify_bundle(bundle, backend=backend)
    click.echo(json.dumps(rows_as_dicts(rows)) if as_json else format_rows(rows))
    evaluation = Bundle.open(bundle).manifest["evaluation"]
    if not as_json:
        subjects = ", ".join(map(str, evaluation["subjects"]))
        seen = evaluation.get("subjects_seen_in_training")
        click.echo(
            f"val acc: windows of subjects {subjects}"
            + (
                " (in this model's training data: see training/model-info.json for the "
                "held-out figures)"
                if seen
                else " (held out from training)"
            )
        )
    failed = [r.artifact for r in rows if r.status == "FAILED"]
    if failed:
        raise click.ClickException(f"verification failed for: {', '.join(failed)}")


@cli.group()
def models() -> None:
    """The pretrained models shipped with harlite, and the presets to train."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def models_list(as_json: bool) -> None:
    """List the shipped pretrained models with their validation figures."""
    from harlite.shipped import list_models

    entries = list_models()
    if as_json:
        click.echo(json.dumps(entries))
        return
    if not entries:
        click.echo("no pretrained models are shipped with this installation")
    for entry in entries:
        acc = entry.get("val_accuracy")
        figure = f"{acc:.2%} validation accuracy" if acc is not None else "not evaluated"
        click.echo(f"{entry['name']:<12} {figure:<28} {entry['description']}")


@models.command("path")
@click.argument("name")
def models_path(name: str) -> None:
    """Print the folder of the shipped model NAME."""
    from harlite.shipped import model_path

    click.echo(model_path(name))


@models.command("presets")
def models_presets() -> None:
    """List the model presets `harlite train --preset` accepts."""
    from harlite.train.models import PRESETS

    for preset in PRESETS.values():
        click.echo(f"{preset.name:<12} {preset.description}")


@cli.command()
@click.argument("bundle")
@click.option(
    "--backends",
    help="Comma-separated interpreters (ai_edge_litert, tflite_runtime, tensorflow); "
    "default: every one installed.",
)
@click.option("--threads", default="1", show_default=True, help="Thread counts, e.g. 1,2.")
@click.option("--invokes", default=1000, show_default=True, help="Timed batch-1 invokes per row.")
@click.option("--no-tensorflow", is_flag=True, help="Skip the Keras model and the .pb.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write report.md, bench.json and the chart bench.png here.",
)
def bench(
    bundle: str,
    backends: str | None,
    threads: str,
    invokes: int,
    no_tensorflow: bool,
    as_json: bool,
    report_dir: Path | None,
) -> None:
    """Measure every artefact of BUNDLE (a folder or a shipped model name): size, load and
    first-inference time, batch-1 latency p50/p90/p99, throughput, peak memory, MACs and
    GMAC/s, with the validation accuracy and Keras agreement from the manifest."""
    from harlite.bench import benchmark_bundle, format_table, summary_lines, write_report
    from harlite.cli_stream import resolve_bundle

    try:
        thread_counts = [int(t) for t in threads.split(",") if t.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{threads!r}: expected numbers like 1,2", param_hint="--threads"
        ) from None
    if invokes < 1 or not thread_counts or min(thread_counts) < 1:
        raise click.UsageError("--invokes and --threads must be positive")
    chosen = [b.strip() for b in backends.split(",")] if backends else None
    log = (lambda text: None) if as_json else (lambda text: click.echo(text, err=True))
    result = benchmark_bundle(
        resolve_bundle(bundle),
        backends=chosen,
        threads=thread_counts,
        invokes=invokes,
        include_tensorflow=not no_tensorflow,
        log=log,
    )
    if report_dir is not None:
        path = write_report(result, report_dir)
        log(f"report: {path}")
    if as_json:
        click.echo(json.dumps(result["rows"]))
        return
    click.echo(format_table(result))
    for line in summary_lines(result):
        click.echo(line)


@cli.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="HAPT raw folder (default: download UCI HAPT).",
)
@click.option("--preset", default="lstm", show_default=True, help="Model preset to train.")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the run, bundle, benchmark, streamed recording and report.md.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="A short training (25 epochs) and fewer timed invokes: minutes, for CI and first contact.",
)
def pipeline(data_dir: Path | None, preset: str, out_dir: Path, quick: bool) -> None:
    """Raw recordings to a measured, deployable bundle: data → train → evaluate → convert →
    verify → bench → stream a validation recording, with OUT/report.md holding every figure
    and plot."""
    from harlite.pipeline import run_pipeline

    run_pipeline(
        out_dir,
        data_dir,
        preset=preset,
        quick=quick,
        log=lambda text: click.echo(text, err=True),
    )
    click.echo(str(out_dir / "report.md"))


cli.add_command(stream)
cli.add_command(batch)


def main() -> None:
    """Console-script entry point."""
    cli()


if __name__ == "__main__":
    main()
