"""Model presets: the notebook's stacked LSTM and stronger models that still fit a device.

Every model takes raw windows ``(batch, 128, 9)`` (body_acc, body_gyro, total_acc in g and
rad/s) and returns one logit per class of its training data (``config.labels``: the six HAR
activities, or a recordings folder's own classes). Normalisation with training statistics,
where a preset uses it, is the model's first layer, so a deployed model needs nothing but the
window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harlite.errors import HarliteError
from harlite.runtime.spec import N_MODEL_CHANNELS
from harlite.train.config import TrainConfig
from harlite.train.tf_setup import keras, tensorflow


@dataclass(frozen=True)
class Preset:
    """A named architecture with the training settings chosen for it."""

    name: str
    description: str
    build: Callable[..., Any]
    settings: dict[str, Any] = field(default_factory=dict)

    def config(self, **overrides: Any) -> TrainConfig:
        """The preset's TrainConfig, with ``overrides`` (None values ignored) applied."""
        return TrainConfig(preset=self.name, **self.settings).override(**overrides)


def _regularizer(config: TrainConfig):
    # The notebook's penalty λ·Σ‖w‖²/2 is Keras' L2 with factor λ/2, on every weight.
    return keras().regularizers.L2(config.l2 / 2) if config.l2 else None


def _lstm_settings(config: TrainConfig, unroll: bool) -> dict[str, Any]:
    """Keyword arguments every LSTM layer shares: the weight penalty, forget-gate bias 1."""
    reg = _regularizer(config)
    return {
        "kernel_regularizer": reg,
        "recurrent_regularizer": reg,
        "bias_regularizer": reg,
        "unit_forget_bias": True,
        "unroll": unroll,
    }


def _hidden(x, config: TrainConfig):
    """The notebook's per-step Dense(32, ReLU) on the 9 input channels."""
    reg = _regularizer(config)
    return keras().layers.Dense(
        32, activation="relu", kernel_regularizer=reg, bias_regularizer=reg, name="hidden"
    )(x)


def _classifier(window, features, config: TrainConfig):
    """Optional dropout, then one logit per class: the model from ``window`` to the logits."""
    layers, reg = keras().layers, _regularizer(config)
    if config.dropout:
        features = layers.Dropout(config.dropout, name="dropout")(features)
    logits = layers.Dense(
        len(config.labels), kernel_regularizer=reg, bias_regularizer=reg, name="logits"
    )(features)
    return keras().Model(window, logits, name=config.preset)


def _inputs(config: TrainConfig, mean: np.ndarray | None, variance: np.ndarray | None):
    layers = keras().layers
    window = keras().Input((config.window, N_MODEL_CHANNELS), name="window")
    x = window
    if config.normalize:
        if mean is None or variance is None:
            raise ValueError("this configuration normalises: pass the training mean and variance")
        x = layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalize")(x)
    return window, x


def build_stacked_lstm(
    config: TrainConfig,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    unroll: bool = False,
):
    """The notebook's model: per-step Dense(32, ReLU), two stacked LSTM(32), last output,
    Dense(6) logits. ``unroll=True`` builds 128 static steps (no loop ops) for freezing."""
    layers, rnn = keras().layers, _lstm_settings(config, unroll)
    window, x = _inputs(config, mean, variance)
    x = _hidden(x, config)
    x = layers.LSTM(32, return_sequences=True, name="lstm_1", **rnn)(x)
    x = layers.LSTM(32, name="lstm_2", **rnn)(x)
    return _classifier(window, x, config)


def _reverse_time_layer():
    """A Keras layer that reverses the time axis (registered, so saved models reload)."""
    k, tf = keras(), tensorflow()
    name = "harlite>ReverseTime"
    registered = k.saving.get_registered_object(name)
    if registered is not None:
        return registered

    @k.saving.register_keras_serializable(package="harlite", name="ReverseTime")
    class ReverseTime(k.layers.Layer):
        """Reverses a sequence along time (axis 1)."""

        def call(self, inputs):
            return tf.reverse(inputs, axis=[1])

    return ReverseTime


