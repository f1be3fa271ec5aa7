"""Sliding windows over a stream of samples, in constant memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from harlite.runtime.spec import HOP_SAMPLES, N_MODEL_CHANNELS, WINDOW_SAMPLES


@dataclass(frozen=True)
class Window:
    """One window: ``data`` (window, channels) and the first and last sample it holds."""

    data: np.ndarray
    start_index: int
    end_index: int
    start_time: float | None = None
    end_time: float | None = None


@dataclass(frozen=True)
class WindowBatch:
    """The windows one :meth:`SlidingWindow.push` completed, as arrays for batched inference.

    ``data`` is (k, window, channels); ``start_index`` and ``end_index`` (inclusive) are the
    stream indices of each window's first and last sample; ``start_time``/``end_time`` are
    their timestamps when the stream has timestamps, else None. Iterating yields
    :class:`Window` objects.
    """

    data: np.ndarray
    start_index: np.ndarray
    end_index: np.ndarray
    start_time: np.ndarray | None = None
    end_time: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Window]:
        for i in range(len(self.data)):
            yield Window(
                data=self.data[i],
                start_index=int(self.start_index[i]),
                end_index=int(self.end_index[i]),
                start_time=None if self.start_time is None else float(self.start_time[i]),
                end_time=None if self.end_time is None else float(self.end_time[i]),
            )


class SlidingWindow:
    """Emits a (window × channels) window every ``hop`` samples of a stream.

    Only the last ``window - 1`` samples are kept between calls, so memory is constant
    whatever the stream's length. The first window ends at the ``window``-th sample after
    the start (or after :meth:`restart`), the next ``hop`` samples later, and so on.

    Example:
        >>> windows = SlidingWindow(window=128, hop=64, channels=9)
        >>> for w in windows.push(chunk):        # chunk: (n, 9)
        ...     predict(w.data)
    """

    def __init__(
        self,
        window: int = WINDOW_SAMPLES,
        hop: int = HOP_SAMPLES,
        channels: int = N_MODEL_CHANNELS,
        dtype: np.dtype | type = np.float32,
    ) -> None:
        if window < 1 or hop < 1:
            raise ValueError(f"window and hop must be positive, not {window} and {hop}")
        self.window = window
        self.hop = hop
        self.channels = channels
        self.dtype = np.dtype(dtype)
        self.samples_seen = 0
        self._tail = np.empty((0, channels), dtype=self.dtype)
        self._tail_times: np.ndarray | None = None
        self._timed: bool | None = None
        self._since_restart = 0

    def restart(self) -> None:
        """Drop the buffered samples (after a gap): the next window starts at the next sample."""
        self._tail = self._tail[:0]
        self._tail_times = None if self._tail_times is None else self._tail_times[:0]
        self._since_restart = 0

    def push(self, samples: ArrayLike, timestamps: ArrayLike | None = None) -> WindowBatch:
        """Add samples (n, channels) and optional timestamps (n,); return the completed windows."""
        x = np.asarray(samples, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise ValueError(f"samples must have shape (n, {self.channels}), not {x.shape}")
        times = self._check_times(timestamps, len(x))
        n_tail = len(self._tail)
        combined = np.concatenate((self._tail, x))
        combined_times = None if times is None else np.concatenate((self._tail_times, times))

        # 1-based count since restart of each new sample; a window ends where
        # count >= window and (count - window) is a multiple of hop.
        counts = self._since_restart + 1 + np.arange(len(x))
        ends = np.flatnonzero((counts >= self.window) & ((counts - self.window) % self.hop == 0))
        starts_in_combined = n_tail + ends - self.window + 1
        if len(ends):
            view = np.lib.stride_tricks.sliding_window_view(combined, self.window, axis=0)
            data = np.ascontiguousarray(view[starts_in_combined].transpose(0, 2, 1))
        else:
            data = np.empty((0, self.window, self.channels), dtype=self.dtype)
        end_index = self.samples_seen + ends
        batch = WindowBatch(
            data=data,
            start_index=end_index - self.window + 1,
            end_index=end_index,
            start_time=None if combined_times is None else combined_times[starts_in_combined],
            end_time=None if combined_times is None else combined_times[n_tail + ends],
        )

        keep = self.window - 1
        self._tail = combined[max(0, len(combined) - keep) :].copy()
        if combined_times is not None:
            self._tail_times = combined_times[max(0, len(combined_times) - keep) :].copy()
        self.samples_seen += len(x)
        self._since_restart += len(x)
        return batch

    def _check_times(self, timestamps: ArrayLike | None, n: int) -> np.ndarray | None:
        """Validate timestamps; a stream either has them on every push or never."""
        timed = timestamps is not None
        if self._timed is None:
            self._timed = timed
            self._tail_times = np.empty(0) if timed else None
        elif timed != self._timed:
            have = "has" if self._timed else "has no"
            raise ValueError(f"this stream {have} timestamps: push every chunk the same way")
        if not timed:
            return None
        times = np.asarray(timestamps, dtype=np.float64)
        if times.shape != (n,):
            raise ValueError(f"timestamps must have shape ({n},), not {times.shape}")
        return times


def count_windows(n_samples: int, window: int = WINDOW_SAMPLES, hop: int = HOP_SAMPLES) -> int:
    """Number of windows a continuous segment of ``n_samples`` yields: ⌊(n − window)/hop⌋ + 1."""
    return 0 if n_samples < window else (n_samples - window) // hop + 1
