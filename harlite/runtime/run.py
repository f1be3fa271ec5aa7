"""One streaming run: a source through a :class:`StreamClassifier` into sinks, with the
accounting of every row (classified, or bad with its line and reason) and a summary.

:func:`classify_recording` is the one way a recording becomes a predictions file and a
summary: ``harlite stream``, ``harlite batch`` and the pipeline all call it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from harlite.errors import DataError
from harlite.outputs import is_regular, output_file
from harlite.runtime.activity import (
    MIN_BOUT_S,
    ActivityLog,
    bout_records,
    clock_iso,
    format_activity,
    has_wall_clock,
)
from harlite.runtime.model.bundle import sha256_file
from harlite.runtime.model.unsure import UNSURE_BELOW
from harlite.runtime.rows import LISTED_BAD_ROWS as LISTED_BAD_ROWS
from harlite.runtime.rows import ParsedRows, RowCounts
from harlite.runtime.shutdown import begin_shutdown, interrupts_end_the_run
from harlite.runtime.signal.input_check import LowRateError
from harlite.runtime.sinks import Sink, make_sink
from harlite.runtime.stream import Prediction as Prediction
from harlite.runtime.stream import PushResult, StreamClassifier

# The ``name as name`` imports above: names this module gave before 0.2, kept for one release.

#: Called with (line, reason, detail) for each bad row.
BadRowCallback = Callable[[int, str, str], None]
#: Called with each warning about the input (units, rate) when it is first seen.
WarningCallback = Callable[[str], None]


@dataclass
class StreamSummary:
    """What a streaming run did. ``to_dict`` gives the ``--summary`` JSON."""

    input: str
    artifact: str
    backend: str
    model: str | None = None
    backend_choice: str | None = None
    windows: int = 0
    samples: int = 0
    rows: int = 0
    bad_rows: int = 0
    bad_row_reasons: dict[str, int] = field(default_factory=dict)
    first_bad_rows: list[dict] = field(default_factory=list)
    duration_s: float = 0.0
    input_rate_hz: float | None = None
    gaps: int = 0
    labelled_windows: int | None = None
    accuracy: float | None = None
    smoothing: str | None = None
    smoothing_delay_s: float | None = None
    smoothed_accuracy: float | None = None
    latency_ms_mean: float | None = None
    elapsed_s: float = 0.0
    realtime_factor: float | None = None
    interrupted: bool = False
    resyncs: int = 0
    out_of_distribution_windows: int | None = None
    out_of_distribution_note: str | None = None
    unsure_windows: int | None = None
    warnings: list[str] | None = None
    truncated: bool | None = None
    truncated_reason: str | None = None
    udp_dropped: int | None = None
    mqtt_dropped: int | None = None
    output: str | None = None
    output_bytes: int | None = None
    output_sha256: str | None = None
    started_at: str | None = None
    time_per_label: dict[str, float] = field(default_factory=dict)
    bouts: list[dict] = field(default_factory=list)
    min_bout_s: float = MIN_BOUT_S
    #: the stream-clock time of the first sample (for the bouts' times; not in the JSON)
    origin_time: float | None = field(default=None, repr=False)

    def to_json(self, **extra: Any) -> str:
        """The summary as strict JSON (no NaN or Infinity), with ``extra`` keys."""
        return json.dumps({**self.to_dict(), **extra}, indent=2, allow_nan=False) + "\n"

    def to_dict(self) -> dict:
        """Plain JSON types; keys without a value (e.g. accuracy of unlabelled input) left out."""
        return {k: v for k, v in asdict(self).items() if v is not None and k != "origin_time"}

    def format(self) -> str:
        """The summary for a person, a few lines."""
        lines = [
            f"{self.input}: {self.windows} windows from {self.samples} samples "
            f"({self.duration_s:.1f} s of signal"
            + (f" at {self.input_rate_hz:.1f} Hz" if self.input_rate_hz else "")
            + f") in {self.elapsed_s:.2f} s"
            + (f", {self.realtime_factor:,.0f}× real time" if self.realtime_factor else ""),
            f"  model {self.artifact} on {self.backend}"
            + (f", {self.latency_ms_mean:.3f} ms per window" if self.latency_ms_mean else ""),
        ]
        if self.backend_choice:
            lines.append(f"  {self.backend_choice}")
        if self.bad_rows:
            reasons = ", ".join(f"{r}: {n}" for r, n in self.bad_row_reasons.items())
            lines.append(f"  bad rows {self.bad_rows} ({reasons})")
        else:
            lines.append("  bad rows 0")
        if self.gaps:
            lines.append(f"  gaps {self.gaps} (windows restarted after each)")
        if self.resyncs:
            lines.append(f"  resyncs {self.resyncs} (the input's clock went back for good)")
        if self.udp_dropped:
            lines.append(
                f"  dropped {self.udp_dropped} datagrams (sent faster than read: the kernel's "
                "receive buffer overflowed)"
            )
        if self.mqtt_dropped:
            lines.append(
                f"  dropped {self.mqtt_dropped} MQTT messages (they came faster than they were "
                "classified)"
            )
        if self.truncated:
            lines.append(f"  truncated: {self.truncated_reason}")
        if self.out_of_distribution_windows:
            lines.append(
                f"  unlike training {self.out_of_distribution_windows} of {self.windows} windows"
                + (f" ({self.out_of_distribution_note})" if self.out_of_distribution_note else "")
            )
        if self.unsure_windows:
            lines.append(
                f"  unsure {self.unsure_windows} of {self.windows} windows (top probability "
                f"below {UNSURE_BELOW:.0%}: those answers are likely wrong)"
            )
        for warning in self.warnings or []:
            lines.append(f"  warning: {warning}")
        if self.accuracy is not None:
            lines.append(
                f"  accuracy {self.accuracy:.2%} over {self.labelled_windows} labelled windows"
            )
        if self.smoothing:
            text = f"  smoothing {self.smoothing} (adds {self.smoothing_delay_s:.2f} s delay)"
            if self.smoothed_accuracy is not None:
                text += f": accuracy {self.smoothed_accuracy:.2%}"
            lines.append(text)
        lines += format_activity(self.time_per_label, self.bouts, self.origin_time, self.min_bout_s)
        if self.interrupted:
            lines.append("  interrupted: the predictions made so far were kept")
        return "\n".join(lines)


class _Accounting:
    """Counts of rows and predictions over a run: bad rows by reason (the first listed),
    and predictions against their true labels."""

    def __init__(
        self,
        on_bad_row: BadRowCallback | None,
        on_warning: WarningCallback | None,
        contiguous_s: float,
    ) -> None:
        self.on_bad_row = on_bad_row
        self.on_warning = on_warning
        self.tally = RowCounts()
        self.labelled_input = False
        self.labelled = self.correct = self.smoothed_correct = 0
        self.unsure = 0  # windows whose answer is unsure
        self.latency_total = 0.0
        self.activity = ActivityLog(contiguous_s)

    def bad_row(self, line: int, reason: str, detail: str) -> None:
        self.tally.bad_row(line, reason, detail)
        if self.on_bad_row is not None:
            self.on_bad_row(line, reason, detail)

    def classified(self, result: PushResult) -> None:
        """What a push refused, warned about and predicted."""
        for line, reason in result.rejected:
            self.bad_row(line, reason, "")
        for warning in result.warnings:
            if self.on_warning is not None:
                self.on_warning(warning)
        for p in result.predictions:
            self.tally.windows += 1
            self.unsure += p.unsure
            self.latency_total += p.latency_ms
            self.activity.add(p.start_time, p.end_time, p.smoothed_label or p.label)
            if p.true_label is not None:
                self.labelled += 1
                self.correct += p.label == p.true_label
                self.smoothed_correct += p.smoothed_label == p.true_label


def run_stream(
    source: Iterable[ParsedRows],
    classifier: StreamClassifier,
    sinks: Sequence[Sink],
    *,
    name: str,
    strict: bool = False,
    on_bad_row: BadRowCallback | None = None,
    on_warning: WarningCallback | None = None,
    min_bout_s: float = MIN_BOUT_S,
) -> StreamSummary:
    """Stream ``source`` through ``classifier`` into ``sinks`` and account for every row.

    Bad rows are counted by reason and passed to ``on_bad_row(line, reason, detail)``; with
    ``strict`` the first one raises a :class:`DataError`. Warnings about the input go to
    ``on_warning`` when first seen and into the summary. Ctrl-C (KeyboardInterrupt) ends the
    run early with the predictions so far written and ``interrupted`` set; once the loop has
    ended, signals no longer interrupt (see :mod:`harlite.runtime.shutdown`). An input without
    a single good sample is an error. The summary's time per label and bouts follow
    :mod:`harlite.runtime.activity` (bouts of at least ``min_bout_s`` seconds).
    """
    started = time.perf_counter()
    counts = _Accounting(on_bad_row, on_warning, classifier.settings.max_gap_s)
    interrupted = False
    try:
        for parsed in source:
            _push(parsed, classifier, sinks, counts, strict, name)
            _show_status(source, sinks, counts)
        begin_shutdown()
    except KeyboardInterrupt:
        interrupted = True
    except LowRateError as error:
        raise DataError(str(error), name) from None
    counts.classified(classifier.flush())
    for sink in sinks:
        sink.close()
    if classifier.samples == 0 and not interrupted:
        rows = counts.tally.rows
        what = f"{rows} data rows, all bad" if rows else "no data rows"
        raise DataError(f"no valid samples ({what})", name)
    summary = _summarise(name, classifier, counts, time.perf_counter() - started, interrupted)
    _add_activity(summary, counts.activity, classifier.origin_time, min_bout_s)
    summary.truncated_reason = getattr(source, "truncated", None)
    summary.truncated = True if summary.truncated_reason else None
    summary.udp_dropped = getattr(source, "dropped", None)
    summary.mqtt_dropped = getattr(source, "messages_dropped", None)
    return summary


def _show_status(source, sinks: Sequence[Sink], counts: _Accounting) -> None:
    """Sinks that show a live status (the terminal view) get the counters."""
    for sink in sinks:
        status = getattr(sink, "status", None)
        if status is not None:
            status(bad_rows=counts.tally.bad_rows, dropped=getattr(source, "dropped", None))


def _push(
    parsed: ParsedRows,
    classifier: StreamClassifier,
    sinks: Sequence[Sink],
    counts: _Accounting,
    strict: bool,
    name: str,
) -> None:
    """One parsed batch: its bad lines counted, its rows classified, predictions written."""
    counts.labelled_input |= parsed.labels is not None
    if strict:
        _raise_first_bad(parsed, classifier, name)
    counts.tally.rows += len(parsed.rows) + len(parsed.bad)
    for line, reason, detail in parsed.bad:
        counts.bad_row(line, reason, detail)
    result = classifier.push(parsed.rows, parsed.labels, parsed.lines)
    counts.classified(result)
    for sink in sinks:
        sink.write(result.predictions)


def _summarise(
    name: str, classifier: StreamClassifier, counts: _Accounting, elapsed: float, interrupted: bool
) -> StreamSummary:
    duration = classifier.duration_s
    rate = classifier.input_rate_hz
    windows = counts.tally.windows
    summary = StreamSummary(
        input=name,
        artifact=classifier.artifact,
        backend=classifier.backend,
        model=classifier.bundle.path.name,
        backend_choice=None
        if classifier.backend_choice is None
        else classifier.backend_choice.describe(),
        windows=windows,
        samples=classifier.samples,
        rows=counts.tally.rows,
        bad_rows=counts.tally.bad_rows,
        bad_row_reasons=counts.tally.reasons_by_count(),
        first_bad_rows=counts.tally.first_bad_rows,
        duration_s=round(duration, 6),
        input_rate_hz=None if rate is None else round(rate, 3),
        gaps=classifier.gaps,
        elapsed_s=round(elapsed, 4),
        realtime_factor=round(duration / elapsed, 1) if elapsed > 0 and duration > 0 else None,
        latency_ms_mean=round(counts.latency_total / windows, 4) if windows else None,
        interrupted=interrupted,
        resyncs=classifier.resyncs,
        out_of_distribution_windows=classifier.out_of_distribution_windows,
        out_of_distribution_note=classifier.domain_check.note()
        if classifier.out_of_distribution_windows
        else None,
        unsure_windows=counts.unsure,
        warnings=classifier.warnings or None,
    )
    if counts.labelled_input:
        summary.labelled_windows = counts.labelled
        summary.accuracy = counts.correct / counts.labelled if counts.labelled else None
    smoother = classifier.smoother
    if smoother is not None:
        summary.smoothing = smoother.describe()
        summary.smoothing_delay_s = smoother.delay_s(classifier.hop_seconds)
        if counts.labelled_input and counts.labelled:
            summary.smoothed_accuracy = counts.smoothed_correct / counts.labelled
    return summary


def _add_activity(
    summary: StreamSummary, activity: ActivityLog, origin: float | None, min_bout_s: float
) -> None:
    """What the person did: time per label, bouts, and the clock they are told in."""
    summary.origin_time = origin
    summary.min_bout_s = min_bout_s
    summary.time_per_label = activity.time_per_label()
    summary.bouts = bout_records(activity.bouts(min_bout_s), origin)
    if has_wall_clock(origin):
        summary.started_at = clock_iso(origin)


def _raise_first_bad(parsed: ParsedRows, classifier: StreamClassifier, name: str) -> None:
    """In strict mode: raise on the first row that would be refused, if any."""
    candidates = list(parsed.bad)
    candidates += [
        (int(parsed.lines[i]), reason, "") for i, reason in classifier.check(parsed.rows)
    ]
    if candidates:
        line, reason, detail = min(candidates)
        raise DataError(f"{reason}{': ' + detail if detail else ''} (--strict)", name, line)


def classify_recording(
    source: Iterable[ParsedRows],
    classifier: StreamClassifier,
    output: str | Path | TextIO,
    *,
    name: str,
    output_format: str = "jsonl",
    summary_path: str | Path | None = None,
    summary_fields: dict[str, Any] | None = None,
    extra_sinks: Sequence[Sink] = (),
    strict: bool = False,
    on_bad_row: BadRowCallback | None = None,
    on_warning: WarningCallback | None = None,
    keep_interrupted: bool = True,
    min_bout_s: float = MIN_BOUT_S,
) -> StreamSummary:
    """Classify one recording into a predictions output and, optionally, a summary file.

    Args:
        source: parsed rows (a source from :mod:`harlite.runtime.io.sources`).
        classifier: the classifier (reset by the caller when reused).
        output: a file path (a regular file is written atomically: the old one stays until
            the new one is complete; a FIFO, a character device or ``-`` is written into), or
            an open text handle such as stdout.
        name: the input's name in messages and the summary.
        output_format: ``jsonl``, ``csv``, ``parquet`` (files only) or ``terminal``.
        summary_path: where to write the summary JSON (like ``output``), after the output.
        summary_fields: extra keys for the summary file (e.g. input and model hashes).
        extra_sinks: further sinks fed the same predictions (e.g. a collecting sink).
        strict, on_bad_row, on_warning: as in :func:`run_stream`.
        keep_interrupted: on Ctrl-C keep the predictions so far (True), or discard the
            partial output and re-raise KeyboardInterrupt (False, for batch work that is
            redone on the next run).
        min_bout_s: the shortest bout in the summary's ``bouts``.

    The first SIGINT or SIGTERM ends the stream; the outputs are then finished whatever
    further signals arrive. Returns the run's summary; for a regular output file it names
    the file, its size and SHA-256.
    """

    def run(handle) -> StreamSummary:
        sinks = [make_sink(output_format, handle, classifier.labels), *extra_sinks]
        return run_stream(
            source,
            classifier,
            sinks,
            name=name,
            strict=strict,
            on_bad_row=on_bad_row,
            on_warning=on_warning,
            min_bout_s=min_bout_s,
        )

    with interrupts_end_the_run():
        summary = _run_into(output, output_format, keep_interrupted, run)
        if summary_path is not None:
            with output_file(summary_path, "w", "utf-8") as handle:
                handle.write(summary.to_json(**(summary_fields or {})))
    return summary


def _run_into(
    output: str | Path | TextIO,
    output_format: str,
    keep_interrupted: bool,
    run: Callable[[Any], StreamSummary],
) -> StreamSummary:
    """``run`` into an open handle, or into a file at a path (atomic for a regular file, then
    named in the summary with its size and SHA-256)."""
    if not isinstance(output, str | Path):
        return run(output)
    mode, encoding = ("wb", None) if output_format == "parquet" else ("w", "utf-8")
    with output_file(output, mode, encoding) as handle:
        summary = run(handle)
        if summary.interrupted and not keep_interrupted:
            raise KeyboardInterrupt  # inside: the partial output is discarded
    if is_regular(output):
        path = Path(output)
        summary.output = path.name
        summary.output_bytes = path.stat().st_size
        summary.output_sha256 = sha256_file(path)
    return summary
