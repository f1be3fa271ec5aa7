"""What a person did: time per activity and bouts, from a stream's predictions.

**Time per window.** Successive windows overlap (by 50% at the bundle's hop), so a window
does not stand for its whole length. Each window counts the time it adds to what the windows
before it covered: the first window of a stretch its whole length (start to end), every later
one the time from the previous window's end to its own (its hop: 1.28 s at 50 Hz and a hop
of 64). The times of a stretch's windows therefore add up to the stretch's classified span,
from its first window's start to its last window's end. A window starting more than the
stream's longest bridged pause (``--max-gap``, 0.25 s) after the previous one ended (the
windows restarted after a gap), or before it (a clock that went back: a resync), begins a
new stretch; the time in between is not counted.

**Bouts.** A bout is a stretch of one activity lasting at least ``min_bout_s``
(:data:`MIN_BOUT_S` by default), so that one stray window is not a bout. Shorter runs of
another label between two bouts are counted into the bout before them (an activity lasts
until the next one begins); at the start of a stretch, into the bout after them. A stretch
with no run that long gives one bout of its most frequent label if the stretch itself lasts
``min_bout_s``, else none. Bouts never span a gap.

**Clock.** Timestamps from :data:`WALL_CLOCK_FROM_S` on (2001-09-09) are taken for Unix
epoch seconds (Sensor Logger exports, phones' pushes, ``time.time()`` loggers): times are
shown as local clock time (ISO 8601 with the UTC offset). Smaller ones count from a start of
their own (HAPT's recordings, ``seconds_elapsed``): times are shown as seconds from the
recording's first sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone

#: The shortest bout, in seconds (four windows' hops at 50 Hz).
MIN_BOUT_S = 5.0
#: Timestamps from here on are Unix epoch seconds (2001-09-09T01:46:40Z).
WALL_CLOCK_FROM_S = 1e9


@dataclass
class Bout:
    """One stretch of one activity, in the stream's clock (seconds)."""

    label: str
    start: float
    end: float
    stretch: int = 0  #: which contiguous stretch of windows it belongs to

    @property
    def seconds(self) -> float:
        """How long it lasted."""
        return self.end - self.start


class ActivityLog:
    """Time per label and runs of labels, added window by window (memory grows with the
    label changes, not the windows). See the module docstring for the rules.

    Args:
        contiguous_s: a window starting no later than this after the previous one ended
            continues its stretch: the stream's ``max_gap_s``, the longest pause its windows
            bridge without restarting.
    """

    def __init__(self, contiguous_s: float) -> None:
        self.contiguous_s = contiguous_s
        self.totals: Counter[str] = Counter()
        self.runs: list[Bout] = []
        self._last_end: float | None = None
        self._stretch = 0

    def add(self, start: float, end: float, label: str) -> float:
        """One window's times and label (smoothed, when smoothing is on); returns the
        seconds counted for it."""
        last = self._last_end
        if last is not None and start <= last + self.contiguous_s and end > last:
            begin = last
        else:  # the first window, a restart after a gap, or a clock that went back
            begin = start
            self._stretch += last is not None
        counted = end - begin
        self.totals[label] += counted
        run = self.runs[-1] if self.runs else None
        if run is not None and run.label == label and run.stretch == self._stretch:
            run.end = end
        else:
            self.runs.append(Bout(label, begin, end, self._stretch))
        self._last_end = end
        return counted

    def time_per_label(self, ndigits: int = 2) -> dict[str, float]:
        """Seconds per label, the longest first."""
        return {label: round(s, ndigits) for label, s in self.totals.most_common()}

    def bouts(self, min_bout_s: float = MIN_BOUT_S) -> list[Bout]:
        """The bouts of at least ``min_bout_s`` seconds, in time order."""
        out: list[Bout] = []
        stretch: list[Bout] = []
        for run in self.runs:
            if stretch and run.stretch != stretch[0].stretch:
                out.extend(_stretch_bouts(stretch, min_bout_s))
                stretch = []
            stretch.append(run)
        return out + _stretch_bouts(stretch, min_bout_s)


