"""``harlite verify``: check a bundle's hashes and schema, load and run every artefact."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite.convert.artifacts import Unavailable, predictor
from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle, BundleError

#: How closely each artefact must reproduce, here, the outputs it gave at conversion on the
#: reference windows: (least argmax agreement, largest probability difference). Quantised
#: artefacts may run other integer kernels on other backends, so they get some room; how far
#: they are from Keras was measured at conversion and is in the manifest.
EXACT_TOLERANCE = (1.0, 1e-4)
QUANTIZED_TOLERANCE = (0.9, 0.1)
EXACT = ("keras", "pb", "float32", "float16", "onnx")


@dataclass
class VerifyRow:
    """One artefact's verification result: how it reproduces its own conversion-time outputs
    (``reference_agreement``, ``max_abs_diff``) and the figures the manifest recorded when it
    was converted: accuracy on the validation windows, and its agreement with the Keras model
    there (``keras_agreement`` of the argmax, ``keras_max_abs_diff`` of the probabilities).

    ``size`` is in bytes."""

    artifact: str
    file: str
    size: int
    status: str  # "ok", "FAILED" or "skipped"
    reference_agreement: float | None
    max_abs_diff: float | None
    val_accuracy: float | None
    keras_agreement: float | None
    detail: str = ""
    keras_max_abs_diff: float | None = None


def verify_bundle(path: str | Path, backend: str | None = None) -> list[VerifyRow]:
    """Verify every artefact of the bundle at ``path``; raises BundleError if the manifest
    itself is unusable, else returns one row per artefact (status FAILED on a mismatch)."""
    bundle = Bundle.open(path)
    reference_path = bundle.reference_windows
    try:
        with np.load(reference_path, allow_pickle=False) as data:
            reference = {key: data[key] for key in data.files}
        windows = reference["windows"]
    except (OSError, ValueError) as error:
        raise BundleError(f"{reference_path}: cannot read the reference windows: {error}") from None
    if "windows" not in reference:
        raise BundleError(f"{reference_path}: no reference windows")
    rows = []
    for name, artifact in bundle.artifacts.items():
        row = VerifyRow(
            name,
            artifact.file,
            artifact.size,
            "ok",
            None,
            None,
            artifact.val_accuracy,
            artifact.keras_agreement,
            keras_max_abs_diff=artifact.max_abs_diff,
        )
        try:
            probabilities = predictor(bundle, name, backend)(windows)
        except Unavailable as skip:
            row.status, row.detail = "skipped", str(skip)
            rows.append(row)
            continue
        except HarliteError as error:
            row.status, row.detail = "FAILED", str(error)
            rows.append(row)
            continue
        expected = reference.get(f"probabilities_{name}")
        if expected is None or expected.shape != probabilities.shape:
            row.status, row.detail = "FAILED", "no recorded reference outputs for this artifact"
            rows.append(row)
            continue
        agreement = float((probabilities.argmax(1) == expected.argmax(1)).mean())
        row.reference_agreement = agreement
        row.max_abs_diff = float(np.abs(probabilities - expected).max())
        least, largest = EXACT_TOLERANCE if name in EXACT else QUANTIZED_TOLERANCE
        if agreement < least or row.max_abs_diff > largest:
            row.status = "FAILED"
            row.detail = (
                f"differs from its conversion-time outputs: argmax agreement {agreement:.1%} "
                f"(needs {least:.0%}), max |Δp| {row.max_abs_diff:.2g} (limit {largest:g})"
            )
        rows.append(row)
    return rows


def format_rows(rows: list[VerifyRow]) -> str:
    """The verification table as text: here, each artefact against its own conversion-time
    outputs; at conversion (from the manifest), each against the Keras model."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2%}"

    def diff(value: float | None) -> str:
        return "-" if value is None else f"{value:.1e}"

    lines = [
        f"{'':<9} {'':>9} {'':<8} {'here, vs conversion':>20}  "
        f"{'at conversion, vs Keras (val windows)':>38}",
        f"{'artifact':<9} {'size KiB':>9} {'status':<8} {'agree':>9} {'max |Δp|':>10}  "
        f"{'val acc':>8} {'agree':>9} {'max |Δp|':>10}",
    ]
    for r in rows:
        lines.append(
            f"{r.artifact:<9} {r.size / 1024:>9,.1f} {r.status:<8} "
            f"{pct(r.reference_agreement):>9} {diff(r.max_abs_diff):>10}  "
            f"{pct(r.val_accuracy):>8} {pct(r.keras_agreement):>9} "
            f"{diff(r.keras_max_abs_diff):>10}" + (f"  {r.detail}" if r.detail else "")
        )
    return "\n".join(lines)


def rows_as_dicts(rows: list[VerifyRow]) -> list[dict[str, Any]]:
    """JSON-ready rows."""
    return [asdict(r) for r in rows]
