"""``harlite verify``: check a bundle's hashes and schema, load and run every artefact."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite.convert.artifacts import NeedsTensorFlow, predictor
from harlite.errors import HarliteError
from harlite.runtime.bundle import Bundle, BundleError

#: Artefacts that must reproduce the Keras model's decisions on every reference window.
EXACT = ("keras", "pb", "float32", "float16")
#: Least agreement with Keras on the reference windows for the quantised artefacts.
QUANTIZED_MIN_AGREEMENT = 0.9


@dataclass
class VerifyRow:
    """One artefact's verification result."""

    artifact: str
    file: str
    size: int
    status: str  # "ok", "FAILED" or "skipped"
    reference_agreement: float | None
    max_abs_diff: float | None
    val_accuracy: float | None
    keras_agreement: float | None
    detail: str = ""


def verify_bundle(path: str | Path, backend: str | None = None) -> list[VerifyRow]:
    """Verify every artefact of the bundle at ``path``; raises BundleError if the manifest
    itself is unusable, else returns one row per artefact (status FAILED on a mismatch)."""
    bundle = Bundle.open(path)
    reference_path = bundle.path / bundle.manifest["evaluation"]["reference_windows"]
    try:
        with np.load(reference_path, allow_pickle=False) as data:
            windows = data["windows"]
            expected = data["keras_probabilities"]
    except (OSError, KeyError, ValueError) as error:
        raise BundleError(f"{reference_path}: cannot read the reference windows: {error}") from None
    rows = []
    for name, entry in bundle.artifacts.items():
        row = VerifyRow(
            name,
            entry["file"],
            entry["size"],
            "ok",
            None,
            None,
            entry.get("val_accuracy"),
            entry.get("keras_agreement"),
        )
        try:
            probabilities = predictor(bundle, name, backend)(windows)
        except NeedsTensorFlow as skip:
            row.status, row.detail = "skipped", str(skip)
            rows.append(row)
            continue
        except HarliteError as error:
            row.status, row.detail = "FAILED", str(error)
            rows.append(row)
            continue
        agreement = float((probabilities.argmax(1) == expected.argmax(1)).mean())
        row.reference_agreement = agreement
        row.max_abs_diff = float(np.abs(probabilities - expected).max())
        needed = 1.0 if name in EXACT else QUANTIZED_MIN_AGREEMENT
        if agreement < needed:
            row.status = "FAILED"
            row.detail = (
                f"agrees with Keras on {agreement:.1%} of the reference windows "
                f"(needs {needed:.0%})"
            )
        rows.append(row)
    return rows


def format_rows(rows: list[VerifyRow]) -> str:
    """The verification table as text."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2%}"

    lines = [
        f"{'artifact':<9} {'size':>10} {'status':<8} {'ref agree':>10} {'max |Δp|':>9} "
        f"{'val acc':>8} {'Keras agree':>12}"
    ]
    for r in rows:
        diff = "-" if r.max_abs_diff is None else f"{r.max_abs_diff:.1e}"
        lines.append(
            f"{r.artifact:<9} {r.size:>10,} {r.status:<8} {pct(r.reference_agreement):>10}"
            f" {diff:>9} {pct(r.val_accuracy):>8} {pct(r.keras_agreement):>12}"
            + (f"  {r.detail}" if r.detail else "")
        )
    return "\n".join(lines)


def rows_as_dicts(rows: list[VerifyRow]) -> list[dict[str, Any]]:
    """JSON-ready rows."""
    return [asdict(r) for r in rows]
