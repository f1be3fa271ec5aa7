"""What a model was trained on, and whether a window is unlike it.

A model trained on phones at the waist has seen gravity only along a few directions of the
phone's frame (the phone upright in its holder; lying down), and walking only with the phone
upright. A phone in a pocket upside down gives windows it has never seen anything like, and
the model still answers, confidently and wrongly. This module measures each window by two
numbers the preprocessing already gives:

- the **gravity direction** in the phone's frame: the window's mean of total minus body
  acceleration, as a unit vector;
- the **motion level**: still or moving, by the RMS of the body acceleration's magnitude.

The bundle's manifest holds, per motion level, the gravity directions the training windows
covered (the cells of a near-uniform grid on the sphere that hold 99% of the training
windows), the input
rates and the acceleration magnitude the model was trained on (``training_domain``). A
window is *out of distribution* when its gravity direction is more than ``max_angle_deg``
from every direction trained at its motion level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Body-acceleration RMS (g) that separates still windows from moving ones.
MOVING_RMS_G = 0.2
#: Windows this close to the boundary (as a factor either side) may match either level.
LEVEL_MARGIN = 1.3
LEVELS = ("still", "moving")
#: Points of the direction grid on the sphere (about 13° apart).
GRID_POINTS = 256
#: The trained cells of a motion level are the fewest that hold all but this share of its
#: training windows of one placement (cells of two windows or more): a few stray windows
#: (lying down with the phone jostled) do not make a direction "trained while moving", and
#: a widely spread placement (augmented) keeps every cell it really fills.
STRAY_SHARE = 0.01
MIN_WINDOWS_PER_CELL = 2
#: A window farther than this from every trained direction of its level is unlike training.
MAX_ANGLE_DEG = 25.0
#: A window whose gravity direction turns more than this between its first and last steps
#: holds a posture change (standing up, lying down): its mean direction says nothing about
#: how the phone is carried, so it is not judged.
MAX_TURN_DEG = 30.0
#: Steps at each end of a window whose gravity is compared for the turn.
TURN_STEPS = 16


def fibonacci_sphere(n: int = GRID_POINTS) -> np.ndarray:
    """``n`` unit vectors spread near-uniformly over the sphere (n, 3)."""
    i = np.arange(n) + 0.5
    polar = np.arccos(1 - 2 * i / n)
    azimuth = np.pi * (1 + 5**0.5) * i
    return np.stack(
        [np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)], 1
    )


def _covering(counts: np.ndarray) -> np.ndarray:
    """Indices of the fewest cells that hold all but :data:`STRAY_SHARE` of ``counts``."""
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    if total == 0:
        return order[:0]
    covered = np.cumsum(counts[order]) / total
    kept = order[: int(np.searchsorted(covered, 1 - STRAY_SHARE)) + 1]
    return kept[counts[kept] >= MIN_WINDOWS_PER_CELL]


@dataclass(frozen=True)
class WindowTraits:
    """Per window: the gravity direction (n, 3) in the phone frame, its strength (n,) in g,
    the body acceleration's RMS (n,) in g, and how far (degrees) gravity turns between the
    window's ends (n,)."""

    direction: np.ndarray
    gravity_g: np.ndarray
    motion_rms_g: np.ndarray
    turn_deg: np.ndarray

    @classmethod
    def of(cls, windows: np.ndarray) -> WindowTraits:
        """Traits of model windows (n, steps, 9): body acc, body gyro, total acc."""
        windows = np.asarray(windows, dtype=np.float64)
        body, total = windows[:, :, 0:3], windows[:, :, 6:9]
        gravity_steps = total - body
        gravity = gravity_steps.mean(axis=1)
        strength = np.linalg.norm(gravity, axis=1)
        direction = gravity / np.maximum(strength, 1e-9)[:, None]
        rms = np.sqrt((np.linalg.norm(body, axis=2) ** 2).mean(axis=1))
        first = gravity_steps[:, :TURN_STEPS].mean(axis=1)
        last = gravity_steps[:, -TURN_STEPS:].mean(axis=1)
        cosine = (first * last).sum(axis=1) / np.maximum(
            np.linalg.norm(first, axis=1) * np.linalg.norm(last, axis=1), 1e-12
        )
        turn = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        return cls(direction, strength, rms, turn)

    def levels(self) -> np.ndarray:
        """Per window, a boolean (n, 2): may it count as still, as moving."""
        return np.stack(
            [
                self.motion_rms_g < MOVING_RMS_G * LEVEL_MARGIN,
                self.motion_rms_g >= MOVING_RMS_G / LEVEL_MARGIN,
            ],
            1,
        )


