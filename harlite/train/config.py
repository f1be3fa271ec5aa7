"""Training settings: one dataclass, resolved from a preset and the user's overrides."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from harlite.atomic import write_text_atomic
from harlite.runtime.signal.preprocessing import FilterDesign
from harlite.runtime.spec import ACTIVITY_LABELS, HOP_SAMPLES, WINDOW_SAMPLES

#: HAPT's validation subjects unless told otherwise: four of the 21 training subjects.
DEFAULT_VAL_SUBJECTS: tuple[int, ...] = (27, 28, 29, 30)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; saved as ``config.json`` in the run dir.

    Attributes:
        preset: model architecture (see ``harlite.train.models.PRESETS``).
        epochs: most epochs to train.
        batch_size, lr: Adam's batch size and learning rate.
        l2: coefficient λ of the weight penalty λ·Σ‖w‖²/2 over all weights (the notebook's form).
        seed: seeds weights, shuffling and augmentation.
        val_subjects: subjects held out for model selection and early stopping (None: the
            data set's default, resolved by training: 27–30 for HAPT and UCI HAR, a
            recordings folder's ``val`` split or a seeded fifth of its subjects).
        patience: stop after this many epochs without a better validation score (0: never).
        select: ``best`` keeps the weights of the best validation epoch, ``last`` the final ones.
        normalize: standardise each channel with training statistics inside the model.
        rotation_deg, scale: augmentation: random rotations of the phone up to this angle and
            random gain in [1 − scale, 1 + scale] (0 turns each off).
        waist_rotation_deg: the random rotation's bound for windows recorded at the waist
            (None: ``rotation_deg``). At the waist, sitting and standing differ by the
            pelvis's tilt alone (about 20° in HAPT), which a wide random rotation blurs; a
            pocket's thigh turns by 90° between them.
        placement_aug: the share of waist windows shown, each epoch, as seen from a phone in a
            trouser pocket or a hand (:mod:`harlite.train.augment`; 0: off).
        balance: how much rare (placement, class) groups weigh in the loss: each window's
            weight is proportional to its group's window count to the power ``-balance``
            (mean weight 1; 0: every window alike, 1: every group alike). Pocket stairs are a
            few hundred windows beside thousands at the waist.
        average_epochs: where the last weights are kept (``select=last``, or no validation
            people), keep instead the mean of the weights after each of the last this many
            epochs run (fewer if fewer ran; 0: the last epoch's alone; with ``select=best``
            and validation people it does nothing). Held-out accuracy wanders by points from
            one epoch to the next; the mean of late epochs does not depend on where training
            stops. Batch normalisation's statistics are averaged like the weights (not
            re-estimated).
        pocket_mirror: the share of trouser-pocket windows shown, each epoch, as from the
            other leg's pocket (mirrored through the phone's ``y``–``z`` plane, which holds
            the thigh's axis; :mod:`harlite.train.augment`; 0: off).
        thigh_turn_deg: trouser-pocket windows turned, each epoch, about the thigh (the
            phone's ``y`` axis) by up to ± this angle: the phone further round the leg, as in
            a side pocket (0: off).
        time_warp: the same movement performed faster or slower, each epoch: a window
            replayed at a speed drawn from 1 ± this (angular rates scaled by the speed, body
            accelerations by its square, gravity kept; :mod:`harlite.train.augment`; 0: off).
        dropout: dropout before the classifier (preset-dependent use).
        unroll: train the recurrent layers as 128 static steps instead of a loop (the same
            numbers; conversion chooses the exported form separately).
        window, hop, design: how windows are cut and filtered (the device uses the same).
        labels: the class names, in the order of the model's outputs (from the data).
        init: the model fine-tuning started from (a run, bundle or shipped name), or None.
        freeze_epochs: epochs at the start of fine-tuning that train the classifier only.
    """

    preset: str = "lstm"
    epochs: int = 300
    batch_size: int = 1500
    lr: float = 0.0025
    l2: float = 0.0015
    seed: int = 0
    val_subjects: tuple[int, ...] | None = None
    patience: int = 0
    select: str = "best"
    normalize: bool = True
    rotation_deg: float = 0.0
    waist_rotation_deg: float | None = None
    scale: float = 0.0
    placement_aug: float = 0.0
    balance: float = 0.0
    average_epochs: int = 0
    pocket_mirror: float = 0.0
    thigh_turn_deg: float = 0.0
    time_warp: float = 0.0
    dropout: float = 0.0
    unroll: bool = False
    window: int = WINDOW_SAMPLES
    hop: int = HOP_SAMPLES
    design: FilterDesign = field(default_factory=FilterDesign)
    labels: tuple[str, ...] = ACTIVITY_LABELS
    init: str | None = None
    freeze_epochs: int = 0

    def __post_init__(self) -> None:
        if self.select not in ("best", "last"):
            raise ValueError(f"select must be 'best' or 'last', not {self.select!r}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError("epochs, batch_size and lr must be positive")
        if self.val_subjects is not None:
            object.__setattr__(self, "val_subjects", tuple(int(s) for s in self.val_subjects))
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"labels must be two or more distinct names, not {self.labels}")
        if not 0 <= self.placement_aug <= 1:
            raise ValueError(f"placement_aug must lie in 0..1, not {self.placement_aug}")
        if not 0 <= self.pocket_mirror <= 1:
            raise ValueError(f"pocket_mirror must lie in 0..1, not {self.pocket_mirror}")
        if not 0 <= self.thigh_turn_deg <= 180:
            raise ValueError(f"thigh_turn_deg must lie in 0..180, not {self.thigh_turn_deg}")
        if self.waist_rotation_deg is not None and not 0 <= self.waist_rotation_deg <= 180:
            raise ValueError(
                f"waist_rotation_deg must lie in 0..180, not {self.waist_rotation_deg}"
            )
        if not 0 <= self.time_warp < 0.5:
            raise ValueError(f"time_warp must lie in 0..0.5 (not included), not {self.time_warp}")
        if not 0 <= self.balance <= 1:
            raise ValueError(f"balance must lie in 0..1, not {self.balance}")
        if self.average_epochs < 0:
            raise ValueError(f"average_epochs must be 0 or more, not {self.average_epochs}")
        if self.freeze_epochs < 0:
            raise ValueError(f"freeze_epochs must be 0 or more, not {self.freeze_epochs}")
        if isinstance(self.design, dict):  # as read from JSON
            object.__setattr__(self, "design", FilterDesign.from_dict(self.design))
        if not 1 <= self.hop <= self.window:
            raise ValueError(f"hop must lie in 1..{self.window}, not {self.hop}")

    @property
    def augments(self) -> bool:
        """Whether training shows any window otherwise than as recorded."""
        return bool(
            self.rotation_deg
            or self.waist_rotation_deg
            or self.scale
            or self.placement_aug
            or self.pocket_mirror
            or self.thigh_turn_deg
            or self.time_warp
        )

    def override(self, **changes: Any) -> TrainConfig:
        """A copy with the given fields changed; None values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        data = asdict(self)  # the design becomes its dict too
        data["val_subjects"] = None if self.val_subjects is None else list(self.val_subjects)
        data["labels"] = list(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
        return cls(**data)

    def save(self, path: str | Path) -> None:
        """Write as JSON, atomically."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a file written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))
