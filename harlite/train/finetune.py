"""Fine-tuning: start training from a trained model's weights (``harlite train --init``).

The new model is the base model's preset with the base's preprocessing and input
normalisation; every layer is copied from the base except the classifier head when the label
set differs (a new head is initialised). For the first ``freeze_epochs`` only the head
trains, so that a fresh head does not disturb the learnt features; then every layer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite.errors import HarliteError
from harlite.train.config import TrainConfig

#: The classifier head's layer name (see ``harlite.train.models._classifier``).
HEAD = "logits"

#: Settings for a few minutes of data per class, where the user does not set them: small
#: batches (a preset's 1,500 would be one step per epoch), a lower learning rate, and the
#: head alone for the first epochs (measured by benchmarks/bench_finetune.py; docs/own-data.md).
FINE_TUNE_DEFAULTS: dict[str, Any] = {
    "epochs": 60,
    "batch_size": 32,
    "lr": 0.001,
    "freeze_epochs": 10,
    "patience": 20,
    # a few minutes of your own recordings: keep the best validation epoch, every window
    # weighing alike, your windows as recorded (the default model's loss balancing,
    # averaging of late epochs and pocket mirroring were chosen by cross-validation on its
    # own, far larger data; not measured for fine-tuning)
    "select": "best",
    "balance": 0.0,
    "average_epochs": 0,
    "pocket_mirror": 0.0,
    "thigh_turn_deg": 0.0,
    "time_warp": 0.0,
}


@dataclass(frozen=True)
class BaseModel:
    """The model fine-tuning starts from, with its training settings."""

    model: Any
    config: TrainConfig
    where: str


def base_settings(init: str | Path) -> TrainConfig:
    """The training settings of a run folder, ``.keras`` file or bundle (its model is not
    loaded: training loads it once, when it builds the new model)."""
    from harlite.train.evaluation import resolve_model

    return resolve_model(init)[1]


def load_base(init: str | Path) -> BaseModel:
    """The Keras model and settings of a run folder, ``.keras`` file or bundle."""
    from harlite.train.evaluation import resolve_model
    from harlite.train.models import load_model

    model_file, config = resolve_model(init)
    if not model_file.is_file():
        raise HarliteError(f"{init}: no Keras model to start from ({model_file.name} missing)")
    return BaseModel(load_model(model_file), config, str(init))


def fine_tune_config(
    init: str | Path, base: TrainConfig, config: TrainConfig, **overrides: Any
) -> TrainConfig:
    """``config`` for fine-tuning the model at ``init``, trained with settings ``base``: the
    base's architecture, preprocessing and normalisation, :data:`FINE_TUNE_DEFAULTS` where
    ``overrides`` (None: not set) leave a setting open."""
    if config.preset != base.preset:
        raise HarliteError(
            f"--preset {config.preset} differs from the base model's {base.preset}: "
            "fine-tuning keeps the base's architecture (leave --preset out)"
        )
    chosen = {k: v for k, v in overrides.items() if v is not None}
    settings = {**FINE_TUNE_DEFAULTS, **chosen}
    if "freeze_epochs" not in chosen:
        settings["freeze_epochs"] = frozen_epochs_for(settings["epochs"])
    return config.override(
        init=str(init),
        design=base.design,
        window=base.window,
        hop=base.hop,
        normalize=base.normalize,
        **settings,
    )


def frozen_epochs_for(epochs: int) -> int:
    """The default head-alone epochs for ``epochs`` in all: the defaults' share (10 of 60,
    rounded half up), at most the default's 10 and fewer than ``epochs``, so that a short
    run still trains the whole model; at least one in a run of two or more, so that the new
    head's random first gradients never reach the copied features (``round`` gave 0 for
    ``--epochs 3``)."""
    if epochs < 2:
        return 0
    default = FINE_TUNE_DEFAULTS["freeze_epochs"]
    share = int(epochs * default / FINE_TUNE_DEFAULTS["epochs"] + 0.5)
    return min(default, epochs - 1, max(1, share))


def freeze_note(config: TrainConfig, freeze_given: bool) -> str | None:
    """What to tell the person about the head-alone epochs of a fine-tuning run: that a
    short run's were scaled down, or that the whole run trains the head alone."""
    if config.init is None:
        return None
    frozen, epochs = config.freeze_epochs, config.epochs
    if frozen >= epochs:
        return (
            f"warning: --freeze-epochs {frozen} is not below --epochs {epochs}: only the "
            "classifier head trains and the features never adapt to your data (give more "
            "epochs or fewer frozen ones)"
        )
    default = FINE_TUNE_DEFAULTS["freeze_epochs"]
    if not freeze_given and frozen == 0:
        return (
            f"the new classifier head trains with every layer from the first epoch (--epochs "
            f"{epochs} leaves none for the head alone; the default is {default} of "
            f"{FINE_TUNE_DEFAULTS['epochs']})"
        )
    if not freeze_given and frozen < default:
        return (
            f"the classifier head trains alone for the first {frozen} of {epochs} epochs "
            f"(the default {default} scaled to --epochs {epochs}; set it with --freeze-epochs)"
        )
    return None


def copy_weights(model: Any, base: BaseModel, same_labels: bool) -> list[str]:
    """Copy the base's weights into ``model`` layer by layer (the head only when the labels
    are the same); returns the names of the layers copied."""
    copied = []
    base_layers = {layer.name: layer for layer in base.model.layers}
    for layer in model.layers:
        source = base_layers.get(layer.name)
        if source is None or not layer.weights or (layer.name == HEAD and not same_labels):
            continue
        weights = source.get_weights()
        if [w.shape for w in weights] != [w.shape for w in layer.get_weights()]:
            raise HarliteError(
                f"{base.where}: layer {layer.name} does not fit this preset's model "
                "(a different architecture)"
            )
        layer.set_weights(weights)
        copied.append(layer.name)
    if not copied:
        raise HarliteError(f"{base.where}: no layer of the base model fits this preset's model")
    return copied


def base_normalization(base: BaseModel) -> tuple[np.ndarray, np.ndarray] | None:
    """The base model's input mean and variance (its features were learnt on inputs scaled
    by them), or None when it does not normalise."""
    try:
        settings = base.model.get_layer("normalize").get_config()
    except ValueError:
        return None
    mean = np.asarray(settings["mean"], dtype=np.float32).reshape(-1)
    variance = np.asarray(settings["variance"], dtype=np.float32).reshape(-1)
    return mean, variance


def set_features_trainable(model: Any, trainable: bool) -> None:
    """Freeze (False) or release (True) every layer but the classifier head."""
    for layer in model.layers:
        if layer.name != HEAD:
            layer.trainable = trainable
