"""Where the phone is carried, told by the stream itself, and the still postures that settles.

A still posture is the tilt of the body segment the phone rides on, and which phone axis lies
along that segment depends on where the phone is. At the waist (in a holder, as HAPT's phone
was) the ``x`` axis runs along the torso; in a trouser pocket the ``y`` axis runs along the
thigh. One window does not say which, and the two collide: a pocket phone on a seated thigh
lies flat like a waist phone on a person lying on their back, and a waist phone on a person
lying on their side stands on its ``y`` axis like a pocket phone on a standing person. No
model can tell these apart from one window.

Walking does tell where the phone is: upright and moving, gravity runs along the body's axis,
``x`` at the waist, ``y`` in a pocket; and a pocket phone swings with the thigh, turning far
faster than a waist phone does (so a waist phone on a person shifting while lying on their
side, gravity along ``y``, is not taken for one: :data:`POCKET_SWING_RAD_S`). So does
standing at the waist (gravity along ``x``: a pocket phone on a standing thigh has it along
``y``; standing along ``y`` is not taken as a pocket, since a waist phone on a person lying on
their side looks the same). So the stream remembers the placement of its last such
stretch, and while it knows it, a window the model calls a still posture (SITTING, STANDING,
LAYING) is answered by the tilt of the body's axis from vertical, all the still-posture
probability going to the posture the tilt gives:

- in a pocket: the thigh within :data:`THIGH_UPRIGHT_DEG` of vertical is STANDING, else
  SITTING (a person with a phone in a trouser pocket sits far more often than they lie down,
  and a lying thigh is as flat as a seated one);
- at the waist: the torso more than :data:`TORSO_LYING_DEG` from vertical is LAYING, else
  the model's own split between SITTING and STANDING (the torso's slight lean).

The angles come from the training recordings: pocket standing ≤ 9°, sitting ≥ 35°; waist
standing ≤ 29°, sitting ≤ 63°, lying ≥ 68° (every window of HAPT, sp-sw and
difronzo-pocket). Until the stream has walked, the placement is unknown and the model's
answer stands, unless a hint fixes it (``harlite stream --placement pocket``). The rule needs
the classes it talks about: a model without them is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harlite.runtime.spec import MODEL_CHANNELS

#: What ``--placement`` takes: found from walking (``auto``), given, or ``off`` (the model's
#: own answer, as offline evaluation gives it).
AUTO = "auto"
POCKET = "pocket"
WAIST = "waist"
OFF = "off"
PLACEMENTS = (AUTO, POCKET, WAIST, OFF)
#: Classes in which a person is upright and moving: their gravity says the placement.
MOVING_CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
SEATED, STANDING, LYING = "SITTING", "STANDING", "LAYING"
STILL_CLASSES = (SEATED, STANDING, LYING)
#: Gravity within this angle of a phone axis (either sign) while moving names the placement.
AXIS_TOLERANCE_DEG = 30.0
#: Moving windows in a row that must agree before the placement changes (one odd window,
#: a phone taken out of the pocket for a moment, changes nothing).
STRETCH_WINDOWS = 3
#: A pocket phone swings with the thigh: a moving window names the pocket only if its angular
#: rate (root mean square of its magnitude, rad/s) reaches this. Every pocket walking window
#: of sp-sw and difronzo-pocket turns at ≥ 0.86 rad/s; HAPT's waist phones on people shifting
#: while lying, windows a model may take for walking, at ≤ 0.6 rad/s.
POCKET_SWING_RAD_S = 0.7
#: A pocket phone's thigh within this angle of vertical is standing, beyond it seated.
THIGH_UPRIGHT_DEG = 30.0
#: A waist phone's torso beyond this angle from vertical is lying.
TORSO_LYING_DEG = 65.0
#: The phone axis along the body segment it rides on, per placement.
BODY_AXIS = {WAIST: 0, POCKET: 1}
#: The model channels of total acceleration (gravity included), x, y, z.
_TOTAL = slice(MODEL_CHANNELS.index("total_acc_x"), MODEL_CHANNELS.index("total_acc_z") + 1)
#: The model channels of angular rate, x, y, z.
_GYRO = slice(MODEL_CHANNELS.index("body_gyro_x"), MODEL_CHANNELS.index("body_gyro_z") + 1)


def tilt_deg(gravity: np.ndarray, axis: int) -> float:
    """The angle (degrees, 0–90) between phone axis ``axis`` and the vertical, from a window's
    mean acceleration (3,); NaN for a zero or non-finite one."""
    norm = float(np.linalg.norm(gravity))
    if not np.isfinite(norm) or norm == 0:
        return float("nan")
    return float(np.degrees(np.arccos(min(1.0, abs(float(gravity[axis])) / norm))))


def placement_of(gravity: np.ndarray, swing: float) -> str | None:
    """The placement an upright, moving window points to, from its mean acceleration (3,) and
    its angular rate ``swing`` (rad/s, :func:`window_swing`): ``waist`` (gravity along
    ``±x``), ``pocket`` (along ``±y``, turning as a thigh does) or None (neither: a hand, a
    bag, or a waist phone on a person lying on their side)."""
    if tilt_deg(gravity, BODY_AXIS[WAIST]) <= AXIS_TOLERANCE_DEG:
        return WAIST
    if tilt_deg(gravity, BODY_AXIS[POCKET]) <= AXIS_TOLERANCE_DEG and swing >= POCKET_SWING_RAD_S:
        return POCKET
    return None


class PlacementRule:
    """The placement of a stream and the still postures it settles (module docstring).

    Args:
        labels: the model's classes, in output order.
        placement: ``auto`` (from the stream's walking), ``pocket`` or ``waist`` (given), or
            ``off`` (the model's answer unchanged).
    """

    def __init__(self, labels: Sequence[str], placement: str = AUTO) -> None:
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, not {placement!r}")
        self.labels = tuple(labels)
        self.hint = placement
        needed = (*STILL_CLASSES, *MOVING_CLASSES)
        self.applies = placement != OFF and all(name in self.labels for name in needed)
        self._moving = np.array([label in MOVING_CLASSES for label in self.labels])
        if self.applies:
            self._seated, self._standing, self._lying = map(self.labels.index, STILL_CLASSES)
        self.reset()

    def reset(self) -> None:
        """A new, unrelated stream: forget a placement found, keep one given."""
        self.placement: str | None = self.hint if self.hint in (POCKET, WAIST) else None
        self._candidate: str | None = None
        self._streak = 0

    def apply(
        self, probabilities: np.ndarray, gravity: np.ndarray, swing: np.ndarray
    ) -> tuple[np.ndarray, list[str | None]]:
        """The probabilities (n, classes) of n successive windows with the rule applied, and
        the placement known at each window; ``gravity``: each window's mean total
        acceleration (n, 3), in the phone's frame (:func:`window_gravity`); ``swing``: each
        window's angular rate (n,), rad/s (:func:`window_swing`)."""
        if not self.applies:
            return probabilities, [self.placement] * len(probabilities)
        out = np.array(probabilities, dtype=np.float32, copy=True)
        known: list[str | None] = []
        for i in range(len(out)):
            top = int(np.argmax(out[i]))
            found = placement_of(gravity[i], float(swing[i]))
            if self._moving[top]:
                self._observe(found)
            elif top == self._standing and found == WAIST:
                self._observe(WAIST)
            if self.placement is not None and not self._moving[top]:
                self._settle(out[i], tilt_deg(gravity[i], BODY_AXIS[self.placement]))
            known.append(self.placement)
        return out, known

    def _settle(self, p: np.ndarray, tilt: float) -> None:
        """A still window's posture from the body axis' tilt, in place."""
        if not np.isfinite(tilt):
            return
        still = float(p[self._seated] + p[self._standing] + p[self._lying])
        upright = p[self._seated] + p[self._standing]
        if self.placement == POCKET:
            posture = self._standing if tilt <= THIGH_UPRIGHT_DEG else self._seated
        elif tilt > TORSO_LYING_DEG:
            posture = self._lying
        else:  # upright torso: the model's own split between sitting and standing
            share = p[self._seated] / upright if upright > 0 else 0.5
            p[self._seated], p[self._standing], p[self._lying] = (
                still * share,
                still * (1 - share),
                0.0,
            )
            return
        p[[self._seated, self._standing, self._lying]] = 0.0
        p[posture] = still

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


def window_swing(windows: np.ndarray) -> np.ndarray:
    """Each model window's (n, window, channels) angular rate (n,): the root mean square of
    its magnitude, in rad/s."""
    gyro = np.asarray(windows, dtype=np.float64)[:, :, _GYRO]
    return np.sqrt((gyro**2).sum(axis=2).mean(axis=1))
