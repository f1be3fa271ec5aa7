"""Which timestamps a stream believes: a glitch is one bad row, a lasting change is a resync.

A sample normally comes after the last accepted one, no more than ``max_gap_s`` later. One
that does not (it goes back, repeats, or jumps ahead) is held, and the samples after it decide:

- a sample that continues the old clock proves the held ones wrong: they are refused (an
  isolated outlier costs only itself, not the rest of the stream);
- samples that continue the held one's clock (each later than the one before, on the same
  side of the old clock) make it right: ahead of the old clock after
  :data:`CONFIRM_SAMPLES` of them (a pause: the windows restart after it, as for any gap);
  behind it once they also span :data:`RESYNC_SECONDS` (a sender whose clock restarted: a
  *resync*, counted, and treated like a gap). The span keeps a resent burst of old samples
  (UDP duplicates) from passing for a new clock.

Samples still held when the stream ends are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harlite.runtime.rows import BACKWARDS, JUMPED, REPEATED

#: Consecutive samples that must agree before a jump of the clock is believed.
CONFIRM_SAMPLES = 5
#: And, for a clock that went back, the time they must span.
RESYNC_SECONDS = 2.0

ACCEPT, REFUSE, HOLD = 0, 1, 2


@dataclass
class Admission:
    """The verdict on a sequence of candidate samples: the ones held from earlier calls,
    then the new ones. ``status`` per candidate (ACCEPT, REFUSE or HOLD); ``reasons`` of the
    refused; ``resync`` marks the first accepted sample of a resynced stretch."""

    status: np.ndarray
    reasons: np.ndarray
    resync: np.ndarray


class ClockGuard:
    """Holds and judges timestamps as described in the module docstring.

    Args:
        max_gap_s: the longest step between samples of one stretch.
    """

    def __init__(self, max_gap_s: float) -> None:
        self.max_gap_s = max_gap_s
        self.last: float | None = None  # the last accepted time
        self.held = np.empty(0)  # times held, waiting for the samples after them
        self.resyncs = 0

    def reset(self) -> None:
        """A new, unrelated stream."""
        self.last = None
        self.held = np.empty(0)
        self.resyncs = 0

    def admit(self, times: np.ndarray) -> Admission:
        """Judge the held samples and the new ``times``; returns a verdict per candidate
        (held ones first) and keeps the ones still undecided."""
        candidates = np.concatenate((self.held, times)) if len(self.held) else times
        n = len(candidates)
        verdict = Admission(np.full(n, ACCEPT, np.int8), np.full(n, "", object), np.zeros(n, bool))
        if not len(self.held) and self._in_order(times):
            if n:
                self.last = float(candidates[-1])
            return verdict
        pending = list(range(len(self.held)))
        verdict.status[pending] = HOLD
        for i in range(len(self.held), n):
            pending = self._judge(i, candidates, pending, verdict)
        self.held = candidates[pending]
        return verdict

    def finish(self) -> Admission:
        """The stream ended: every held sample is refused."""
        verdict = Admission(
            np.full(len(self.held), REFUSE, np.int8),
            np.array([self._reason(t) for t in self.held], dtype=object),
            np.zeros(len(self.held), bool),
        )
        self.held = np.empty(0)
        return verdict

    def _in_order(self, times: np.ndarray) -> bool:
        """The common case, judged at once: each sample after the last, within a gap."""
        if not len(times):
            return True
        first = times[0] - (self.last if self.last is not None else times[0] - self.max_gap_s)
        steps = np.diff(times)
        return bool(0 < first <= self.max_gap_s and ((steps > 0) & (steps <= self.max_gap_s)).all())

    def _follows(self, t: float, before: float | None) -> bool:
        return before is None or before < t <= before + self.max_gap_s

    def _judge(self, i: int, times: np.ndarray, pending: list[int], verdict: Admission):
        """One candidate; returns the held candidates after it."""
        t = float(times[i])
        if self._follows(t, self.last):  # on the old clock: anything held was wrong
            self._refuse(pending, times, verdict)
            self.last = t
            return []
        if (
            pending
            and t > times[pending[-1]]
            and (t > self.last) == (times[pending[0]] > self.last)
        ):
            # continues the held samples' clock, on their side of the old one
            pending.append(i)
            verdict.status[i] = HOLD
            if self._confirmed(times[pending]):
                if times[pending[0]] <= self.last:
                    verdict.resync[pending[0]] = True
                    self.resyncs += 1
                verdict.status[pending] = ACCEPT
                self.last = float(times[pending[-1]])
                return []
            return pending
        self._refuse(pending, times, verdict)
        verdict.status[i] = HOLD
        return [i]

    def _confirmed(self, held: np.ndarray) -> bool:
        if len(held) < CONFIRM_SAMPLES:
            return False
        ahead = held[0] > self.last
        return bool(ahead or held[-1] - held[0] >= RESYNC_SECONDS)

    def _refuse(self, pending: list[int], times: np.ndarray, verdict: Admission) -> None:
        for j in pending:
            verdict.status[j] = REFUSE
            verdict.reasons[j] = self._reason(float(times[j]))

    def _reason(self, t: float) -> str:
        if self.last is None or t > self.last:
            return JUMPED
        return REPEATED if t == self.last else BACKWARDS
