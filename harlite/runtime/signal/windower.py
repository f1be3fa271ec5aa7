"""The device's signal path from timestamped samples to labelled model windows.

:class:`StreamWindower` checks each sample, guards the clock, resamples onto the model's rate,
runs the preprocessing and cuts sliding windows, each with the label its samples carry.
:class:`~harlite.runtime.stream.StreamClassifier` is this path with a model at its end, and
training builds the windows of a recordings folder with it: what the device computes from a
recording is exactly what the model was trained on.
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from warnings import warn

import numpy as np
from numpy.typing import ArrayLike

from harlite.runtime.rows import NON_FINITE, OUT_OF_RANGE, TIME_OUT_OF_RANGE, LabelMap
from harlite.runtime.signal.clock import ACCEPT, BACKWARDS, HOLD, REFUSE, REPEATED, ClockGuard
from harlite.runtime.signal.input_check import InputCheck
from harlite.runtime.signal.preprocessing import FilterDesign, Preprocessor
from harlite.runtime.signal.resample import Resampler
from harlite.runtime.signal.sliding_window import SlidingWindow, WindowBatch
from harlite.runtime.spec import N_MODEL_CHANNELS

#: Largest plausible readings, in g and rad/s; phone sensors saturate at 8–32 g and
#: 35 rad/s (2000 °/s). A value beyond these is a glitch or a wrong unit.
ACC_LIMIT_G = 40.0
GYRO_LIMIT_RAD_S = 50.0
#: Largest plausible timestamp magnitude in seconds (epoch seconds are about 1.8e9; a
#: timestamp beyond 1e11 s, over 3,000 years, is a glitch or a wrong --time-unit).
TIME_LIMIT_S = 1e11

#: Default longest pause between two samples that is interpolated across, in seconds.
DEFAULT_MAX_GAP_S = 0.25


UNLABELLED = -1
#: Label names of an input outside the model's that are kept to name in a warning.
SHOWN_UNKNOWN_LABELS = 8

#: How a window gets its true label from its samples' labels:
#: ``uniform``: every sample carries the same label (windows across a change are unlabelled);
#: ``majority``: the label of more than half of its samples;
#: ``center``: the label of its middle sample (for activities shorter than a window).
WINDOW_LABEL_RULES = ("uniform", "majority", "center")


def window_labels(codes: np.ndarray, rule: str = "uniform") -> np.ndarray:
    """The label code of each window of per-sample ``codes`` (k, window) by ``rule``
    (:data:`WINDOW_LABEL_RULES`); :data:`UNLABELLED` where the rule gives none."""
    if rule not in WINDOW_LABEL_RULES:
        raise ValueError(f"unknown window label rule {rule!r}: choose from {WINDOW_LABEL_RULES}")
    codes = np.asarray(codes)
    if not len(codes):
        return np.empty(0, dtype=np.int64)
    if rule == "center":
        return codes[:, codes.shape[1] // 2].astype(np.int64)
    first = codes[:, 0].astype(np.int64)
    if rule == "uniform":
        uniform = (codes == codes[:, :1]).all(axis=1) & (first >= 0)
        return np.where(uniform, first, UNLABELLED)
    n_labels = int(codes.max()) + 1 if codes.size else 0
    counts = np.stack([(codes == c).sum(axis=1) for c in range(max(n_labels, 1))], axis=1)
    best = counts.argmax(axis=1)
    return np.where(counts[np.arange(len(codes)), best] * 2 > codes.shape[1], best, UNLABELLED)


@dataclass(frozen=True)
class LabelledWindows:
    """Windows a push completed, with their true label codes (:data:`UNLABELLED`: none).
    ``after_restart``: the windows restarted (a gap, a resync) since the batch before."""

    batch: WindowBatch
    codes: np.ndarray
    after_restart: bool = False


@dataclass(frozen=True)
class WindowedRows:
    """What one :meth:`StreamWindower.push` (or :meth:`~StreamWindower.flush`) made.

    ``windows``: the batches of windows it completed, in order; ``rejected``: (row, reason)
    of the samples it refused, the row being the line number when the push gave ``lines``,
    else the index in the push that brought the sample; ``warnings``: what looks wrong with
    the input, said for the first time. Iterating gives the window batches.
    """

    windows: list[LabelledWindows] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[LabelledWindows]:
        return iter(self.windows)

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> LabelledWindows:
        return self.windows[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):  # push() gave a list of window batches before 0.2
            return self.windows == other
        if isinstance(other, WindowedRows):
            return (self.windows, self.rejected, self.warnings) == (
                other.windows,
                other.rejected,
                other.warnings,
            )
        return NotImplemented


class LastResultViews:
    """0.1's drained attributes, ``last_rejected`` and ``new_warnings``, as deprecated views
    of what the last push or flush returned (``self._last``); they go in the next release.
    Setting one (0.1's ``= []`` after reading) replaces that part of the view."""

    _last: WindowedRows | Any

    @property
    def last_rejected(self) -> list[tuple[int, str]]:
        """Deprecated: the last push's or flush's ``rejected``, which they return."""
        self._deprecated("last_rejected", "rejected")
        return self._last.rejected

    @last_rejected.setter
    def last_rejected(self, value: list) -> None:
        self._deprecated("last_rejected", "rejected")
        self._last = replace(self._last, rejected=list(value))

    @property
    def new_warnings(self) -> list[str]:
        """Deprecated: the last push's or flush's ``warnings``, which they return."""
        self._deprecated("new_warnings", "warnings")
        return self._last.warnings

    @new_warnings.setter
    def new_warnings(self, value: list) -> None:
        self._deprecated("new_warnings", "warnings")
        self._last = replace(self._last, warnings=list(value))

    def _deprecated(self, old: str, field_name: str) -> None:
        warn(
            f"{type(self).__name__}.{old} is deprecated and goes in the next release: push() "
            f"and flush() return it (.{field_name} of the {type(self._last).__name__})",
            DeprecationWarning,
            stacklevel=3,
        )


class StreamWindower(LastResultViews):
    """Samples (time, acc xyz, gyro xyz) in; labelled model windows out.

    Args:
        design: the filter bank's settings (its rate is the model's rate).
        window, hop: window length and step in samples at the model's rate.
        labels: the known label names; a sample's label outside them counts as unlabelled.
        max_gap_s: a longer pause between samples restarts the windows instead of being
            interpolated across.
        window_label: how a window's label follows from its samples'
            (:data:`WINDOW_LABEL_RULES`).
        validated_rates_hz: the input rates the model was trained on (warned about below).
        allow_low_rate: classify input slower than
            :data:`~harlite.runtime.signal.input_check.MIN_RATE_HZ` instead of refusing it
            (:class:`~harlite.runtime.signal.input_check.LowRateError`).
        label_map: how the input's label names become :attr:`labels` (a data set's renames
            and ignores); None: taken as they are.

    Samples are in g and rad/s with timestamps in seconds at any rate. Bad samples (NaN/inf,
    implausible values, timestamps that go back or repeat) are refused and counted in
    :attr:`rejected`; the stream goes on. :meth:`push` returns what it made: the windows it
    completed, the samples it refused and new warnings (:class:`WindowedRows`).
    """

    def __init__(
        self,
        design: FilterDesign,
        window: int,
        hop: int,
        labels: Sequence[str],
        *,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        window_label: str = "uniform",
        validated_rates_hz: tuple[float, ...] = (),
        allow_low_rate: bool = False,
        label_map: LabelMap | None = None,
    ) -> None:
        if window_label not in WINDOW_LABEL_RULES:
            raise ValueError(
                f"unknown window label rule {window_label!r}: choose from "
                f"{', '.join(WINDOW_LABEL_RULES)}"
            )
        self.design = design
        self.window = window
        self.hop = hop
        self.labels = list(labels)
        self.max_gap_s = max_gap_s
        self.window_label = window_label
        self.validated_rates_hz = tuple(validated_rates_hz)
        self.allow_low_rate = allow_low_rate
        self.sample_rate_hz = design.sample_rate_hz
        self.label_map = label_map or LabelMap()
        self._codes = {name: i for i, name in enumerate(self.labels)}
        self.reset()

    def reset(self) -> None:
        """Start a new, unrelated stream (another recording)."""
        self._preprocessor = Preprocessor(self.design)
        self._windows = SlidingWindow(self.window, self.hop, N_MODEL_CHANNELS)
        self._label_windows = SlidingWindow(self.window, self.hop, 1, dtype=np.int16)
        self._resampler = Resampler(self.sample_rate_hz, self.max_gap_s)
        self._clock = ClockGuard(self.max_gap_s)
        self._held = _Held.empty()
        self._check = InputCheck(self.validated_rates_hz, self.allow_low_rate)
        self.samples = 0  #: accepted input samples
        self.rejected: Counter[str] = Counter()  #: refused samples by reason
        self.first_time: float | None = None
        #: the time of the stream's first accepted sample (kept across resyncs)
        self.origin_time: float | None = None
        self.last_time: float | None = None
        self._closed_seconds = 0.0  # signal time of the stretches before a resync
        self._steady_seconds = 0.0  # time covered by steps no longer than max_gap_s
        self._steady_steps = 0
        self._known_label_seen = False
        self._unknown_labels: dict[str, None] = {}  # in order of appearance, bounded
        self._label_warnings: list[str] = []
        self._restarted = False  # since the last batch of windows
        self._last = WindowedRows()  # what the last push or flush made

    @property
    def resyncs(self) -> int:
        """Times the input's clock went back for good (a sender restarted): each restarted
        the windows, like a gap."""
        return self._clock.resyncs

    @property
    def warnings(self) -> list[str]:
        """What looks wrong with the input (units, rate, labels), each said once."""
        return list(self._check.warnings) + self._label_warnings

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
        """Time between successive windows."""
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
        labels: Sequence[str | None] | None = None,
        lines: ArrayLike | None = None,
    ) -> WindowedRows:
        """Add samples; returns the windows they completed, the samples refused and new
        warnings.

        Args:
            rows: (n, 7) or one (7,) sample: time [s], acc x y z [g], gyro x y z [rad/s].
            labels: optional true label per row (None or a name outside :attr:`labels`
                means unlabelled); each window's label follows :attr:`window_label`.
            lines: optional line number per row, named with the rows refused.

        A sample whose timestamp does not follow the stream (back, repeated, or jumped
        ahead) is held until the samples after it show whether it was a glitch (refused) or
        the clock changed for good (a gap or a resync; see :mod:`harlite.runtime.signal.clock`).
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
        self._last = self._accept(candidates.select(accepted), verdict.resync[accepted], refused)
        return self._last

    def flush(self) -> WindowedRows:
        """The stream ended: samples still held are refused, and the input checks that need
        the whole stream are made. Returns those refusals and warnings (held samples never
        make windows)."""
        verdict = self._clock.finish()
        refused = self._held.refused(verdict.status, verdict.reasons)
        self._held = _Held.empty()
        self._count(refused)
        warnings = self._check.finish(self.samples, self.duration_s)
        if self._unknown_labels and not self._known_label_seen and not self._label_warnings:
            self._label_warnings = [self._unknown_labels_warning()]
            warnings = warnings + self._label_warnings
        self._last = WindowedRows([], sorted(refused), warnings)
        return self._last

    def _unknown_labels_warning(self) -> str:
        """The input's labels (after the label map) match none of the model's."""
        found = list(self._unknown_labels)
        more = ", …" if len(found) >= SHOWN_UNKNOWN_LABELS else ""
        return (
            f"the input's labels ({', '.join(found)}{more}) match none of the model's labels "
            f"({', '.join(self.labels)}): no window counts as labelled and no accuracy is "
            "given; map them to the model's with a data set's rename table "
            "(--data dataset.toml, docs/own-data.md)"
        )

    def _restart(self) -> None:
        """The windows restart (a gap, a resync): the filters start afresh."""
        self._restarted = True
        self._preprocessor.reset()
        self._windows.restart()
        self._label_windows.restart()

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

    def _count(self, refused: list[tuple[int, str]]) -> None:
        self.rejected.update(reason for _, reason in refused)

    def _accept(
        self, accepted: _Held, resync: np.ndarray, refused: list[tuple[int, str]]
    ) -> WindowedRows:
        """Window the accepted samples, stretch by stretch (a resync restarts)."""
        self._count(refused)
        warnings = self._check.add(accepted.rows)
        out: list[LabelledWindows] = []
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
                windows = self._window(piece.times, piece.values, piece.codes)
                if windows is not None:
                    out.append(windows)
        return WindowedRows(out, sorted(refused), warnings)

    def _resync(self) -> None:
        """The input's clock changed for good: close the stretch, start afresh."""
        self._closed_seconds += self.last_time - self.first_time
        self.first_time = self.last_time = None
        self._resampler.reset()
        self._restart()

    def _label_codes(self, labels: Sequence[str | None] | None, keep: np.ndarray) -> np.ndarray:
        """Label indices of the kept rows (UNLABELLED where none or unknown)."""
        if labels is None:
            return np.full(int(keep.sum()), UNLABELLED, dtype=np.int16)
        n = len(labels)
        if n == 0:
            return np.empty(0, dtype=np.int16)
        # A label holds for long runs of rows: look up each run's label once.
        changed = np.fromiter(map(operator.ne, labels[1:], labels[:-1]), bool, n - 1)
        starts = np.concatenate(([0], np.flatnonzero(changed) + 1))
        run_codes = np.array([self._code_of(labels[i]) for i in starts], dtype=np.int16)
        return np.repeat(run_codes, np.diff(np.append(starts, n)))[keep]

    def _code_of(self, label: str | None) -> int:
        """A label's code by the label map (UNLABELLED: none, ignored, or not the model's,
        which is noted for the warning)."""
        name = self.label_map.class_of(label)
        if name is None:
            return UNLABELLED
        code = self._codes.get(name, UNLABELLED)
        if code != UNLABELLED:
            self._known_label_seen = True
        elif len(self._unknown_labels) < SHOWN_UNKNOWN_LABELS:
            self._unknown_labels[name] = None
        return code

    def _note_times(self, times: np.ndarray) -> None:
        if self.origin_time is None:
            self.origin_time = float(times[0])
        if self.first_time is None:
            self.first_time = float(times[0])
        steps = np.diff(times, prepend=times[0] if self.last_time is None else self.last_time)
        steady = steps[(steps > 0) & (steps <= self._resampler.max_gap_s)]
        self._steady_steps += len(steady)
        self._steady_seconds += float(steady.sum())
        self.last_time = float(times[-1])

    def _window(
        self, times: np.ndarray, values: np.ndarray, codes: np.ndarray
    ) -> LabelledWindows | None:
        features = self._preprocessor.process(values)
        batch = self._windows.push(features, times)
        label_batch = self._label_windows.push(codes[:, np.newaxis])
        if len(batch) == 0:
            return None
        true_codes = window_labels(label_batch.data[:, :, 0], self.window_label)
        restarted, self._restarted = self._restarted, False
        return LabelledWindows(batch, true_codes, restarted)


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
