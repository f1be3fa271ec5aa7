"""``harlite convert`` and ``harlite verify``: a trained model to a bundle, and the bundle
checked."""

from __future__ import annotations

import json
from pathlib import Path

import click

from harlite.cli.options import bundle_path, data_option, echo_err, model_argument, parse_subjects


@click.command()
@click.argument("model", callback=model_argument)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Bundle folder to write (replaced only once the new one is complete).",
)
@data_option(
    "Data set folder: training windows calibrate int8, validation windows measure every artefact."
)
@click.option(
    "--formats",
    default="keras,pb,float32,dynamic,int8,onnx",
    show_default=True,
    help="Comma-separated: keras, pb, float32, dynamic, int8, float16, onnx (ONNX Runtime, "
    "dynamic batch; needs tf2onnx and onnxruntime).",
)
@click.option(
    "--add",
    is_flag=True,
    help="MODEL is a bundle: add the --formats to it (from its model.keras, measured on the "
    "windows its figures came from), leaving its other artefacts as they are.",
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
    callback=parse_subjects,
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
    add: bool,
) -> None:
    """Convert MODEL (a run folder, .keras file, bundle or shipped model name) into a
    bundle: frozen .pb, TFLite float32/dynamic/int8 (and float16), and a manifest with every
    figure a device needs."""
    from harlite.convert.bundle_writer import add_formats, convert_model

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if add:
        if out_dir is not None:
            raise click.UsageError("--add changes the bundle MODEL in place: leave out --out")
        echo_err(f"adding {', '.join(chosen)} to {model}")
        add_formats(model, data_dir, chosen, log=echo_err)
        click.echo(str(model))
        return
    if out_dir is None:
        raise click.UsageError("give --out (the bundle folder to write), or --add")
    echo_err(f"converting {model} → {out_dir}")
    convert_model(
        model,
        out_dir,
        data_dir,
        formats=chosen,
        unrolled=lstm_mode == "unrolled",
        val_subjects=val_subjects,
        default=default_artifact,
        log=echo_err,
    )
    click.echo(str(out_dir))


@click.command()
@click.argument("bundle", callback=lambda ctx, param, value: bundle_path(value))
@click.option(
    "--backend",
    type=click.Choice(["ai_edge_litert", "tflite_runtime", "tensorflow"]),
    help="TFLite interpreter to use (default: the first available).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows.")
def verify(bundle: Path, backend: str | None, as_json: bool) -> None:
    """Check BUNDLE's (a folder or a shipped model name) hashes and schema, load every
    artefact and run the reference windows through it; exits non-zero on any mismatch."""
    from harlite.convert.verify import format_rows, rows_as_dicts, verify_bundle
    from harlite.runtime.model.bundle import Bundle

    rows = verify_bundle(bundle, backend=backend)
    click.echo(json.dumps(rows_as_dicts(rows)) if as_json else format_rows(rows))
    if not as_json:
        click.echo(Bundle.open(bundle).evaluation_note())
    failed = [r.artifact for r in rows if r.status == "FAILED"]
    if failed:
        raise click.ClickException(f"verification failed for: {', '.join(failed)}")
