"""Model bundles: a folder with ``manifest.json`` and the model artefacts it describes.

The manifest (schema version 1, documented in docs/bundle.md) holds everything a device
needs to feed a model correctly: labels, channel order and units, sample rate, window and
hop, the preprocessing filters, the normalisation, and for each artefact its file, SHA-256,
size, tensors and measured accuracy. Every artefact file is checked against its hash before
an interpreter parses it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.interpreter import TFLiteModel
from harlite.runtime.preprocessing import FilterDesign

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1


class BundleError(HarliteError):
    """A bundle that is missing, damaged, or newer than this harlite understands."""


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _require(data: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise BundleError(f"{where}: field {key!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BundleError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def validate_manifest(manifest: Any, where: str) -> None:
    """Check the manifest's schema version and the fields a device relies on."""
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: not a JSON object")
    version = _require(manifest, "schema_version", int, where)
    if version > SCHEMA_VERSION:
        raise BundleError(
            f"{where}: schema version {version} is newer than this harlite understands "
            f"({SCHEMA_VERSION}); upgrade harlite"
        )
    if version < 1:
        raise BundleError(f"{where}: invalid schema version {version}")
    labels = _require(manifest, "labels", list, where)
    if not labels or not all(isinstance(x, str) for x in labels):
        raise BundleError(f"{where}: field 'labels' must be a non-empty list of names")
    signal = _require(manifest, "input", dict, where)
    for key in ("sample_rate_hz", "window", "hop"):
        _require(signal, key, (int, float), f"{where}: input")
    preprocessing = _require(manifest, "preprocessing", dict, where)
    try:
        FilterDesign.from_dict(_require(preprocessing, "design", dict, f"{where}: preprocessing"))
    except (TypeError, ValueError) as error:
        raise BundleError(f"{where}: preprocessing.design: {error}") from None
    _check_rates(signal, preprocessing["design"], where)
    artifacts = _require(manifest, "artifacts", dict, where)
    if not artifacts:
        raise BundleError(f"{where}: field 'artifacts' is empty")
    for name, artifact in artifacts.items():
        for key, kind in (("file", str), ("sha256", str), ("size", int), ("format", str)):
            _require(artifact, key, kind, f"{where}: artifacts.{name}")
        if Path(artifact["file"]).name != artifact["file"]:
            raise BundleError(f"{where}: artifacts.{name}.file must be a plain file name")
    default = _require(manifest, "default_artifact", str, where)
    if default not in artifacts:
        raise BundleError(f"{where}: default_artifact {default!r} is not among the artifacts")


def _check_rates(signal: dict, design: dict, where: str) -> None:
    """The manifest states the sample rate twice (input and filter design): they must agree."""
    stated = signal["sample_rate_hz"]
    designed = design.get("sample_rate_hz")
    if not (isinstance(stated, int | float) and math.isfinite(stated) and stated > 0):
        raise BundleError(f"{where}: input.sample_rate_hz must be a positive number, not {stated}")
    if designed is not None and designed != stated:
        raise BundleError(
            f"{where}: input.sample_rate_hz ({stated}) differs from "
            f"preprocessing.design.sample_rate_hz ({designed})"
        )


