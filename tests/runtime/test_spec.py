"""harlite.runtime.spec: the one source of the model's fixed numbers (runtime-only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harlite.runtime import spec
from harlite.shipped import list_models

pytestmark = pytest.mark.runtime


def test_the_numbers_are_consistent():
    assert spec.N_MODEL_CHANNELS == len(spec.MODEL_CHANNELS) == len(spec.MODEL_CHANNEL_UNITS)
    assert len(spec.RAW_CHANNELS) == 6 and len(set(spec.ACTIVITY_LABELS)) == 6
    assert 0 < spec.HOP_SAMPLES <= spec.WINDOW_SAMPLES
    assert spec.SAMPLE_RATE_HZ > 0


def test_shipped_manifests_record_the_same_numbers():
    for entry in list_models():
        manifest = json.loads((Path(entry["path"]) / "manifest.json").read_text())
        signal = manifest["input"]
        assert signal["window"] == spec.WINDOW_SAMPLES and signal["hop"] == spec.HOP_SAMPLES
        assert signal["sample_rate_hz"] == spec.SAMPLE_RATE_HZ
        assert signal["channels"] == list(spec.MODEL_CHANNELS)
        assert manifest["labels"] == list(spec.ACTIVITY_LABELS)