@dataclass(frozen=True)
class Verdict:
    """Per window: unlike training, the nearest trained direction's angle (degrees) at the
    window's level, the window's gravity direction and level, and whether it was judged at
    all (a posture change is not)."""

    unlike: np.ndarray
    angle_deg: np.ndarray
    direction: np.ndarray
    moving: np.ndarray
    judged: np.ndarray


@dataclass(frozen=True)
class TrainingDomain:
    """The inputs a model was trained on (manifest ``training_domain``).

    Attributes:
        directions: per motion level (:data:`LEVELS`), the unit gravity directions (k, 3)
            the training windows covered.
        max_angle_deg: how far from a trained direction a window may be.
        input_rates_hz: the sample rates of the training recordings (empty: unknown).
        acc_magnitude_g: the 1st, 50th and 99th percentile of the training windows' gravity
            strength (|mean total acceleration − body|, in g).
        placements: where the phones were carried (``waist``, ``pocket``…; as the data said).
        windows: how many training windows this was measured on.
    """

    directions: dict[str, np.ndarray]
    max_angle_deg: float = MAX_ANGLE_DEG
    input_rates_hz: tuple[float, ...] = ()
    acc_magnitude_g: tuple[float, float, float] = (1.0, 1.0, 1.0)
    placements: tuple[str, ...] = ()
    windows: int = 0

    @classmethod
    def measure(
        cls,
        windows: np.ndarray,
        input_rates_hz: tuple[float, ...] = (),
        placements: tuple[str, ...] = (),
        groups: np.ndarray | None = None,
    ) -> TrainingDomain:
        """The domain of training windows (n, steps, 9); ``groups`` (n,) (their placements)
        are counted apart, so that a small group's directions count as trained too."""
        traits = WindowTraits.of(windows)
        grid = fibonacci_sphere()
        cell = np.argmax(traits.direction @ grid.T, axis=1)
        moving = traits.motion_rms_g >= MOVING_RMS_G
        steady = traits.turn_deg <= MAX_TURN_DEG
        groups = np.zeros(len(cell), int) if groups is None else np.asarray(groups)
        directions = {}
        for level, mask in zip(LEVELS, (~moving & steady, moving & steady), strict=True):
            trained = np.zeros(len(grid), bool)
            for group in np.unique(groups):
                counts = np.bincount(cell[mask & (groups == group)], minlength=len(grid))
                trained[_covering(counts)] = True
            directions[level] = np.round(grid[trained], 4)
        p1, p50, p99 = (
            np.percentile(traits.gravity_g, [1, 50, 99]) if len(traits.gravity_g) else (1, 1, 1)
        )
        return cls(
            directions,
            input_rates_hz=tuple(sorted(set(input_rates_hz))),
            acc_magnitude_g=(round(float(p1), 4), round(float(p50), 4), round(float(p99), 4)),
            placements=tuple(placements),
            windows=len(traits.direction),
        )

    def judge(self, windows: np.ndarray) -> Verdict:
        """Which windows (n, steps, 9) are unlike training."""
        traits = WindowTraits.of(windows)
        allowed = traits.levels()
        best = np.full(len(traits.direction), 180.0)
        for i, level in enumerate(LEVELS):
            trained = self.directions.get(level)
            if trained is None or not len(trained) or not allowed[:, i].any():
                continue
            cosine = np.clip(traits.direction @ trained.T, -1, 1).max(axis=1)
            angle = np.degrees(np.arccos(cosine))
            best = np.where(allowed[:, i], np.minimum(best, angle), best)
        judged = traits.turn_deg <= MAX_TURN_DEG
        return Verdict(
            judged & (best > self.max_angle_deg),
            best,
            traits.direction,
            traits.motion_rms_g >= MOVING_RMS_G,
            judged,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, for the manifest."""
        return {
            "gravity_directions": {k: v.tolist() for k, v in self.directions.items()},
            "max_angle_deg": self.max_angle_deg,
            "moving_rms_g": MOVING_RMS_G,
            "input_rates_hz": list(self.input_rates_hz),
            "acc_magnitude_g": list(self.acc_magnitude_g),
            "placements": list(self.placements),
            "windows": self.windows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingDomain:
        """Read the manifest's ``training_domain`` (validated by the manifest's checks)."""
        return cls(
            {
                k: np.asarray(v, dtype=np.float64).reshape(-1, 3)
                for k, v in data["gravity_directions"].items()
            },
            float(data.get("max_angle_deg", MAX_ANGLE_DEG)),
            tuple(float(r) for r in data.get("input_rates_hz", ())),
            tuple(float(a) for a in data.get("acc_magnitude_g", (1.0, 1.0, 1.0))),
            tuple(str(p) for p in data.get("placements", ())),
            int(data.get("windows", 0)),
        )


#: The stream warns (once) when this share of its moving windows is unlike training (how a
#: phone is carried shows while walking)…
WARN_SHARE = 0.2
#: …or this share of its still windows (people sit and lie in more ways than they walk:
#: a posture unlike any in training is said only when it dominates)…
WARN_SHARE_STILL = 0.5
#: …once the level has at least this many judged windows (about 40 s at the usual hop: a
#: stream's first stretch, often posture changes, is not judged alone)…
WARN_AFTER_WINDOWS = 30
#: …or, at the end of a short stream, this many; and never for fewer unlike windows than this.
WARN_AT_END_WINDOWS = 4
MIN_UNLIKE_WINDOWS = 3


class DomainCheck:
    """Counts a stream's windows unlike the model's training data, per motion level; warns
    once, with advice, when they are :data:`WARN_SHARE` of its moving windows or
    :data:`WARN_SHARE_STILL` of its still ones."""

    def __init__(self, domain: TrainingDomain) -> None:
        self.domain = domain
        self.reset()

    def reset(self) -> None:
        """A new, unrelated stream."""
        self.windows = 0
        self.unlike = 0  #: windows unlike training so far
        self.warnings: list[str] = []
        self._seen = {"moving": [0, 0], "still": [0, 0]}  # level → [windows, unlike]
        self._directions: dict[str, list[np.ndarray]] = {"moving": [], "still": []}

    def add(self, windows: np.ndarray) -> list[str]:
        """Judge a batch of model windows; return the warning if this batch raised it."""
        verdict = self.domain.judge(windows)
        self.windows += len(verdict.unlike)
        self.unlike += int(verdict.unlike.sum())
        judged = verdict.judged
        for level, mask in (
            ("moving", judged & verdict.moving),
            ("still", judged & ~verdict.moving),
        ):
            self._seen[level][0] += int(mask.sum())
            self._seen[level][1] += int((mask & verdict.unlike).sum())
            if not self.warnings and sum(len(d) for d in self._directions[level]) < 1000:
                self._directions[level].append(verdict.direction[mask & verdict.unlike])
        return self._judge(WARN_AFTER_WINDOWS)

    def finish(self) -> list[str]:
        """The stream ended: a short stream is judged on what it had."""
        return self._judge(WARN_AT_END_WINDOWS)

    def _judge(self, fewest: int) -> list[str]:
        if self.warnings:
            return []
        for level, share in (("moving", WARN_SHARE), ("still", WARN_SHARE_STILL)):
            seen, unlike = self._seen[level]
            if seen >= fewest and unlike >= max(MIN_UNLIKE_WINDOWS, share * seen):
                self.warnings.append(self._message(level))
                return list(self.warnings)
        return []

    def note(self) -> str:
        """Why the stream's unlike windows count as unlike training, and why they raised
        no warning when they did not (for the summary's count)."""
        rule = (
            f"gravity more than {self.domain.max_angle_deg:g}° from every direction trained "
            "at the window's motion level"
        )
        if self.warnings:
            return f"{rule}; see the warning"
        return (
            f"{rule}; below the warning threshold ({WARN_SHARE:.0%} of the moving windows or "
            f"{WARN_SHARE_STILL:.0%} of the still ones, at least {MIN_UNLIKE_WINDOWS}): a few "
            "odd windows, often turning or fidgeting, are normal"
        )

    def _message(self, level: str) -> str:
        seen, unlike_here = self._seen[level]
        parts = self._directions[level]
        unlike = np.concatenate(parts) if parts else np.zeros((0, 3))
        mean = unlike.mean(axis=0) if len(unlike) else np.zeros(3)
        mean = mean / max(float(np.linalg.norm(mean)), 1e-9)
        placements = ", ".join(self.domain.placements) or "not recorded"
        return (
            f"phone orientation unlike training: {unlike_here} of {seen} {level} windows "
            f"({unlike_here / seen:.0%}) have gravity along "
            f"({mean[0]:+.2f}, {mean[1]:+.2f}, {mean[2]:+.2f}) in the phone's frame, more than "
            f"{self.domain.max_angle_deg:g}° from any this model was trained on while {level} "
            f"(placements: {placements}); their predictions are unreliable. " + self._advice()
        )

    def _advice(self) -> str:
        if set(self.domain.placements) <= {"waist", ""}:
            return (
                "This model knows a phone at the waist only: use the shipped default model "
                "(lstm: waist, trouser pocket, hand), or fine-tune on your own recordings "
                "(docs/own-data.md)"
            )
        return (
            "Carry the phone as in training, or fine-tune on recordings made the way you "
            "carry it (docs/own-data.md)"
        )
