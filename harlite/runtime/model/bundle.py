"""Model bundles: a folder with ``manifest.json`` and the model artefacts it describes.

The manifest (schema version 1, documented in docs/bundle.md) holds everything a device
needs to feed a model correctly: labels, channel order and units, sample rate, window and
hop, the preprocessing filters, the normalisation, and for each artefact its file, SHA-256,
size, tensors and measured accuracy. Every artefact file is checked against its hash before
an interpreter parses it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harlite.outputs import inside
from harlite.runtime.model.base import Model
from harlite.runtime.model.manifest import (
    SCHEMA_VERSION,
    BundleError,
    design_of,
    parse_manifest,
    validate_manifest,
)
from harlite.runtime.model.tflite_model import TFLiteModel
from harlite.runtime.signal.domain_check import TrainingDomain
from harlite.runtime.signal.preprocessing import FilterDesign
from harlite.runtime.spec import N_MODEL_CHANNELS

MANIFEST = "manifest.json"
ONNX_BACKEND = "onnxruntime"
#: The old name of :class:`~harlite.runtime.model.base.Model`, what :meth:`Bundle.load_model`
#: returns.
RuntimeModel = Model
__all__ = [
    "MANIFEST",
    "SCHEMA_VERSION",
    "Artifact",
    "Bundle",
    "BundleError",
    "sha256_file",
    "validate_manifest",
]


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        """Whether a TFLite interpreter runs it."""
        return self.format == "tflite"

    @property
    def is_onnx(self) -> bool:
        """Whether ONNX Runtime runs it (the ``onnx`` extra)."""
        return self.format == "onnx"

    @property
    def is_runnable(self) -> bool:
        """Whether the device runtime can run it (TFLite, or ONNX with the onnx extra)."""
        return self.is_tflite or self.is_onnx

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
            text = manifest_path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise BundleError(f"{manifest_path}: not UTF-8 text: {error}") from None
        return cls(path, parse_manifest(text, str(manifest_path)))

    @property
    def labels(self) -> list[str]:
        """Class names in output order."""
        return list(self.manifest["labels"])

    @property
    def design(self) -> FilterDesign:
        """The preprocessing the model was trained with: its settings, filtering with the
        bundle's own coefficients (``preprocessing.noise_sos``, ``gravity_sos``)."""
        return design_of(self.manifest["preprocessing"], str(self.path / MANIFEST))

    @property
    def window(self) -> int:
        return int(self.manifest["input"]["window"])

    @property
    def hop(self) -> int:
        return int(self.manifest["input"]["hop"])

    @property
    def sample_rate_hz(self) -> float:
        return float(self.manifest["input"]["sample_rate_hz"])

    @functools.cached_property
    def artifacts(self) -> dict[str, Artifact]:
        """Every artefact by name, in manifest order."""
        return {
            name: Artifact.from_entry(name, entry)
            for name, entry in self.manifest["artifacts"].items()
        }

    @functools.cached_property
    def domain(self) -> TrainingDomain | None:
        """What the model was trained on (None for bundles made before harlite recorded it)."""
        data = self.manifest.get("training_domain")
        return None if data is None else TrainingDomain.from_dict(data)

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

    def file(self, name: str, what: str) -> Path:
        """A file the manifest names, which must lie inside the bundle folder (a link out of
        it is refused)."""
        path = self.path / name
        if not inside(path, self.path):
            raise BundleError(f"{path}: {what} lies outside the bundle folder (a link out?)")
        return path

    def evaluation_note(self) -> str:
        """Which windows the manifest's ``val_accuracy`` figures come from, and whether the
        model was trained on them."""
        evaluation = self.evaluation
        subjects = ", ".join(map(str, evaluation.get("subjects", [])))
        if evaluation.get("subjects_seen_in_training"):
            return (
                f"val acc: windows of subjects {subjects} (in this model's training data: see "
                "training/model-info.json for the held-out figures)"
            )
        return f"val acc: windows of subjects {subjects} (held out from training)"

    @property
    def reference_windows(self) -> Path:
        """The reference windows file (``evaluation.reference_windows``)."""
        return self.file(self.evaluation["reference_windows"], "reference_windows")

    def checked_file(self, name: str | None = None) -> Path:
        """The artefact's file, after checking its size and SHA-256 against the manifest."""
        artifact = self.artifact(name)
        path = self.file(artifact.file, f"artifact {artifact.name!r}")
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
        model = TFLiteModel(
            self.checked_file(artifact.name),
            backend=backend,
            threads=threads,
            input_normalization=artifact.input_normalization,
        )
        self._check_tensors(artifact, model)
        return model

    def load_model(
        self, name: str | None = None, backend: str | None = None, threads: int | None = None
    ) -> Model:
        """Open a runnable artefact (checked by hash first) with the backend for its format.

        ``backend="onnxruntime"`` without ``name`` opens the bundle's ONNX artefact; a TFLite
        backend named for an ONNX artefact, or the reverse, is an error that says what to use.
        """
        artifact = self.artifact_for(name, backend)
        if backend == ONNX_BACKEND and not artifact.is_onnx:
            raise BundleError(
                f"artifact {artifact.name!r} is {artifact.format}: the onnxruntime backend "
                f"runs ONNX artefacts ({', '.join(self.onnx_names()) or 'none here'})"
            )
        if not artifact.is_onnx:
            return self.load_tflite(artifact.name, backend=backend, threads=threads)
        if backend not in (None, ONNX_BACKEND):
            raise BundleError(
                f"artifact {artifact.name!r} is ONNX: run it with --backend onnxruntime, or "
                f"choose a TFLite artefact ({', '.join(self.tflite_names())}) for {backend}"
            )
        from harlite.runtime.model.onnx_model import OnnxModel

        model = OnnxModel(
            self.checked_file(artifact.name),
            threads=threads,
            input_normalization=artifact.input_normalization,
        )
        self._check_tensors(artifact, model)
        return model

    def artifact_for(self, name: str | None, backend: str | None) -> Artifact:
        """The artefact :meth:`load_model` opens for ``name`` and ``backend``: the named one,
        else the ONNX artefact for ``onnxruntime``, else the manifest's default."""
        if backend == ONNX_BACKEND and name is None:
            name = self.onnx_name()
        return self.artifact(name)

    def onnx_names(self) -> list[str]:
        """Names of the ONNX artefacts in this bundle."""
        return [n for n, a in self.artifacts.items() if a.is_onnx]

    def onnx_name(self) -> str:
        """The ONNX artefact (an error naming the conversion that adds one if there is none)."""
        names = self.onnx_names()
        if not names:
            raise BundleError(
                f"{self.path}: no ONNX artefact for the onnxruntime backend; add one with "
                "harlite convert … --formats onnx"
            )
        return names[0]

    def runnable_names(self) -> list[str]:
        """Names of the artefacts the device runtime can run (TFLite, ONNX)."""
        return [n for n, a in self.artifacts.items() if a.is_runnable]

    def _check_tensors(self, artifact: Artifact, model: Model) -> None:
        """The manifest's window, channels and labels must be the model's real shapes."""
        where = f"{self.path}: artifact {artifact.name!r}"
        expected_in = (self.window, N_MODEL_CHANNELS)
        got_in = tuple(int(d) for d in model.input_details["shape"][1:])
        if got_in != expected_in:
            raise BundleError(
                f"{where} takes windows of shape {list(got_in)}, but the manifest's input.window "
                f"and channels say {list(expected_in)}"
            )
        classes = int(model.output_details["shape"][-1])
        if classes != len(self.labels):
            raise BundleError(
                f"{where} outputs {classes} classes, but the manifest's labels name "
                f"{len(self.labels)}"
            )
        normalization = artifact.input_normalization
        if normalization is not None and len(normalization[0]) != N_MODEL_CHANNELS:
            raise BundleError(
                f"{where}: input_normalization has {len(normalization[0])} values per field, "
                f"the model {N_MODEL_CHANNELS} channels"
            )

    def tflite_names(self) -> list[str]:
        """Names of the TFLite artefacts in this bundle."""
        return [n for n, a in self.artifacts.items() if a.is_tflite]


def sample_windows(bundle: Bundle, count: int = 64) -> np.ndarray:
    """Real windows to feed: the bundle's reference windows, else seeded noise."""
    reference = bundle.path / "reference.npz"
    if reference.is_file():
        with np.load(reference, allow_pickle=False) as data:
            windows = data["windows"].astype(np.float32)
        if len(windows):
            return np.resize(windows, (count, *windows.shape[1:]))
    rng = np.random.default_rng(0)
    return rng.standard_normal((count, bundle.window, N_MODEL_CHANNELS)).astype(np.float32)
