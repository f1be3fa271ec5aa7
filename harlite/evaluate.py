"""Evaluate any model on a data set: a training run, a ``.keras`` file, or any artefact of a
bundle (TFLite, ONNX, the frozen ``.pb``, Keras).

It sits above both training (which builds the windows and scores predictions:
:mod:`harlite.train.evaluation`) and conversion (which runs a bundle's artefacts:
:mod:`harlite.convert.artifacts`), so that training never imports conversion.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harlite.errors import HarliteError
from harlite.train.evaluation import EvaluationReport, evaluate_predictor, keras_predictor


def evaluate(
    model: str | Path,
    data_dir: str | Path,
    *,
    subjects: list[int] | None = None,
    split: str | None = None,
    artifact: str | None = None,
    backend: str | None = None,
    out_dir: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[EvaluationReport, str]:
    """Evaluate a run folder, a ``.keras`` file, or an artefact of a bundle on ``data_dir``.

    Args:
        model: the model; a bundle's artefact is ``artifact`` (default: the manifest's
            default), a run folder's or file's only artefact is ``keras``.
        data_dir: a data set folder; windows are built with the model's own settings.
        subjects, split: evaluate only these subjects, or the ``test``/``val`` split.
        backend: TFLite interpreter for a bundle's TFLite artefacts.
        out_dir: where to write report.json, report.txt and confusion.png.
        log: receives notes (e.g. a missing config.json).

    Returns:
        The report and its text form.
    """
    path = Path(model)
    if (path / "manifest.json").is_file():
        predict, name, config, where = _bundle_predictor(path, artifact, backend)
    else:
        if artifact not in (None, "keras"):
            raise HarliteError(
                f"artifact {artifact!r}: only 'keras' can be evaluated from a run folder or "
                ".keras file"
            )
        predict, name, config, where = keras_predictor(path, log)
    return evaluate_predictor(
        predict, name, config, where, data_dir, subjects=subjects, split=split, out_dir=out_dir
    )


def _bundle_predictor(path: Path, artifact: str | None, backend: str | None):
    from harlite.convert.artifacts import predictor
    from harlite.runtime.model.bundle import Bundle
    from harlite.train.config import TrainConfig

    bundle = Bundle.open(path)
    name = bundle.artifact(None if artifact in (None, "default") else artifact).name
    config = TrainConfig.from_dict(bundle.manifest["model"]["training"])
    return predictor(bundle, name, backend), name, config, str(bundle.path)