@dataclass(frozen=True)
class Artifact:
    """One ``artifacts.NAME`` entry of a manifest (docs/bundle.md): the file and how it did.

    ``entry`` keeps the whole entry as written, for the fields that only some formats have
    (``ops``, ``lstm``, ``quantizer``…).
    """

    name: str
    file: str
    format: str
    size: int
    sha256: str
    val_accuracy: float | None = None
    keras_agreement: float | None = None
    max_abs_diff: float | None = None
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    entry: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_entry(cls, name: str, entry: dict[str, Any]) -> Artifact:
        """The typed view of a validated manifest entry."""
        return cls(
            name=name,
            file=entry["file"],
            format=entry["format"],
            size=entry["size"],
            sha256=entry["sha256"],
            val_accuracy=entry.get("val_accuracy"),
            keras_agreement=entry.get("keras_agreement"),
            max_abs_diff=entry.get("max_abs_diff"),
            inputs=list(entry.get("inputs", [])),
            outputs=list(entry.get("outputs", [])),
            entry=entry,
        )

    @property
    def is_tflite(self) -> bool:
        """Whether the device runtime can run it."""
        return self.format == "tflite"

    @property
    def input_normalization(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean, std) per channel for artefacts that take normalised windows (int8)."""
        normalization = self.entry.get("input_normalization")
        if normalization is None:
            return None
        return (
            np.asarray(normalization["mean"], np.float32),
            np.asarray(normalization["std"], np.float32),
        )


@dataclass(frozen=True)
class Bundle:
    """A loaded, validated bundle."""

    path: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, path: str | Path) -> Bundle:
        """Read and validate ``path/manifest.json``."""
        path = Path(path)
        manifest_path = path / MANIFEST
        if not manifest_path.is_file():
            raise BundleError(f"{path}: no {MANIFEST} (not a harlite bundle)")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BundleError(f"{manifest_path}: not valid JSON: {error}") from None
        validate_manifest(manifest, str(manifest_path))
        return cls(path, manifest)

    @property
    def labels(self) -> list[str]:
        """Class names in output order."""
        return list(self.manifest["labels"])

    @property
    def design(self) -> FilterDesign:
        """The preprocessing the model was trained with."""
        return FilterDesign.from_dict(self.manifest["preprocessing"]["design"])

    @property
    def window(self) -> int:
        return int(self.manifest["input"]["window"])

    @property
    def hop(self) -> int:
        return int(self.manifest["input"]["hop"])

    @property
    def sample_rate_hz(self) -> float:
        return float(self.manifest["input"]["sample_rate_hz"])

    @property
    def artifacts(self) -> dict[str, Artifact]:
        """Every artefact by name, in manifest order."""
        return {
            name: Artifact.from_entry(name, entry)
            for name, entry in self.manifest["artifacts"].items()
        }

    @property
    def evaluation(self) -> dict[str, Any]:
        """Where the artefacts' figures were measured (``evaluation`` of the manifest)."""
        return self.manifest.get("evaluation", {})

    def artifact(self, name: str | None = None) -> Artifact:
        """Artefact ``name``, or the default artefact."""
        name = name or self.manifest["default_artifact"]
        artifacts = self.artifacts
        if name not in artifacts:
            raise BundleError(f"{self.path}: no artifact {name!r} (has {', '.join(artifacts)})")
        return artifacts[name]

    def checked_file(self, name: str | None = None) -> Path:
        """The artefact's file, after checking its size and SHA-256 against the manifest."""
        artifact = self.artifact(name)
        path = self.path / artifact.file
        if not path.is_file():
            raise BundleError(f"{path}: file missing (artifact {artifact.name!r})")
        size = path.stat().st_size
        if size != artifact.size:
            raise BundleError(
                f"{path}: {size} bytes, the manifest says {artifact.size} (truncated or replaced?)"
            )
        digest = sha256_file(path)
        if digest != artifact.sha256:
            raise BundleError(
                f"{path}: SHA-256 {digest[:16]}… does not match the manifest "
                "(corrupted or tampered with)"
            )
        return path

    def load_tflite(
        self, name: str | None = None, backend: str | None = None, threads: int | None = None
    ) -> TFLiteModel:
        """Open a TFLite artefact (checked by hash first) with a runtime interpreter."""
        artifact = self.artifact(name)
        if not artifact.is_tflite:
            raise BundleError(
                f"artifact {artifact.name!r} is {artifact.format}, not TFLite: the device "
                f"runtime runs {', '.join(self.tflite_names()) or 'none'}"
            )
        return TFLiteModel(
            self.checked_file(artifact.name),
            backend=backend,
            threads=threads,
            input_normalization=artifact.input_normalization,
        )

    def tflite_names(self) -> list[str]:
        """Names of the TFLite artefacts in this bundle."""
        return [n for n, a in self.artifacts.items() if a.is_tflite]
