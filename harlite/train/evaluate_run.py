"""Evaluate a trained model (run dir or .keras file) on the subjects of a data folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from harlite.errors import HarliteError
from harlite.train.config import TrainConfig
from harlite.train.datasets import load_windows
from harlite.train.evaluation import format_report
from harlite.train.splits import UCI_TEST_SUBJECTS
from harlite.train.trainer import CONFIG_FILE, MODEL_FILE, evaluate_model, load_model, write_reports
from harlite.train.windowset import WindowSet


def resolve_model(path: str | Path) -> tuple[Path, TrainConfig]:
    """The .keras file and training settings of a run dir, a bundle or a .keras file."""
    path = Path(path)
    if (path / "manifest.json").is_file():  # a bundle: its Keras model and recorded settings
        manifest = json.loads((path / "manifest.json").read_text())
        try:
            return path / MODEL_FILE, TrainConfig.from_dict(manifest["model"]["training"])
        except (KeyError, ValueError, TypeError) as error:
            raise HarliteError(
                f"{path}: manifest without valid training settings: {error}"
            ) from None
    model_file = path / MODEL_FILE if path.is_dir() else path
    if not model_file.is_file():
        raise HarliteError(f"{path}: no {MODEL_FILE} here (not a run folder or .keras file)")
    config_file = model_file.parent / CONFIG_FILE
    if config_file.is_file():
        try:
            return model_file, TrainConfig.load(config_file)
        except (ValueError, TypeError) as error:
            raise HarliteError(f"{config_file}: not a valid training config: {error}") from None
    click.echo(
        f"note: no {CONFIG_FILE} beside {model_file}: using the default preprocessing", err=True
    )
    return model_file, TrainConfig()


def choose_subjects(
    windows: WindowSet, config: TrainConfig, subjects: list[int] | None, split: str | None
) -> WindowSet:
    """Narrow ``windows`` to the asked subjects; all of them when nothing is asked."""
    if split == "test":
        wanted = sorted(set(UCI_TEST_SUBJECTS) & set(windows.subjects))
        if not wanted:
            raise HarliteError(
                "the data holds none of the standard test subjects "
                f"({', '.join(map(str, UCI_TEST_SUBJECTS))})"
            )
    elif split == "val":
        wanted = list(config.val_subjects)
    elif subjects:
        wanted = subjects
    else:
        return windows
    missing = sorted(set(wanted) - set(windows.subjects))
    if missing:
        raise HarliteError(f"no windows of subjects {', '.join(map(str, missing))} in the data")
    return windows.select(np.isin(windows.subject, wanted))


def evaluate_path(
    model: str | Path,
    data_dir: str | Path,
    *,
    subjects: list[int] | None = None,
    split: str | None = None,
    artifact: str = "keras",
    out_dir: str | Path | None = None,
) -> tuple[dict[str, Any], str]:
    """Evaluate a model on ``data_dir``; returns the report and its text form."""
    if artifact != "keras":
        raise HarliteError(
            f"artifact {artifact!r}: only 'keras' can be evaluated from a run folder or .keras file"
        )
    model_file, config = resolve_model(model)
    windows = load_windows(data_dir, config.filter_design, config.window, config.hop)
    chosen = choose_subjects(windows, config, subjects, split)
    report = evaluate_model(load_model(model_file), chosen)
    report.update(model=str(model_file), artifact=artifact, subjects=chosen.subjects)
    title = f"{model_file} ({artifact}) on subjects {', '.join(map(str, chosen.subjects))}"
    if out_dir is not None:
        write_reports(report, Path(out_dir), title)
    return report, format_report(report, title)
