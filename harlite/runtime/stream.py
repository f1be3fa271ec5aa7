"""Classify a live stream of accelerometer and gyroscope samples, window by window.

:class:`StreamClassifier` is the whole device pipeline in one object: it checks each sample,
resamples the stream onto the model's rate, runs the training preprocessing, cuts sliding
windows and classifies each complete window with a TFLite artefact of a bundle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from harlite.errors import SettingError
from harlite.runtime.model.backend_choice import AUTO, BackendChoice, choose_backend
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.model.unsure import unsure
from harlite.runtime.rows import LabelMap
from harlite.runtime.signal.clock import BACKWARDS, REPEATED
from harlite.runtime.signal.domain_check import DomainCheck
from harlite.runtime.signal.placement import AUTO as AUTO_PLACEMENT
from harlite.runtime.signal.placement import (
    PLACEMENTS,
    PlacementRule,
    window_gravity,
    window_swing,
)
from harlite.runtime.signal.smoothing import Smoother, parse_smoothing
from harlite.runtime.signal.windower import (
    ACC_LIMIT_G,
    DEFAULT_MAX_GAP_S,
    GYRO_LIMIT_RAD_S,
    NON_FINITE,
    OUT_OF_RANGE,
    TIME_LIMIT_S,
    TIME_OUT_OF_RANGE,
    UNLABELLED,
    WINDOW_LABEL_RULES,
    LabelledWindows,
    LastResultViews,
    StreamWindower,
    WindowedRows,
)

__all__ = [
    "ACC_LIMIT_G",
    "BACKWARDS",
    "DEFAULT_MAX_GAP_S",
    "GYRO_LIMIT_RAD_S",
    "NON_FINITE",
    "OUT_OF_RANGE",
    "REPEATED",
    "TIME_LIMIT_S",
    "TIME_OUT_OF_RANGE",
    "UNLABELLED",
    "ClassifierSettings",
    "Prediction",
    "PushResult",
    "StreamClassifier",
]


@dataclass(frozen=True)
class ClassifierSettings:
    """How a :class:`StreamClassifier` runs a bundle: the one list of its settings, shared
    by the library, ``harlite stream``/``batch`` and batch workers in other processes.

    Attributes:
        artifact: the TFLite artefact to run (None: the manifest's default).
        backend: ``ai_edge_litert``, ``tflite_runtime`` or ``tensorflow`` for TFLite
            artefacts, ``onnxruntime`` for the ONNX artefact, ``auto`` for the fastest of them
            on this host (measured once, then cached), or None: the first TFLite interpreter
            found.
        threads: interpreter threads (None: the backend's default).
        hop: samples between window starts (None: the bundle's, 50% overlap).
        smoothing: ``mean:K`` or ``vote:K`` over successive predictions, or None.
        max_gap_s: a longer pause between samples restarts the windows instead of being
            interpolated across.
        batch_size: windows per interpreter call where the artefact allows it (ONNX artefacts
            take any batch; harlite's TFLite artefacts have a fixed batch of 1); larger
            batches are faster over files, and a live stream's single windows go at once.
        window_label: how a labelled input's windows get their true label
            (:data:`~harlite.runtime.signal.windower.WINDOW_LABEL_RULES`; training on a recordings
            folder uses the same rule).
        allow_low_rate: classify input slower than 10 Hz (with a warning) instead of
            refusing it.
        placement: where the phone is carried: ``auto`` (found from the stream's walking),
            ``pocket`` or ``waist``, then still postures follow from the body's tilt; ``off``:
            the model's answer unchanged (:mod:`harlite.runtime.signal.placement`).
        label_map: how a labelled input's label names become the model's classes (a data
            set's renames and ignores; ``harlite stream --data``); None: as they are.
    """

    artifact: str | None = None
    backend: str | None = None
    threads: int | None = 1
    hop: int | None = None
    smoothing: str | None = None
    max_gap_s: float = DEFAULT_MAX_GAP_S
    batch_size: int = 1
    window_label: str = "uniform"
    allow_low_rate: bool = False
    placement: str = AUTO_PLACEMENT
    label_map: LabelMap | None = None

    def __post_init__(self) -> None:
        if isinstance(self.smoothing, Smoother):  # accept a Smoother: keep its spec
            object.__setattr__(self, "smoothing", self.smoothing.spec)
        try:
            parse_smoothing(self.smoothing)
        except ValueError as error:
            raise SettingError("smoothing", str(error)) from None
        if not (np.isfinite(self.max_gap_s) and self.max_gap_s > 0):
            raise SettingError(
                "max_gap_s", f"must be a positive number of seconds, not {self.max_gap_s}"
            )
        for name in ("threads", "hop"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SettingError(name, f"must be at least 1, not {value}")
        if self.batch_size < 1:
            raise SettingError("batch_size", f"must be at least 1, not {self.batch_size}")
        if self.placement not in PLACEMENTS:
            raise SettingError(
                "placement", f"must be one of {', '.join(PLACEMENTS)}, not {self.placement!r}"
            )
        if self.window_label not in WINDOW_LABEL_RULES:
            raise SettingError(
                "window_label",
                f"must be one of {', '.join(WINDOW_LABEL_RULES)}, not {self.window_label!r}",
            )

    def changed(self, **changes: Any) -> ClassifierSettings:
        """A copy with the given settings changed."""
        return replace(self, **changes) if changes else self

    def prediction_key(self) -> dict[str, Any]:
        """The settings that change predictions (threads and batch size do not: a batch
        gives exactly the predictions of its windows one by one)."""
        key = {k: v for k, v in asdict(self).items() if k not in ("threads", "batch_size")}
        if self.label_map is None:  # the key of outputs made before there was a label map
            del key["label_map"]
        return key


@dataclass(frozen=True)
class Prediction:
    """The classification of one window.

    Times are those of the window's first and last sample (seconds, in the stream's clock).
    ``latency_ms`` is the inference time per window (a batch's time divided by its windows).
    ``true_label`` is the window's label by the settings' ``window_label`` rule (labelled input).
    ``smoothed_label``/``smoothed_confidence`` are set when smoothing is on. ``placement`` is
    where the phone was carried when this window was classified, once known
    (:mod:`harlite.runtime.signal.placement`). ``t_rel`` is ``end_time`` in seconds from the
    recording's first accepted sample. ``unsure``: the top probability is below
    :data:`~harlite.runtime.model.unsure.UNSURE_BELOW`: check that answer.
    """

    index: int
    start_time: float
    end_time: float
    label: str
    confidence: float
    probabilities: np.ndarray
    latency_ms: float
    true_label: str | None = None
    smoothed_label: str | None = None
    smoothed_confidence: float | None = None
    placement: str | None = None
    t_rel: float | None = None
    unsure: bool = False

    def to_dict(self, labels: list[str]) -> dict:
        """Plain JSON types; probabilities keyed by label, rounded to 5 decimals."""
        record = {
            "window": self.index,
            "start_time": round(self.start_time, 6),
            "end_time": round(self.end_time, 6),
            **({} if self.t_rel is None else {"t_rel": round(self.t_rel, 6)}),
            "label": self.label,
            "confidence": round(self.confidence, 5),
            "probabilities": {
                name: round(p, 5)
                for name, p in zip(labels, self.probabilities.tolist(), strict=True)
            },
            "latency_ms": round(self.latency_ms, 4),
        }
        if self.smoothed_label is not None:
            record["smoothed_label"] = self.smoothed_label
            record["smoothed_confidence"] = round(self.smoothed_confidence, 5)
        if self.true_label is not None:
            record["true_label"] = self.true_label
        if self.placement is not None:
            record["placement"] = self.placement
        if self.unsure:
            record["unsure"] = True
        return record


@dataclass(frozen=True)
class PushResult:
    """What one :meth:`StreamClassifier.push` (or :meth:`~StreamClassifier.flush`) made.

    ``predictions``: one per window the samples completed, in order; ``rejected``: (row,
    reason) of the samples refused, the row being the line number when the push gave
    ``lines``, else the index in the push that brought the sample; ``warnings``: what looks
    wrong with the input, said for the first time. Iterating, ``len`` and indexing go to the
    predictions, so ``for p in classifier.push(rows)`` reads as before.
    """

    predictions: list[Prediction] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Prediction]:
        return iter(self.predictions)

    def __len__(self) -> int:
        return len(self.predictions)

    def __getitem__(self, index: int) -> Prediction:
        return self.predictions[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):  # push() gave a list of predictions before 0.2
            return self.predictions == other
        if isinstance(other, PushResult):
            return (self.predictions, self.rejected, self.warnings) == (
                other.predictions,
                other.rejected,
                other.warnings,
            )
        return NotImplemented

    def __radd__(self, earlier: list[Prediction]) -> list[Prediction]:
        """Predictions gathered in a list, then these (``predictions + flush()``)."""
        return [*earlier, *self.predictions]

    def __add__(self, later: PushResult) -> PushResult:
        """This result followed by a later one (``push(rows) + flush()``)."""
        return PushResult(
            self.predictions + later.predictions,
            self.rejected + later.rejected,
            self.warnings + later.warnings,
        )


def _from_windower(name: str, doc: str) -> property:
    """A read-only attribute of the classifier that is its windower's."""
    return property(lambda self: getattr(self.windower, name), doc=doc)


class StreamClassifier(LastResultViews):
    """Classify a stream of (time, acc xyz, gyro xyz) samples with a bundle's model.

    Args:
        bundle: a bundle folder or an open :class:`Bundle`.
        settings: how to run it (:class:`ClassifierSettings`; default settings if None).
        **changes: settings to change, by name (``artifact="int8"``, ``hop=32``…).

    Samples are in g and rad/s, with timestamps in seconds at any rate (they are resampled
    to the model's rate). Bad samples (NaN/inf, implausible values, timestamps that go back or
    repeat) are refused, returned and counted in :attr:`rejected`; the stream goes on. Every
    complete window of accepted samples gives exactly one :class:`Prediction`. The path from
    samples to windows is :attr:`windower`, a
    :class:`~harlite.runtime.signal.windower.StreamWindower`, the one training uses.

    Example:
        >>> classifier = StreamClassifier("harlite/models/lstm")
        >>> for p in classifier.push(rows):      # rows: (n, 7) t, acc xyz, gyro xyz
        ...     print(p.end_time, p.label, p.confidence)
    """

    def __init__(
        self,
        bundle: str | Path | Bundle,
        settings: ClassifierSettings | None = None,
        **changes: Any,
    ) -> None:
        self.settings = (settings or ClassifierSettings()).changed(**changes)
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle.open(bundle)
        self._load_model()
        hop = self.settings.hop or self.bundle.hop
        if not 1 <= hop <= self.bundle.window:
            raise SettingError("hop", f"must lie in 1..{self.bundle.window}, not {hop}")
        self.smoother = parse_smoothing(self.settings.smoothing)
        self.placement_rule = PlacementRule(self.bundle.labels, self.settings.placement)
        domain = self.bundle.domain
        self.domain_check = DomainCheck(domain) if domain is not None else None
        #: samples to windows: checks, clock, resampling, filters, windows
        self.windower = StreamWindower(
            self.bundle.design,
            self.bundle.window,
            hop,
            self.bundle.labels,
            max_gap_s=self.settings.max_gap_s,
            window_label=self.settings.window_label,
            validated_rates_hz=domain.input_rates_hz if domain else (),
            allow_low_rate=self.settings.allow_low_rate,
            label_map=self.settings.label_map,
        )
        self.reset()

    def _load_model(self) -> None:
        #: What ``backend="auto"`` measured and picked (None for a named backend).
        self.backend_choice: BackendChoice | None = None
        if self.settings.backend == AUTO:
            self.backend_choice, self.model = choose_backend(
                self.bundle, self.settings.artifact, self.settings.threads
            )
            self.artifact = self.backend_choice.artifact
        else:
            self.model = self.bundle.load_model(
                self.settings.artifact, backend=self.settings.backend, threads=self.settings.threads
            )
            self.artifact = self.bundle.artifact_for(
                self.settings.artifact, self.settings.backend
            ).name
        batch_size = self.settings.batch_size
        self.batch_size = batch_size if batch_size > 1 and self.model.resize(batch_size) else 1
        if self.batch_size == 1:
            self.model.resize(1)

    def reset(self) -> None:
        """Start a new, unrelated stream (another recording) with the same loaded model."""
        self.windower.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self.windows = 0  #: predictions made
        self.unsure_windows = 0  #: predictions whose answer is unsure
        if self.domain_check is not None:
            self.domain_check.reset()
        self.placement_rule.reset()
        self._last = PushResult()  # what the last push or flush made

    def push(
        self,
        rows: ArrayLike,
        labels: Sequence[str | None] | None = None,
        lines: ArrayLike | None = None,
    ) -> PushResult:
        """Add samples; returns the predictions of the windows they completed, the samples
        refused and new warnings.

        Args:
            rows: (n, 7) or one (7,) sample: time [s], acc x y z [g], gyro x y z [rad/s].
            labels: optional true label per row (each prediction's ``true_label``).
            lines: optional line number per row, named with the rows refused.

        A sample whose timestamp does not follow the stream is held until the samples after
        it decide (see :mod:`harlite.runtime.signal.clock`). Call :meth:`flush` at the end.
        """
        self._last = self._classified(self.windower.push(rows, labels, lines))
        return self._last

    def flush(self) -> PushResult:
        """The stream ended: samples still held are refused, and the checks that need the
        whole stream are made; returns those refusals and warnings."""
        step = self.windower.flush()
        extra = self.domain_check.finish() if self.domain_check is not None else []
        self._last = PushResult([], step.rejected, step.warnings + extra)
        return self._last

    def check(self, rows: np.ndarray) -> list[tuple[int, str]]:
        """The rows :meth:`push` would refuse at once (see
        :meth:`~harlite.runtime.signal.windower.StreamWindower.check`)."""
        return self.windower.check(rows)

    @property
    def out_of_distribution_windows(self) -> int | None:
        """Windows unlike the model's training data so far (None: the bundle does not say
        what it was trained on)."""
        return None if self.domain_check is None else self.domain_check.unlike

    @property
    def warnings(self) -> list[str]:
        """What looks wrong with the input (units, rate, unlike training), each said once."""
        extra = self.domain_check.warnings if self.domain_check is not None else []
        return self.windower.warnings + extra

    @property
    def backend(self) -> str:
        """The interpreter backend in use."""
        return self.model.backend

    @property
    def labels(self) -> list[str]:
        """The model's class names, in output order."""
        return self.windower.labels

    # The stream's tallies, kept by the windower.
    samples = _from_windower("samples", "Accepted input samples.")
    rejected = _from_windower("rejected", "Refused samples by reason.")
    gaps = _from_windower("gaps", "Pauses that restarted the windows.")
    resyncs = _from_windower("resyncs", "Times the clock went back.")
    duration_s = _from_windower("duration_s", "Seconds accepted.")
    input_rate_hz = _from_windower("input_rate_hz", "Input rate (Hz).")
    hop_seconds = _from_windower("hop_seconds", "Time between windows.")
    max_gap_s = _from_windower("max_gap_s", "Longest pause bridged.")
    first_time = _from_windower("first_time", "This stretch's start.")
    last_time = _from_windower("last_time", "Last accepted time.")
    origin_time = _from_windower("origin_time", "First accepted time.")
    # The windower's settings, read as the classifier's own before 0.2 (it inherited them).
    window = _from_windower("window", "Window length in samples.")
    hop = _from_windower("hop", "Samples between window starts.")
    sample_rate_hz = _from_windower("sample_rate_hz", "Model rate (Hz).")
    design = _from_windower("design", "The filter bank's settings.")
    window_label = _from_windower("window_label", "Window label rule.")
    label_map = _from_windower("label_map", "Input labels → model's.")
    allow_low_rate = _from_windower("allow_low_rate", "Below 10 Hz ok.")
    validated_rates_hz = _from_windower(
        "validated_rates_hz", "Input rates the model was trained on."
    )

    def _classified(self, step: WindowedRows) -> PushResult:
        predictions: list[Prediction] = []
        warnings = list(step.warnings)
        for windows in step.windows:
            if windows.after_restart and self.smoother is not None:
                self.smoother.reset()
            predictions += self._predict(windows, warnings)
        return PushResult(predictions, step.rejected, warnings)

    def _predict(self, windows: LabelledWindows, warnings: list[str]) -> list[Prediction]:
        batch, true_codes = windows.batch, windows.codes
        started = time.perf_counter()
        probabilities = self.model.predict(batch.data)
        latency_ms = (time.perf_counter() - started) * 1000 / len(batch)
        probabilities, placements = self.placement_rule.apply(
            probabilities, window_gravity(batch.data), window_swing(batch.data)
        )
        if self.domain_check is not None:
            warnings += self.domain_check.add(batch.data)
        hesitant = unsure(probabilities)
        self.unsure_windows += int(hesitant.sum())
        predictions = []
        for i, probs in enumerate(probabilities):
            best = int(np.argmax(probs))
            smoothed = self.smoother.update(probs) if self.smoother is not None else None
            predictions.append(
                Prediction(
                    index=self.windows,
                    start_time=float(batch.start_time[i]),
                    end_time=float(batch.end_time[i]),
                    label=self.labels[best],
                    confidence=float(probs[best]),
                    probabilities=probs,
                    latency_ms=latency_ms,
                    true_label=self.labels[true_codes[i]] if true_codes[i] >= 0 else None,
                    smoothed_label=None if smoothed is None else self.labels[smoothed[0]],
                    smoothed_confidence=None if smoothed is None else smoothed[1],
                    placement=placements[i],
                    t_rel=float(batch.end_time[i]) - self.origin_time,
                    unsure=bool(hesitant[i]),
                )
            )
            self.windows += 1
        return predictions
