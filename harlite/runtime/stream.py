"""Classify a live stream of accelerometer and gyroscope samples, window by window.

:class:`StreamClassifier` is the whole device pipeline in one object: it checks each sample,
resamples the stream onto the model's rate, runs the training preprocessing, cuts sliding
windows and classifies each complete window with a TFLite artefact of a bundle.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from harlite.errors import SettingError
from harlite.runtime.bundle import Bundle
from harlite.runtime.clock import ACCEPT, BACKWARDS, HOLD, REFUSE, REPEATED, ClockGuard
from harlite.runtime.input_check import InputCheck
from harlite.runtime.preprocessing import Preprocessor
from harlite.runtime.resample import Resampler
from harlite.runtime.smoothing import Smoother, parse_smoothing
from harlite.runtime.spec import N_MODEL_CHANNELS
from harlite.runtime.windowing import SlidingWindow

#: Largest plausible readings, in g and rad/s; phone sensors saturate at 8–32 g and
#: 35 rad/s (2000 °/s). A value beyond these is a glitch or a wrong unit.
ACC_LIMIT_G = 40.0
GYRO_LIMIT_RAD_S = 50.0
#: Largest plausible timestamp magnitude in seconds (epoch seconds are about 1.8e9; a
#: timestamp beyond 1e11 s, over 3,000 years, is a glitch or a wrong --time-unit).
TIME_LIMIT_S = 1e11

#: Default longest pause between two samples that is interpolated across, in seconds.
DEFAULT_MAX_GAP_S = 0.25

#: Reasons a sample is refused (the keys of the summary's ``bad_row_reasons``).
NON_FINITE = "non-finite value"
OUT_OF_RANGE = "value out of plausible sensor range"
TIME_OUT_OF_RANGE = "timestamp out of plausible range"

UNLABELLED = -1


@dataclass(frozen=True)
class ClassifierSettings:
    """How a :class:`StreamClassifier` runs a bundle: the one list of its settings, shared
    by the library, ``harlite stream``/``batch`` and batch workers in other processes.

    Attributes:
        artifact: the TFLite artefact to run (None: the manifest's default).
        backend: ``ai_edge_litert``, ``tflite_runtime`` or ``tensorflow`` (None: first found).
        threads: interpreter threads (None: the backend's default).
        hop: samples between window starts (None: the bundle's, 50% overlap).
        smoothing: ``mean:K`` or ``vote:K`` over successive predictions, or None.
        max_gap_s: a longer pause between samples restarts the windows instead of being
            interpolated across.
        batch_size: windows per interpreter call where the artefact allows a resize; larger
            batches are faster over files, 1 gives the lowest latency live.
    """

    artifact: str | None = None
    backend: str | None = None
    threads: int | None = 1
    hop: int | None = None
    smoothing: str | None = None
    max_gap_s: float = DEFAULT_MAX_GAP_S
    batch_size: int = 1

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

    def changed(self, **changes: Any) -> ClassifierSettings:
        """A copy with the given settings changed."""
        return replace(self, **changes) if changes else self

    def prediction_key(self) -> dict[str, Any]:
        """The settings that change predictions (threads do not)."""
        return {k: v for k, v in asdict(self).items() if k != "threads"}


@dataclass(frozen=True)
class Prediction:
    """The classification of one window.

    Times are those of the window's first and last sample (seconds, in the stream's clock).
    ``latency_ms`` is the inference time per window (a batch's time divided by its windows).
    ``true_label`` is set when every sample of the window carried the same known label.
    ``smoothed_label``/``smoothed_confidence`` are set when smoothing is on.
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

    def to_dict(self, labels: list[str]) -> dict:
        """Plain JSON types; probabilities keyed by label, rounded to 5 decimals."""
        record = {
            "window": self.index,
            "start_time": round(self.start_time, 6),
            "end_time": round(self.end_time, 6),
            "label": self.label,
            "confidence": round(self.confidence, 5),
            "probabilities": {
                name: round(float(p), 5) for name, p in zip(labels, self.probabilities, strict=True)
            },
            "latency_ms": round(self.latency_ms, 4),
        }
        if self.smoothed_label is not None:
            record["smoothed_label"] = self.smoothed_label
            record["smoothed_confidence"] = round(self.smoothed_confidence, 5)
        if self.true_label is not None:
            record["true_label"] = self.true_label
        return record


class StreamClassifier:
    """Classify a stream of (time, acc xyz, gyro xyz) samples with a bundle's model.

    Args:
        bundle: a bundle folder or an open :class:`Bundle`.
        settings: how to run it (:class:`ClassifierSettings`; default settings if None).
        **changes: settings to change, by name (``artifact="int8"``, ``hop=32``…).

    Samples are in g and rad/s, with timestamps in seconds at any rate (they are resampled
    to the model's rate). Bad samples (NaN/inf, implausible values, timestamps that go back or
    repeat) are refused and counted in :attr:`rejected`; the stream goes on. Every complete
    window of accepted samples gives exactly one :class:`Prediction`.

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
        self.artifact = self.bundle.artifact(self.settings.artifact).name
        self.model = self.bundle.load_tflite(
            self.artifact, backend=self.settings.backend, threads=self.settings.threads
        )
        batch_size = self.settings.batch_size
        self.batch_size = batch_size if batch_size > 1 and self.model.resize(batch_size) else 1
        self.labels = self.bundle.labels
        self._codes = {name: i for i, name in enumerate(self.labels)}
        self.hop = self.settings.hop or self.bundle.hop
        if not 1 <= self.hop <= self.bundle.window:
            raise SettingError("hop", f"must lie in 1..{self.bundle.window}, not {self.hop}")
        self.sample_rate_hz = self.bundle.sample_rate_hz
        self.smoother = parse_smoothing(self.settings.smoothing)
        self.max_gap_s = self.settings.max_gap_s
        self.reset()

    def reset(self) -> None:
        """Start a new, unrelated stream (another recording) with the same loaded model."""
        self._preprocessor = Preprocessor(self.bundle.design)
        self._windows = SlidingWindow(self.bundle.window, self.hop, N_MODEL_CHANNELS)
        self._label_windows = SlidingWindow(self.bundle.window, self.hop, 1, dtype=np.int16)
        self._resampler = Resampler(self.sample_rate_hz, self.max_gap_s)
        self._clock = ClockGuard(self.max_gap_s)
        self._held = _Held.empty()
        self._check = InputCheck()
        if self.smoother is not None:
            self.smoother.reset()
        self.samples = 0  #: accepted input samples
        self.windows = 0  #: predictions made
        self.rejected: Counter[str] = Counter()  #: refused samples by reason
        #: (row, reason) of the samples refused by the last push: the row's line number when
        #: the push gave ``lines``, else its index in the push that brought it.
        self.last_rejected: list[tuple[int, str]] = []
        self.new_warnings: list[str] = []  #: warnings the last push or flush raised
        self.first_time: float | None = None
        self.last_time: float | None = None
        self._closed_seconds = 0.0  # signal time of the stretches before a resync
        self._steady_seconds = 0.0  # time covered by steps no longer than max_gap_s
        self._steady_steps = 0

    @property
    def backend(self) -> str:
        """The interpreter backend in use."""
        return self.model.backend

    @property
    def resyncs(self) -> int:
        """Times the input's clock went back for good (a sender restarted): each restarted
        the windows, like a gap."""
        return self._clock.resyncs

    @property
    def warnings(self) -> list[str]:
        """What looks wrong with the input (units, rate), each said once."""
        return list(self._check.warnings)

    @property
    def duration_s(self) -> float:
        """Seconds of signal accepted (the stretches between resyncs added up)."""
        if self.first_time is None:
            return 0.0
        return self._closed_seconds + self.last_time - self.first_time

    @property
    def gaps(self) -> int:
        """Pauses longer than ``max_gap_s`` seen so far (each restarted the windows)."""
        return self._resampler.gaps

    @property
    def input_rate_hz(self) -> float | None:
        """The input's sample rate, from the steps between accepted samples (gaps excluded)."""
        if self._steady_steps == 0 or self._steady_seconds <= 0:
            return None
        return self._steady_steps / self._steady_seconds

    @property
    def hop_seconds(self) -> float:
        """Time between successive predictions."""
        return self.hop / self.sample_rate_hz

    def check(self, rows: np.ndarray) -> list[tuple[int, str]]:
        """The rows :meth:`push` would refuse at once, as (row index, reason), without
        pushing: bad values, and timestamps not after every earlier one (``--strict``)."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 7)
        reasons = self._bad_values(rows)
        ok = reasons == ""
        times = rows[:, 0]
        # A sample is in order when it is later than every earlier accepted one; refused
        # samples never raise that bound, so a running maximum over the valid rows gives it.
        start = -np.inf if self._clock.last is None else self._clock.last
        bounds = np.maximum.accumulate(np.concatenate(([start], np.where(ok, times, -np.inf))))
        before = bounds[:-1]
        reasons[ok & (times < before)] = BACKWARDS
        reasons[ok & (times == before)] = REPEATED
        return [(int(i), reasons[i]) for i in np.flatnonzero(reasons != "")]

    def push(
        self,
        rows: ArrayLike,
        labels: list[str | None] | None = None,
        lines: ArrayLike | None = None,
    ) -> list[Prediction]:
        """Add samples and return the predictions of the windows they completed.

        Args:
            rows: (n, 7) or one (7,) sample: time [s], acc x y z [g], gyro x y z [rad/s].
            labels: optional true activity per row (None or a name outside the model's labels
                means unlabelled); windows whose samples all carry one label report it.
            lines: optional line number per row, used in :attr:`last_rejected`.

        A sample whose timestamp does not follow the stream (back, repeated, or jumped
        ahead) is held until the samples after it show whether it was a glitch (refused) or
        the clock changed for good (a gap or a resync; see :mod:`harlite.runtime.clock`).
        Call :meth:`flush` when the stream ends.
        """
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim == 1:
            rows = rows[np.newaxis]
        if rows.ndim != 2 or rows.shape[1] != 7:
            raise ValueError(
                f"rows must have shape (n, 7): time, acc xyz, gyro xyz; not {rows.shape}"
            )
        if labels is not None and len(labels) != len(rows):
            raise ValueError(f"{len(labels)} labels for {len(rows)} rows")
        tags = np.arange(len(rows)) if lines is None else np.asarray(lines, dtype=np.int64)
        reasons = self._bad_values(rows)
        ok = reasons == ""
        refused = [(int(tags[i]), reasons[i]) for i in np.flatnonzero(~ok)]
        candidates = self._held.then(rows[ok], self._label_codes(labels, ok), tags[ok])
        verdict = self._clock.admit(rows[ok, 0])
        refused += candidates.refused(verdict.status, verdict.reasons)
        self._held = candidates.select(verdict.status == HOLD)
        accepted = verdict.status == ACCEPT
        return self._accept(candidates.select(accepted), verdict.resync[accepted], refused)

    def flush(self) -> list[Prediction]:
        """The stream ended: samples still held are refused, and the input checks that need
        the whole stream are made (see :attr:`new_warnings`). Returns no predictions (held
        samples never make windows); the list keeps :meth:`push`'s form."""
        verdict = self._clock.finish()
        refused = self._held.refused(verdict.status, verdict.reasons)
        self._held = _Held.empty()
        self._report(refused)
        self.new_warnings = self._check.finish(self.samples, self.duration_s)
        return []

    def _bad_values(self, rows: np.ndarray) -> np.ndarray:
        """Per row, why its values are refused ("" where they are fine)."""
        reasons = np.full(len(rows), "", dtype=object)
        finite = np.isfinite(rows).all(axis=1)
        reasons[~finite] = NON_FINITE
        with np.errstate(invalid="ignore"):
            implausible = (np.abs(rows[:, 1:4]) > ACC_LIMIT_G).any(axis=1) | (
                np.abs(rows[:, 4:7]) > GYRO_LIMIT_RAD_S
            ).any(axis=1)
            far_time = np.abs(rows[:, 0]) > TIME_LIMIT_S
        reasons[finite & implausible] = OUT_OF_RANGE
        reasons[finite & ~implausible & far_time] = TIME_OUT_OF_RANGE
        return reasons

    def _report(self, refused: list[tuple[int, str]]) -> None:
        self.last_rejected = sorted(refused)
        self.rejected.update(reason for _, reason in refused)

    def _accept(
        self, accepted: _Held, resync: np.ndarray, refused: list[tuple[int, str]]
    ) -> list[Prediction]:
        """Classify the accepted samples, stretch by stretch (a resync restarts)."""
        self._report(refused)
        self.new_warnings = self._check.add(accepted.rows)
        predictions: list[Prediction] = []
        starts = sorted({0, *np.flatnonzero(resync).tolist(), len(accepted.rows)})
        for a, b in itertools.pairwise(starts):
            if resync[a]:
                self._resync()
            good, codes = accepted.rows[a:b], accepted.codes[a:b]
            self._note_times(good[:, 0])
            self.samples += len(good)
            for piece in self._resampler.push(good[:, 0], good[:, 1:], codes):
                if piece.restart:
                    self._restart()
                predictions.extend(self._classify(piece.times, piece.values, piece.codes))
        return predictions

    def _resync(self) -> None:
        """The input's clock changed for good: close the stretch, start afresh."""
        self._closed_seconds += self.last_time - self.first_time
        self.first_time = self.last_time = None
        self._resampler.reset()
        self._restart()

    def _label_codes(self, labels: list[str | None] | None, keep: np.ndarray) -> np.ndarray:
        """Label indices of the kept rows (UNLABELLED where none or unknown)."""
        if labels is None:
            return np.full(int(keep.sum()), UNLABELLED, dtype=np.int16)
        codes = self._codes
        return np.array(
            [codes.get(label, UNLABELLED) for label, k in zip(labels, keep, strict=True) if k],
            dtype=np.int16,
        )

    def _note_times(self, times: np.ndarray) -> None:
        if self.first_time is None:
            self.first_time = float(times[0])
        steps = np.diff(times, prepend=times[0] if self.last_time is None else self.last_time)
        steady = steps[(steps > 0) & (steps <= self._resampler.max_gap_s)]
        self._steady_steps += len(steady)
        self._steady_seconds += float(steady.sum())
        self.last_time = float(times[-1])

    def _restart(self) -> None:
        self._preprocessor.reset()
        self._windows.restart()
        self._label_windows.restart()
        if self.smoother is not None:
            self.smoother.reset()

    def _classify(
        self, times: np.ndarray, values: np.ndarray, codes: np.ndarray
    ) -> list[Prediction]:
        features = self._preprocessor.process(values)
        batch = self._windows.push(features, times)
        label_batch = self._label_windows.push(codes[:, np.newaxis])
        if len(batch) == 0:
            return []
        started = time.perf_counter()
        probabilities = self.model.predict(batch.data)
        latency_ms = (time.perf_counter() - started) * 1000 / len(batch)
        window_codes = label_batch.data[:, :, 0]
        uniform = (window_codes == window_codes[:, :1]).all(axis=1) & (window_codes[:, 0] >= 0)
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
                    true_label=self.labels[window_codes[i, 0]] if uniform[i] else None,
                    smoothed_label=None if smoothed is None else self.labels[smoothed[0]],
                    smoothed_confidence=None if smoothed is None else smoothed[1],
                )
            )
            self.windows += 1
        return predictions


@dataclass(frozen=True)
class _Held:
    """Samples in arrival order with their label codes and line tags."""

    rows: np.ndarray
    codes: np.ndarray
    tags: np.ndarray

    @classmethod
    def empty(cls) -> _Held:
        return cls(np.empty((0, 7)), np.empty(0, np.int16), np.empty(0, np.int64))

    def then(self, rows: np.ndarray, codes: np.ndarray, tags: np.ndarray) -> _Held:
        """These samples followed by newer ones."""
        if not len(self.rows):
            return _Held(rows, codes, tags)
        return _Held(
            np.concatenate((self.rows, rows)),
            np.concatenate((self.codes, codes)),
            np.concatenate((self.tags, tags)),
        )

    def select(self, mask: np.ndarray) -> _Held:
        if mask.all():  # the common case: every sample accepted, nothing to copy
            return self
        return _Held(self.rows[mask], self.codes[mask], self.tags[mask])

    def refused(self, status: np.ndarray, reasons: np.ndarray) -> list[tuple[int, str]]:
        return [(int(self.tags[i]), reasons[i]) for i in np.flatnonzero(status == REFUSE)]