def _bidirectional(x, units: int, rnn: dict, name: str):
    """A bidirectional LSTM built from two forward LSTMs (the backward one on the reversed
    sequence). Keras' Bidirectional wrapper converts to TFLite with wrong backward outputs and
    does not quantise; this form converts to two fused LSTM ops and two REVERSE_V2."""
    layers, reverse = keras().layers, _reverse_time_layer()
    forward = layers.LSTM(units, name=f"{name}_forward", **rnn)(x)
    backward = reverse(name=f"{name}_unreverse")(
        layers.LSTM(units, name=f"{name}_backward", **rnn)(reverse(name=f"{name}_reverse")(x))
    )
    return layers.Concatenate(name=f"{name}_concat")([forward, backward])


def build_residual_bilstm(
    config: TrainConfig,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    unroll: bool = False,
):
    """The notebook author's later idea: stacked bidirectional LSTMs with residual
    connections. Per-step Dense(32, ReLU), a BiLSTM(2×16), then two BiLSTM(2×16) blocks each
    added to its input, mean over time, Dense(6) logits."""
    layers = keras().layers
    rnn = {**_lstm_settings(config, unroll), "return_sequences": True}
    window, x = _inputs(config, mean, variance)
    x = _hidden(x, config)
    x = _bidirectional(x, 16, rnn, name="bilstm_1")
    for block in (2, 3):
        # residuals join LSTM outputs (both in [-1, 1]); adding the unbounded ReLU input
        # instead left the full-integer model at chance
        h = _bidirectional(x, 16, rnn, name=f"bilstm_{block}")
        x = layers.Add(name=f"residual_{block}")([x, h])
    x = layers.GlobalAveragePooling1D(name="mean_over_time")(x)
    return _classifier(window, x, config)


def _conv_block(x, config: TrainConfig, i: int, filters: int, pool: bool):
    """Conv1D(filters, k=5, no bias) + BatchNorm + ReLU, then max-pooling by 2 if ``pool``."""
    layers = keras().layers
    x = layers.Conv1D(
        filters,
        5,
        padding="same",
        use_bias=False,
        kernel_regularizer=_regularizer(config),
        name=f"conv_{i}",
    )(x)
    x = layers.BatchNormalization(name=f"bn_{i}")(x)
    x = layers.ReLU(name=f"relu_{i}")(x)
    return layers.MaxPooling1D(2, name=f"pool_{i}")(x) if pool else x


def build_cnn(
    config: TrainConfig,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    unroll: bool = False,
):
    """A 1D CNN: Conv1D(k=5)+BatchNorm+ReLU blocks of 32, 64 and 64 filters (the first two
    pooled), mean over time, Dense(6) logits. ``unroll`` is accepted for a uniform
    interface (there is no loop)."""
    del unroll
    window, x = _inputs(config, mean, variance)
    for i, (filters, pool) in enumerate(((32, True), (64, True), (64, False)), start=1):
        x = _conv_block(x, config, i, filters, pool)
    x = keras().layers.GlobalAveragePooling1D(name="mean_over_time")(x)
    return _classifier(window, x, config)


def build_cnn_lstm(
    config: TrainConfig,
    mean: np.ndarray | None = None,
    variance: np.ndarray | None = None,
    unroll: bool = False,
):
    """A convolutional front end for the LSTM: two Conv1D(32, k=5)+BatchNorm+ReLU blocks
    with pooling (128 → 32 steps), LSTM(32), last output, Dense(6) logits."""
    window, x = _inputs(config, mean, variance)
    for i in (1, 2):
        x = _conv_block(x, config, i, 32, pool=True)
    x = keras().layers.LSTM(32, name="lstm", **_lstm_settings(config, unroll))(x)
    return _classifier(window, x, config)


