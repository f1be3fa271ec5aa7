"""harlite.runtime.model.manifest: bounded parsing and range checks of manifest.json
(runtime-only)."""

from __future__ import annotations

import json

import pytest

from harlite.runtime.model.manifest import (
    MAX_DEPTH,
    MAX_MANIFEST_BYTES,
    BundleError,
    parse_manifest,
    validate_manifest,
)
from harlite.shipped import model_path

pytestmark = pytest.mark.runtime

TEXT = (model_path("lstm") / "manifest.json").read_text()


def test_the_shipped_manifest_parses():
    assert parse_manifest(TEXT, "m")["input"]["window"] == 128


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested"),
        (" " * (MAX_MANIFEST_BYTES + 1), "larger than"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": 1' + "0" * 100 + "}", "digits"),
        ("{not json", "not valid JSON"),
    ],
)
def test_text_beyond_the_limits_is_refused_before_it_is_trusted(text, message):
    with pytest.raises(BundleError, match=message):
        parse_manifest(text, "m")


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("input", "hop"), 129, "hop"),
        (("input", "sample_rate_hz"), 1e9, "sample_rate_hz"),
        (("preprocessing", "design", "order"), 0, "order"),
        (("preprocessing", "design", "noise_cutoff_hz"), 25.0, "noise_cutoff_hz"),
        (("labels",), ["A", "A"], "twice"),
        (("artifacts", "float32", "sha256"), "xyz", "sha256"),
        (("artifacts", "float32", "file"), "../model.tflite", "plain file name"),
        (("evaluation", "reference_windows"), "/etc/passwd", "reference_windows"),
    ],
)
def test_values_out_of_range_name_their_field(path, value, message):
    manifest = json.loads(TEXT)
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(BundleError, match=message):
        validate_manifest(manifest, "m")


@pytest.mark.parametrize(
    "key, rows, message",
    [
        ("noise_sos", None, "'noise_sos' is missing"),
        ("noise_sos", [[1, 0, 0, 1, 0, 0]], "2 rows of 6 numbers"),  # order 3: two sections
        ("gravity_sos", [[1, 0, 0, 1, 0, 0], [1, 0, "0", 1, 0, 0]], "2 rows of 6 numbers"),
        ("gravity_sos", [[1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0]], "2 rows of 6 numbers"),
        ("gravity_sos", [[1, 0, 0, 2, 0, 0], [1, 0, 0, 1, 0, 0]], r"gravity_sos must have a0 = 1"),
        ("noise_sos", [[1, 0, 0, 1, 0, 0], [2, 0, 0, 1, 0, 1.0]], r"noise_sos must be stable"),
        ("noise_sos", [[3, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0]], r"noise_sos must be a low-pass"),
    ],
)
def test_the_filter_sections_the_device_runs_are_checked(key, rows, message):
    """The device filters with the manifest's own sections: each one is checked for shape,
    a0, stability and unit gain at 0 Hz before anything filters with it."""
    manifest = json.loads(TEXT)
    if rows is None:
        del manifest["preprocessing"][key]
    else:
        manifest["preprocessing"][key] = rows
    with pytest.raises(BundleError, match=message):
        validate_manifest(manifest, "m")
