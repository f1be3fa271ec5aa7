"""The manifest's ``training_domain``: what a model saw in training, measured from its data.

The windows are the model's training windows (its data set without its validation and test
subjects) as the model saw them: with the augmentation its config asks for (small rotations,
other placements, faster or slower), drawn twice, besides the windows as recorded. The
runtime compares each streamed window with it (:mod:`harlite.runtime.signal.domain_check`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harlite.runtime.signal.domain_check import TrainingDomain
from harlite.train.augment import WAIST, augmenter, replayable
from harlite.train.config import TrainConfig
from harlite.train.datasets import input_rates, test_subjects, windows_for_model
from harlite.train.tf_setup import tensorflow
from harlite.train.windowset import WindowSet

#: Augmented draws of every training window added to the windows as recorded.
AUGMENTED_DRAWS = 2
#: Placements the placement augmentation shows waist windows in.
SIMULATED_PLACEMENTS = ("pocket", "hand")


def training_windows(data_dir: str | Path, config: TrainConfig) -> WindowSet:
    """The windows ``config``'s model was trained on: its data without its validation
    subjects and the data set's test subjects."""
    windows = windows_for_model(data_dir, config)
    held_out = set(test_subjects(data_dir)) | set(config.val_subjects or ())
    return windows.select(~np.isin(windows.subject, sorted(held_out)))


def augmented(windows: WindowSet, config: TrainConfig, seed: int = 0) -> np.ndarray:
    """One augmented draw of every window (as training draws them), in order."""
    tf = tensorflow()
    if not config.augments or not len(windows):
        return windows.X
    tf.random.set_seed(seed)
    augment = augmenter(config)
    replay, continued = replayable(windows, config)
    out = []
    for start in range(0, len(windows), 2048):
        part = slice(start, start + 2048)
        x, _ = augment(
            tf.constant(replay[part]),
            tf.constant(windows.y[part]),
            tf.constant(windows.placement[part]),
            tf.constant(continued[part]),
        )
        out.append(x.numpy())
    return np.concatenate(out)


def measure_training_domain(data_dir: str | Path, config: TrainConfig) -> TrainingDomain:
    """The training domain of the model ``config`` describes, trained on ``data_dir``."""
    windows = training_windows(data_dir, config)
    draws = [windows.X] + [augmented(windows, config, seed) for seed in range(AUGMENTED_DRAWS)]
    placements = sorted({str(p) for p in np.unique(windows.placement) if p})
    if config.placement_aug and WAIST in placements:
        placements += [f"{p} (simulated)" for p in SIMULATED_PLACEMENTS if p not in placements]
    return TrainingDomain.measure(np.concatenate(draws), input_rates(data_dir), tuple(placements))