#: Augmentation every trained preset uses: rotations up to ±30°, gain ±10% (see the search).
_AUGMENT = {"rotation_deg": 30.0, "scale": 0.1}
#: The default model's: also half of the waist windows of still postures shown as a pocket
#: would see them, and a quarter of the moving ones as a hand would (harlite.train.augment);
#: every (placement, class) group weighing alike in the loss (pocket stairs are a few hundred
#: windows beside thousands at the waist); half the pocket windows shown as from the other
#: leg's pocket, and each turned up to ±45° about the thigh; every window replayed up to 20%
#: faster or slower. Cross-validated (benchmarks/results/crossval_lstm-warp.json) and shipped
#: with the mean of the weights of its last epochs (no held-out people to pick an epoch on);
#: a run with validation subjects keeps its best validation epoch, as every preset does.
_ANYWHERE = {
    **_AUGMENT,
    "placement_aug": 0.5,
    "balance": 1.0,
    "average_epochs": 60,
    "pocket_mirror": 0.5,
    "thigh_turn_deg": 45.0,
    "time_warp": 0.2,
}
#: Settings the convolutional presets share: smaller batches, fewer epochs, dropout.
_CONV_TRAINING = {"lr": 0.002, "batch_size": 256, "epochs": 150, "dropout": 0.3}

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "lstm",
            "The notebook's stacked LSTM (2 × LSTM(32)), with normalised inputs, rotation, "
            "gain and placement augmentation (still postures also shown as from a trouser "
            "pocket, walking as from a hand; pocket windows also as from the other leg and "
            "turned about the thigh; every window also replayed faster or slower), every "
            "placement and class weighing alike, and "
            f"the best validation epoch kept (with no one held out, the mean of the last "
            f"{_ANYWHERE['average_epochs']} epochs' weights).",
            build_stacked_lstm,
            _ANYWHERE,
        ),
        Preset(
            "notebook",
            "The original notebook's recipe unchanged: the same model on raw inputs, 300 "
            "epochs, final weights (for comparison).",
            build_stacked_lstm,
            {"normalize": False, "select": "last", "patience": 0},
        ),
        Preset(
            "resbilstm",
            "Residual stacked bidirectional LSTM (the notebook author's later design).",
            build_residual_bilstm,
            _AUGMENT,
        ),
        Preset(
            "cnn",
            "1D CNN: three convolution blocks with batch normalisation, mean over time.",
            build_cnn,
            {"l2": 0.0005, **_CONV_TRAINING, **_AUGMENT},
        ),
        Preset(
            "cnnlstm",
            "Convolutional front end (128 → 32 steps) feeding one LSTM(32).",
            build_cnn_lstm,
            {**_CONV_TRAINING, **_AUGMENT},
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; a clear error for an unknown one."""
    if name not in PRESETS:
        raise HarliteError(f"unknown preset {name!r}: choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def build_model(config: TrainConfig, mean=None, variance=None, unroll: bool = False):
    """Build the model of ``config.preset`` (looped or unrolled recurrent layers)."""
    return get_preset(config.preset).build(config, mean, variance, unroll=unroll)


def save_model_atomic(model, path: Path) -> None:
    """Save a Keras model so that ``path`` always holds a complete model file."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    model.save(tmp)
    tmp.replace(path)


def load_model(path: str | Path):
    """Load a ``.keras`` model saved by harlite."""
    _reverse_time_layer()  # register harlite's custom layers before loading
    try:
        return keras().models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError) as error:
        raise HarliteError(f"{path}: cannot load the model: {error}") from None


def predict_logits(model, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The model's logits for windows ``X``."""
    if not len(X):
        return np.empty((0, int(model.output_shape[-1])), dtype=np.float32)
    return np.concatenate(
        [
            np.asarray(model(X[i : i + batch_size], training=False))
            for i in range(0, len(X), batch_size)
        ]
    )
