"""The pretrained bundles shipped inside the package."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.runtime.model.bundle import Bundle
from harlite.shipped import MODELS_DIR, list_models
from tests.conftest import REPO

SHIPPED = sorted(p.name for p in MODELS_DIR.glob("*") if (p / "manifest.json").is_file())


def test_the_core_presets_are_shipped():
    assert {"lstm", "cnn", "resbilstm"} <= set(SHIPPED)


def test_models_list_and_path():
    result = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert result.exit_code == 0, result.output
    entries = {e["name"]: e for e in json.loads(result.output)}
    assert set(entries) == set(SHIPPED)
    for entry in entries.values():
        assert 0.9 < entry["val_accuracy"] <= 1
        if entry["crossval"]:  # every waist person held out once, the figures in a file
            assert (REPO / "benchmarks" / "results" / entry["crossval"]).is_file()
            assert len(entry["val_subjects"]) == 21
        else:
            assert entry["val_subjects"] == [27, 28, 29, 30]
    listed = CliRunner().invoke(cli, ["models", "list"]).output
    held_out = [line for line in listed.splitlines() if "held out: " in line]
    crossvalidated = [e for e in entries.values() if e["crossval"]]
    assert len(held_out) == len(crossvalidated) >= 1
    for line, entry in zip(held_out, crossvalidated, strict=True):  # in the models' order
        assert "(worst " in line and line.endswith(f"({entry['crossval']})")
    path = CliRunner().invoke(cli, ["models", "path", "lstm"]).output.strip()
    assert Bundle.open(path).manifest["model"]["preset"] == "lstm"
    missing = CliRunner().invoke(cli, ["models", "path", "nope"])
    assert missing.exit_code == 1 and "no shipped model 'nope'" in missing.output


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_bundle_is_small_and_complete(name):
    folder = MODELS_DIR / name
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    model_files = sum(p.stat().st_size for p in folder.glob("model_*.tflite"))
    assert model_files < 400_000
    assert size < 1_000_000, f"{name}: {size} bytes"  # the training issue's limit
    info = json.loads((folder / "training" / "model-info.json").read_text())
    hapt = [s for s in info["trained_on_subjects"] if s < 1000]  # a mixture numbers others apart
    assert len(hapt) == 21
    held_out = info["validation"].get("crossval") or "validation-confusion.png"
    assert held_out.endswith(".json") or (folder / "training" / held_out).is_file()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_tflite_artifacts_classify_their_reference_windows(name):
    bundle = Bundle.open(MODELS_DIR / name)
    with np.load(bundle.path / "reference.npz", allow_pickle=False) as data:
        windows, labels = data["windows"], data["labels"]
    for artifact in bundle.tflite_names():
        predicted = bundle.load_tflite(artifact).predict(windows).argmax(axis=1)
        assert (predicted == labels).mean() > 0.85, artifact


def test_list_models_reads_every_bundle():
    assert [e["name"] for e in list_models()] == SHIPPED
