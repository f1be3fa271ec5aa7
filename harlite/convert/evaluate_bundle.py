"""``harlite evaluate BUNDLE --artifact NAME``: any artefact of a bundle on a data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harlite.convert.artifacts import predictor
from harlite.runtime.bundle import Bundle
from harlite.train.config import TrainConfig
from harlite.train.datasets import load_windows
from harlite.train.evaluate_run import choose_subjects
from harlite.train.evaluation import evaluate_predictions, format_report
from harlite.train.trainer import write_reports


def evaluate_bundle(
    path: str | Path,
    data_dir: str | Path,
    *,
    subjects: list[int] | None = None,
    split: str | None = None,
    artifact: str | None = None,
    backend: str | None = None,
    out_dir: str | Path | None = None,
) -> tuple[dict[str, Any], str]:
    """Evaluate one artefact of the bundle at ``path``; returns the report and its text."""
    bundle = Bundle.open(path)
    name, _ = bundle.artifact(None if artifact in (None, "default") else artifact)
    config = TrainConfig.from_dict(bundle.manifest["model"]["training"])
    windows = load_windows(data_dir, bundle.design, bundle.window, bundle.hop)
    chosen = choose_subjects(windows, config, subjects, split)
    predicted = predictor(bundle, name, backend)(chosen.X).argmax(axis=1)
    report = evaluate_predictions(chosen.y, predicted, chosen.subject)
    report.update(model=str(bundle.path), artifact=name, subjects=chosen.subjects)
    title = f"{bundle.path} ({name}) on subjects {', '.join(map(str, chosen.subjects))}"
    if out_dir is not None:
        write_reports(report, Path(out_dir), title)
    return report, format_report(report, title)
