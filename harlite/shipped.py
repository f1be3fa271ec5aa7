"""The pretrained models shipped inside the package: each ``harlite/models/NAME/`` is a
bundle (manifest, TFLite artefacts, Keras model) with its training record in ``training/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harlite.errors import HarliteError

MODELS_DIR = Path(__file__).resolve().parent / "models"


def list_models() -> list[dict[str, Any]]:
    """Name, description, held-out figures (``crossval``: the cross-validation results file
    they come from, where the model was chosen that way; else one validation run), the
    placements it was trained for, and path of every shipped model."""
    entries = []
    for folder in sorted(p for p in MODELS_DIR.glob("*") if p.is_dir()):
        info = _read_json(folder / "training" / "model-info.json")
        validation = info.get("validation", {})
        by_placement = validation.get("by_placement", {})
        # A model trained on several placements is listed by its waist (HAPT) figure, the
        # one every shipped model has; the others are under "by_placement".
        headline = by_placement.get("waist", validation)
        manifest = _read_json(folder / "manifest.json")
        artifacts = manifest.get("artifacts", {})
        domain = manifest.get("training_domain", {})
        entries.append(
            {
                "name": folder.name,
                "description": info.get("description", ""),
                "val_accuracy": headline.get("accuracy"),
                "val_subjects": headline.get("subjects"),
                "by_placement": {
                    name: {
                        "accuracy": v.get("accuracy"),
                        "worst": v.get("worst"),
                        "subjects": v.get("subjects"),
                    }
                    for name, v in by_placement.items()
                },
                "crossval": validation.get("crossval"),
                "placements": list(domain.get("placements", [])),
                "artifacts": {name: entry.get("size") for name, entry in artifacts.items()},
                "default_artifact": manifest.get("default_artifact"),
                "path": str(folder),
            }
        )
    return entries


def model_path(name: str) -> Path:
    """The bundle folder of shipped model ``name``."""
    folder = MODELS_DIR / name
    if not folder.is_dir():
        names = ", ".join(e["name"] for e in list_models()) or "none"
        raise HarliteError(f"no shipped model {name!r} (shipped: {names})")
    return folder


def resolve_path_or_name(value: str | Path, what: str = "file or folder") -> Path:
    """``value`` as a path if it exists, else (a plain name, no ``/``) the folder of the
    shipped model of that name (``lstm``)."""
    path = Path(value)
    if path.exists():
        return path
    if "/" not in str(value):
        return model_path(str(value))
    raise HarliteError(f"{value}: no such {what}")


def resolve_bundle(value: str | Path) -> Path:
    """A bundle folder as given, or the folder of the shipped model named ``value``."""
    path = resolve_path_or_name(value, "bundle folder")
    if not path.is_dir():
        raise HarliteError(f"{value}: not a bundle folder (a file)")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
