"""A labelled set of model windows and its `.npz` form."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from harlite.atomic import atomic_file
from harlite.runtime.spec import ACTIVITY_LABELS


@dataclass(frozen=True)
class WindowSet:
    """Windows with their labels and where they came from.

    Attributes:
        X: float32 (n, window, 9) model channels (body_acc, body_gyro, total_acc).
        y: int64 (n,) class index into ``ACTIVITY_LABELS`` (activity id − 1).
        subject: int64 (n,) subject (user) id.
        experiment: int64 (n,) experiment id, −1 where the source does not say.
        start: int64 (n,) first sample of the window in its experiment, −1 where unknown.
    """

    X: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    experiment: np.ndarray
    start: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.X)
        for field in fields(self):
            if len(getattr(self, field.name)) != n:
                raise ValueError(f"{field.name} has {len(getattr(self, field.name))} rows, X {n}")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def subjects(self) -> list[int]:
        """Sorted distinct subject ids."""
        return sorted(int(s) for s in np.unique(self.subject))

    def select(self, mask: np.ndarray) -> WindowSet:
        """The windows where ``mask`` (boolean or index array) holds."""
        return WindowSet(*(getattr(self, f.name)[mask] for f in fields(self)))

    def windows_per_class(self) -> dict[str, int]:
        """Number of windows per activity name, every activity listed."""
        counts = np.bincount(self.y, minlength=len(ACTIVITY_LABELS))
        return {label: int(c) for label, c in zip(ACTIVITY_LABELS, counts, strict=False)}

    @classmethod
    def concatenate(cls, parts: list[WindowSet]) -> WindowSet:
        """One set holding the windows of ``parts``, in order."""
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (`.npz`) atomically: a reader sees the old file or the new one."""
        with atomic_file(path) as handle:
            np.savez(handle, **{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: str | Path) -> WindowSet:
        """Read a file written by :meth:`save` (never unpickles)."""
        with np.load(path, allow_pickle=False) as data:
            return cls(**{f.name: data[f.name] for f in fields(cls)})
