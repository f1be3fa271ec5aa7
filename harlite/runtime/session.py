"""One streaming run: a source through a :class:`StreamClassifier` into sinks, with the
accounting of every row (classified, or bad with its line and reason) and a summary."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from harlite.errors import DataError
from harlite.runtime.sensorcsv import ParsedRows
from harlite.runtime.stream import Prediction, StreamClassifier

#: Bad rows listed one by one in the summary (all are counted).
LISTED_BAD_ROWS = 20


@dataclass
class StreamSummary:
    """What a streaming run did. ``to_dict`` gives the ``--summary`` JSON."""

    input: str
    artifact: str
    backend: str
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

    def to_dict(self) -> dict:
        """Plain JSON types; keys without a value (e.g. accuracy of unlabelled input) left out."""
        return {k: v for k, v in asdict(self).items() if v is not None}

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
        if self.bad_rows:
            reasons = ", ".join(f"{r}: {n}" for r, n in self.bad_row_reasons.items())
            lines.append(f"  bad rows {self.bad_rows} ({reasons})")
        else:
            lines.append("  bad rows 0")
        if self.gaps:
            lines.append(f"  gaps {self.gaps} (windows restarted after each)")
        if self.accuracy is not None:
            lines.append(
                f"  accuracy {self.accuracy:.2%} over {self.labelled_windows} labelled windows"
            )
        if self.smoothing:
            text = f"  smoothing {self.smoothing} (adds {self.smoothing_delay_s:.2f} s delay)"
            if self.smoothed_accuracy is not None:
                text += f": accuracy {self.smoothed_accuracy:.2%}"
            lines.append(text)
        if self.interrupted:
            lines.append("  interrupted: the predictions made so far were kept")
        return "\n".join(lines)


class _Tally:
    """Counts of predictions against their true labels."""

    def __init__(self) -> None:
        self.labelled = self.correct = self.smoothed_correct = 0
        self.latency_total = 0.0
        self.windows = 0

    def add(self, predictions: list[Prediction]) -> None:
        for p in predictions:
            self.windows += 1
            self.latency_total += p.latency_ms
            if p.true_label is not None:
                self.labelled += 1
                self.correct += p.label == p.true_label
                self.smoothed_correct += p.smoothed_label == p.true_label


def run_stream(
    source: Iterable[ParsedRows],
    classifier: StreamClassifier,
    sinks: list,
    *,
    name: str,
    strict: bool = False,
    on_bad_row: Callable[[int, str, str], None] | None = None,
) -> StreamSummary:
    """Stream ``source`` through ``classifier`` into ``sinks`` and account for every row.

    Bad rows are counted by reason and passed to ``on_bad_row(line, reason, detail)``; with
    ``strict`` the first one raises a :class:`DataError`. Ctrl-C (KeyboardInterrupt) ends the
    run early with the predictions so far written and ``interrupted`` set. An input without
    a single good sample is an error.
    """
    started = time.perf_counter()
    reasons: Counter[str] = Counter()
    listed: list[dict] = []
    tally = _Tally()
    rows = 0
    labelled_input = False

    def bad_row(line: int, reason: str, detail: str) -> None:
        reasons[reason] += 1
        if len(listed) < LISTED_BAD_ROWS:
            listed.append(
                {"line": line, "reason": reason, **({"detail": detail} if detail else {})}
            )
        if on_bad_row is not None:
            on_bad_row(line, reason, detail)

    interrupted = False
    try:
        for parsed in source:
            labelled_input |= parsed.labels is not None
            if strict:
                _raise_first_bad(parsed, classifier, name)
            rows += len(parsed.rows) + len(parsed.bad)
            for line, reason, detail in parsed.bad:
                bad_row(line, reason, detail)
            predictions = classifier.push(parsed.rows, parsed.labels)
            for index, reason in classifier.last_rejected:
                bad_row(int(parsed.lines[index]), reason, "")
            tally.add(predictions)
            for sink in sinks:
                sink.write(predictions)
    except KeyboardInterrupt:
        interrupted = True
    for sink in sinks:
        sink.close()
    if classifier.samples == 0 and not interrupted:
        what = f"{rows} data rows, all bad" if rows else "no data rows"
        raise DataError(f"no valid samples ({what})", name)

    elapsed = time.perf_counter() - started
    duration = (
        classifier.last_time - classifier.first_time if classifier.first_time is not None else 0.0
    )
    smoother = classifier.smoother
    summary = StreamSummary(
        input=name,
        artifact=classifier.artifact,
        backend=classifier.backend,
        windows=tally.windows,
        samples=classifier.samples,
        rows=rows,
        bad_rows=sum(reasons.values()),
        bad_row_reasons=dict(reasons.most_common()),
        first_bad_rows=listed,
        duration_s=round(duration, 6),
        input_rate_hz=None
        if classifier.input_rate_hz is None
        else round(classifier.input_rate_hz, 3),
        gaps=classifier.gaps,
        elapsed_s=round(elapsed, 4),
        realtime_factor=round(duration / elapsed, 1) if elapsed > 0 and duration > 0 else None,
        latency_ms_mean=round(tally.latency_total / tally.windows, 4) if tally.windows else None,
        interrupted=interrupted,
    )
    if labelled_input:
        summary.labelled_windows = tally.labelled
        summary.accuracy = tally.correct / tally.labelled if tally.labelled else None
    if smoother is not None:
        summary.smoothing = smoother.describe()
        summary.smoothing_delay_s = smoother.delay_s(classifier.hop_seconds)
        if labelled_input and tally.labelled:
            summary.smoothed_accuracy = tally.smoothed_correct / tally.labelled
    return summary


def _raise_first_bad(parsed: ParsedRows, classifier: StreamClassifier, name: str) -> None:
    """In strict mode: raise on the first row that would be refused, if any."""
    candidates = list(parsed.bad)
    candidates += [
        (int(parsed.lines[i]), reason, "") for i, reason in classifier.check(parsed.rows)
    ]
    if candidates:
        line, reason, detail = min(candidates)
        raise DataError(f"{reason}{': ' + detail if detail else ''} (--strict)", name, line)
