"""Where the phone is carried, told by the stream itself, and what that settles.

A phone in a trouser pocket measures the thigh, and the thigh is horizontal both when a person
sits and when they lie on their back: no window tells SITTING from LAYING there. Walking does
tell where the phone is. Upright and moving, a phone at the waist (in a holder, as HAPT's was)
has gravity along its ``x`` axis, and a phone in a trouser pocket along its ``y`` axis (the
thigh is near vertical while it swings). So the stream remembers the placement of its last
stretch of walking, and while the phone is in a pocket it answers SITTING where the model says
LAYING (the lying share of the probabilities moves to sitting): a person with a phone in a
trouser pocket sits far more often than they lie down. A waist phone's LAYING stays LAYING.

Until the stream has walked, the placement is unknown and the model's answer stands, unless
a hint fixes it (``harlite stream --placement pocket``). The rule needs the classes it talks
about: a model without LAYING, SITTING or the walking classes is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harlite.runtime.spec import MODEL_CHANNELS

#: What ``--placement`` takes: found from walking (``auto``), or given.
AUTO = "auto"
POCKET = "pocket"
WAIST = "waist"
PLACEMENTS = (AUTO, POCKET, WAIST)
#: Classes in which a person is upright and moving: their gravity says the placement.
MOVING_CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
SEATED, LYING = "SITTING", "LAYING"
#: Gravity within this angle of a phone axis (either sign) while moving names the placement.
AXIS_TOLERANCE_DEG = 30.0
#: Moving windows in a row that must agree before the placement changes (one odd window,
#: a phone taken out of the pocket for a moment, changes nothing).
STRETCH_WINDOWS = 3
#: The phone axis along the body while upright, per placement.
_UPRIGHT_AXIS = {WAIST: 0, POCKET: 1}
#: The model channels of total acceleration (gravity included), x, y, z.
_TOTAL = slice(MODEL_CHANNELS.index("total_acc_x"), MODEL_CHANNELS.index("total_acc_z") + 1)


def placement_of(gravity: np.ndarray) -> str | None:
    """The placement an upright, moving window's mean acceleration (3,) points to: ``waist``
    (gravity along ``±x``), ``pocket`` (along ``±y``) or None (neither: a hand, a bag)."""
    norm = float(np.linalg.norm(gravity))
    if not np.isfinite(norm) or norm == 0:
        return None
    cosine = np.cos(np.deg2rad(AXIS_TOLERANCE_DEG))
    for placement, axis in _UPRIGHT_AXIS.items():
        if abs(float(gravity[axis])) / norm >= cosine:
            return placement
    return None


class PlacementRule:
    """The placement of a stream and its answer to SITTING or LAYING (module docstring).

    Args:
        labels: the model's classes, in output order.
        placement: ``auto`` (from the stream's walking), ``pocket`` or ``waist`` (given).
    """

    def __init__(self, labels: Sequence[str], placement: str = AUTO) -> None:
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
        self.labels = tuple(labels)
        self.hint = placement
        needed = (SEATED, LYING, *MOVING_CLASSES)
        self.applies = all(name in self.labels for name in needed)
        self._moving = np.array([label in MOVING_CLASSES for label in self.labels])
        self.reset()

    def reset(self) -> None:
        """A new, unrelated stream: forget a placement found, keep one given."""
        self.placement: str | None = None if self.hint == AUTO else self.hint
        self._candidate: str | None = None
        self._streak = 0

    def apply(
        self, probabilities: np.ndarray, gravity: np.ndarray
    ) -> tuple[np.ndarray, list[str | None]]:
        """The probabilities (n, classes) of n successive windows with the rule applied, and
        the placement known at each window; ``gravity``: each window's mean total
        acceleration (n, 3), in the phone's frame."""
        if not self.applies:
            return probabilities, [self.placement] * len(probabilities)
        out = np.array(probabilities, dtype=np.float32, copy=True)
        seated, lying = self.labels.index(SEATED), self.labels.index(LYING)
        known: list[str | None] = []
        for i in range(len(out)):
            if self._moving[int(np.argmax(out[i]))]:
                self._observe(placement_of(gravity[i]))
            if self.placement == POCKET:
                out[i, seated] += out[i, lying]
                out[i, lying] = 0.0
            known.append(self.placement)
        return out, known

    def _observe(self, found: str | None) -> None:
        """One moving window's placement; a stretch of agreeing ones settles it."""
        if found is None or self.hint != AUTO:
            self._candidate, self._streak = None, 0
            return
        self._streak = self._streak + 1 if found == self._candidate else 1
        self._candidate = found
        if self._streak >= STRETCH_WINDOWS:
            self.placement = found


def window_gravity(windows: np.ndarray) -> np.ndarray:
    """Each model window's (n, window, channels) mean total acceleration (n, 3), in g, in
    the phone's frame."""
    return np.asarray(windows)[:, :, _TOTAL].mean(axis=1)