def _stretch_bouts(runs: list[Bout], min_bout_s: float) -> list[Bout]:
    """The bouts of one contiguous stretch of runs (rules in the module docstring)."""
    bouts: list[Bout] = []
    pending: list[Bout] = []  # short runs not yet given to a bout
    for run in runs:
        if run.seconds < min_bout_s:
            pending.append(run)
        elif bouts and bouts[-1].label == run.label:
            bouts[-1].end = run.end
        else:
            if bouts:
                bouts[-1].end = run.start
            start = pending[0].start if pending and not bouts else run.start
            bouts.append(Bout(run.label, start, run.end, run.stretch))
        if run.seconds >= min_bout_s:
            pending = []
    if pending and bouts:
        bouts[-1].end = pending[-1].end
    elif pending and pending[-1].end - pending[0].start >= min_bout_s:
        share: Counter[str] = Counter()
        for run in pending:
            share[run.label] += run.seconds
        label = share.most_common(1)[0][0]
        bouts.append(Bout(label, pending[0].start, pending[-1].end, pending[0].stretch))
    return bouts


def has_wall_clock(t: float | None) -> bool:
    """Whether a timestamp is Unix epoch seconds (see the module docstring)."""
    return t is not None and t >= WALL_CLOCK_FROM_S


def clock_iso(t: float) -> str:
    """An epoch time as local ISO 8601 clock time with its UTC offset, to the second."""
    return datetime.fromtimestamp(t, timezone.utc).astimezone().isoformat(timespec="seconds")


def bout_records(bouts: list[Bout], origin: float | None) -> list[dict]:
    """Bouts as JSON records: ``start``/``end`` as ISO clock time where the stream's clock
    is a wall clock, else seconds from ``origin`` (the recording's first sample)."""
    wall = has_wall_clock(origin)
    base = origin or 0.0

    def when(t: float) -> str | float:
        return clock_iso(t) if wall else round(t - base, 2)

    return [
        {
            "label": b.label,
            "start": when(b.start),
            "end": when(b.end),
            "duration_s": round(b.seconds, 2),
        }
        for b in bouts
    ]


def format_duration(seconds: float) -> str:
    """A duration for a person: ``45 s``, ``3 min 28 s``, ``2 h 05 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_time(t: float, origin: float | None) -> str:
    """A moment for a person: local clock time ``08:01:12`` on a wall clock, else the time
    from the start, ``0:03:28``."""
    if has_wall_clock(origin):
        return datetime.fromtimestamp(t, timezone.utc).astimezone().strftime("%H:%M:%S")
    whole = max(0, round(t - (origin or 0.0)))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def format_activity(
    totals: dict[str, float],
    bouts: list[dict],
    origin: float | None,
    min_bout_s: float,
    shown: int = 30,
) -> list[str]:
    """The summary's lines on what was done: time per activity, then the bouts."""
    if not totals:
        return []
    whole = sum(totals.values()) or 1.0
    lines = [f"  time per activity ({format_duration(whole)} classified):"]
    lines += [
        f"    {label:<20} {format_duration(s):>14}  {s / whole:4.0%}" for label, s in totals.items()
    ]
    where = "clock time" if has_wall_clock(origin) else "time from the start"
    lines.append(f"  bouts of at least {min_bout_s:g} s ({len(bouts)}, {where}):")
    base = origin or 0.0
    for bout in bouts[:shown]:
        start, end = (_moment(bout[k], base, origin) for k in ("start", "end"))
        lines.append(
            f"    {start}–{end}  {bout['label']:<20} {format_duration(bout['duration_s'])}"
        )
    if len(bouts) > shown:
        lines.append(f"    … {len(bouts) - shown} more (all in --summary's bouts)")
    return lines


def _moment(value: str | float, base: float, origin: float | None) -> str:
    """A bout record's start or end (ISO text or seconds from the start) for a person."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).strftime("%H:%M:%S")
    return format_time(base + value, origin)
