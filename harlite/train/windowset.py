"""A labelled set of model windows and its `.npz` form."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from harlite.atomic import atomic_file
from harlite.runtime.spec import ACTIVITY_LABELS


@dataclass(frozen=True)
class WindowSet:
    """Windows with their labels and where they came from.

    Attributes:
        X: float32 (n, window, 9) model channels (body_acc, body_gyro, total_acc).
        y: int64 (n,) class index into ``labels``.
        subject: int64 (n,) subject (user) id.
        experiment: int64 (n,) experiment (recording) id, −1 where the source does not say.
        start: int64 (n,) first sample of the window in its experiment, −1 where unknown.
        labels: the class names (the six HAR activities for HAPT and UCI HAR; a recordings
            folder's own classes otherwise).
        placement: str (n,) where the phone was carried (``waist``, ``pocket``, ``hand``…;
            empty where the data does not say). Training turns ``waist`` windows into other
            placements when the config asks for it (:mod:`harlite.train.augment`).
    """

    X: np.ndarray
    y: np.ndarray
    subject: np.ndarray
    experiment: np.ndarray
    start: np.ndarray
    labels: tuple[str, ...] = ACTIVITY_LABELS
    placement: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        n = len(self.X)
        if self.placement is None:
            object.__setattr__(self, "placement", np.array([""] * n, dtype=str))
        for name in _ARRAYS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, X {n}")
        if n and (self.y.min() < 0 or self.y.max() >= len(self.labels)):
            raise ValueError(f"class indices outside 0..{len(self.labels) - 1}")

    def __len__(self) -> int:
        return len(self.X)

    @property
    def subjects(self) -> list[int]:
        """Sorted distinct subject ids."""
        return sorted(int(s) for s in np.unique(self.subject))

    def select(self, mask: np.ndarray) -> WindowSet:
        """The windows where ``mask`` (boolean or index array) holds."""
        return WindowSet(
            **{name: getattr(self, name)[mask] for name in _ARRAYS}, labels=self.labels
        )

    def placed(self, placement: str) -> WindowSet:
        """The same windows, every one marked as carried at ``placement``."""
        return replace(self, placement=np.array([placement] * len(self), dtype=str))

    def shifted(self, subject_offset: int) -> WindowSet:
        """The same windows with ``subject_offset`` added to every subject id."""
        return replace(self, subject=self.subject + subject_offset)

    def groups(self) -> np.ndarray:
        """Per window, its (placement, class) group as one string ``placement|class``: the
        groups training weighs alike (``balance``) and int8 calibration samples alike."""
        return np.char.add(np.char.add(self.placement.astype(str), "|"), self.y.astype(str))

    def spread_sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of ``count`` windows (all, if fewer) spread as evenly over the groups
        (:meth:`groups`) as their sizes allow: every group's first window, then every
        group's second, and so on, each group's windows in random order."""
        groups = self.groups()
        order = rng.permutation(len(self))
        rank = np.empty(len(self), np.int64)
        taken: dict[str, int] = {}
        for i in order:
            rank[i] = taken.get(groups[i], 0)
            taken[groups[i]] = rank[i] + 1
        return order[np.argsort(rank[order], kind="stable")][:count]

    def windows_per_class(self) -> dict[str, int]:
        """Number of windows per class name, every class listed."""
        counts = np.bincount(self.y, minlength=len(self.labels))
        return {label: int(c) for label, c in zip(self.labels, counts, strict=True)}

    @classmethod
    def concatenate(cls, parts: list[WindowSet]) -> WindowSet:
        """One set holding the windows of ``parts`` (which share their labels), in order."""
        labels = {p.labels for p in parts}
        if len(labels) > 1:
            raise ValueError("cannot join window sets with different labels")
        return cls(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS},
            labels=labels.pop() if labels else ACTIVITY_LABELS,
        )

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (`.npz`) atomically: a reader sees the old file or the new one."""
        with atomic_file(path) as handle:
            arrays = {name: getattr(self, name) for name in _ARRAYS}
            np.savez(handle, **arrays, labels=np.array(self.labels, dtype=str))

    @classmethod
    def load(cls, path: str | Path) -> WindowSet:
        """Read a file written by :meth:`save` (never unpickles)."""
        with np.load(path, allow_pickle=False) as data:
            labels = tuple(data["labels"].tolist()) if "labels" in data else ACTIVITY_LABELS
            arrays = {name: data[name] for name in _ARRAYS if name in data}
            return cls(**arrays, labels=labels)


_ARRAYS = tuple(f.name for f in fields(WindowSet) if f.name != "labels")
