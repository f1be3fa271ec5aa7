"""Training: windows → subject split → fit with model selection on validation subjects.

``train()`` writes a run dir that is usable at every moment: the best checkpoint is saved
atomically whenever validation improves, the history after every epoch, and Ctrl-C ends the
run with the best checkpoint evaluated and every artefact written.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.train.config import TrainConfig
from harlite.train.datasets import load_windows
from harlite.train.evaluation import evaluate_predictions, format_report
from harlite.train.models import build_model
from harlite.train.plots import plot_confusion, plot_history
from harlite.train.splits import UCI_TEST_SUBJECTS
from harlite.train.tf_setup import keras, tensorflow
from harlite.train.windowset import WindowSet

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class TrainResult:
    """What a run produced: its folder, the validation report and how it ended."""

    run_dir: Path
    report: dict[str, Any]
    best_epoch: int
    epochs_run: int
    seconds: float
    interrupted: bool


def split_windows(windows: WindowSet, config: TrainConfig) -> tuple[WindowSet, WindowSet]:
    """(training, validation) windows; the standard test subjects are in neither."""
    val = set(config.val_subjects)
    leaked = val & set(UCI_TEST_SUBJECTS)
    if leaked:
        raise HarliteError(
            f"validation subjects {sorted(leaked)} are standard UCI HAR test subjects: "
            "never select models on them"
        )
    usable = windows.select(~np.isin(windows.subject, UCI_TEST_SUBJECTS))
    train = usable.select(~np.isin(usable.subject, sorted(val)))
    validation = usable.select(np.isin(usable.subject, sorted(val)))
    missing = val - set(validation.subjects)
    if missing and val:
        raise HarliteError(f"validation subjects {sorted(missing)} have no windows in the data")
    if not len(train):
        raise HarliteError("no training windows left after holding out the validation subjects")
    return train, validation


def channel_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and variance over all windows and steps (float32)."""
    flat = X.reshape(-1, X.shape[-1]).astype(np.float64)
    return flat.mean(axis=0).astype(np.float32), flat.var(axis=0).astype(np.float32)


def _augmenter(config: TrainConfig):
    """A tf.data map function: rotate each window's three xyz triplets by one random small
    rotation (the phone worn slightly differently) and scale it by a random gain."""
    tf = tensorflow()
    max_angle = np.deg2rad(config.rotation_deg)

    def augment(x, y):
        batch = tf.shape(x)[0]
        if config.rotation_deg:
            axis = tf.math.l2_normalize(tf.random.normal((batch, 3)), axis=-1)
            angle = tf.random.uniform((batch, 1, 1), -max_angle, max_angle)
            zero = tf.zeros((batch,))
            a0, a1, a2 = axis[:, 0], axis[:, 1], axis[:, 2]
            k = tf.reshape(tf.stack([zero, -a2, a1, a2, zero, -a0, -a1, a0, zero], 1), (-1, 3, 3))
            rotation = (
                tf.eye(3, batch_shape=[batch])
                + tf.sin(angle) * k
                + (1 - tf.cos(angle)) * tf.matmul(k, k)
            )
            triplets = tf.reshape(x, (batch, -1, 3, 3))
            x = tf.reshape(tf.einsum("bij,btkj->btki", rotation, triplets), tf.shape(x))
        if config.scale:
            x = x * tf.random.uniform((batch, 1, 1), 1 - config.scale, 1 + config.scale)
        return x, y

    return augment


def _dataset(windows: WindowSet, config: TrainConfig):
    tf = tensorflow()
    data = tf.data.Dataset.from_tensor_slices((windows.X, windows.y))
    data = data.shuffle(len(windows), seed=config.seed, reshuffle_each_iteration=True)
    data = data.batch(config.batch_size)
    if config.rotation_deg or config.scale:
        data = data.map(_augmenter(config))
    return data.prefetch(2)


def _score(logs: dict[str, float]) -> tuple[float, float]:
    """Validation accuracy, ties broken by the lower validation loss."""
    return logs.get("val_accuracy", 0.0), -logs.get("val_loss", np.inf)


class _RunRecorder(keras().callbacks.Callback):
    """Keeps the run dir current after every epoch: history, and the checkpoint to keep
    (on each validation improvement for ``select=best``, every epoch for ``last``)."""

    def __init__(self, run_dir: Path, config: TrainConfig, progress) -> None:
        super().__init__()
        self.run_dir, self.config, self.progress = run_dir, config, progress
        self.history: dict[str, list[float]] = {}
        self.best_epoch, self.best_score = 0, (-np.inf, -np.inf)
        self.epochs_run = 0
        self._epoch_start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = {**(logs or {}), "epoch_seconds": time.perf_counter() - self._epoch_start}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_run = epoch + 1
        keep_last = self.config.select == "last" or "val_accuracy" not in logs
        improved = _score(logs) > self.best_score
        if improved:
            self.best_score, self.best_epoch = _score(logs), epoch + 1
        if keep_last or improved:
            save_model_atomic(self.model, self.run_dir / MODEL_FILE)
        if keep_last:
            self.best_epoch = epoch + 1
        record = {**self.history, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run}
        write_text_atomic(self.run_dir / HISTORY_FILE, json.dumps(record) + "\n")
        self.progress(epoch + 1, logs)


def save_model_atomic(model, path: Path) -> None:
    """Save a Keras model so that ``path`` always holds a complete model file."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    model.save(tmp)
    tmp.replace(path)


def train(
    config: TrainConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    verbose: bool = True,
    cache_dir: str | Path | bool | None = True,
) -> TrainResult:
    """Train ``config`` on the windows of ``data_dir`` and write the run dir.

    The run dir holds ``model.keras`` (the kept weights), ``config.json`` (the resolved
    settings), ``history.json`` and ``history.png`` (curves), and the validation evaluation:
    ``report.json``, ``report.txt`` and ``confusion.png``.
    """
    tf, k = tensorflow(), keras()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    windows = load_windows(data_dir, config.filter_design, config.window, config.hop, cache_dir)
    train_set, val_set = split_windows(windows, config)
    mean, variance = channel_stats(train_set.X)

    k.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(config, mean, variance, unroll=config.unroll)
    model.compile(
        optimizer=k.optimizers.Adam(config.lr),
        loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    config.save(run_dir / CONFIG_FILE)
    validating = len(val_set) > 0
    _echo(
        verbose,
        f"{config.preset}: {len(train_set)} training windows "
        f"(subjects {', '.join(map(str, train_set.subjects))}), {len(val_set)} validation "
        f"windows (subjects {', '.join(map(str, val_set.subjects)) or 'none'}), "
        f"{model.count_params():,} parameters",
    )
    if not validating and config.select == "best":
        _echo(
            verbose,
            f"no validation subjects: keeping the final weights after {config.epochs} epochs",
        )

    bar = (
        click.progressbar(
            length=config.epochs,
            label="training",
            file=sys.stderr,
            show_eta=True,
            item_show_func=lambda text: text,
        )
        if verbose
        else contextlib.nullcontext()
    )

    def progress(epoch: int, logs: dict[str, float]) -> None:
        if verbose:
            bar.update(
                1,
                f"epoch {epoch}: loss {logs.get('loss', 0):.3f} "
                f"acc {logs.get('accuracy', 0):.3f} val_loss {logs.get('val_loss', 0):.3f}"
                f" val_acc {logs.get('val_accuracy', 0):.3f}",
            )

    recorder = _RunRecorder(run_dir, config, progress)
    callbacks = [recorder]
    if config.patience and validating:
        callbacks.append(
            k.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.patience)
        )
    start = time.perf_counter()
    interrupted = False
    with bar:
        try:
            model.fit(
                _dataset(train_set, config),
                validation_data=(val_set.X, val_set.y) if validating else None,
                epochs=config.epochs,
                callbacks=callbacks,
                verbose=0,
            )
        except KeyboardInterrupt:
            interrupted = True
    seconds = time.perf_counter() - start
    if recorder.epochs_run == 0:
        raise HarliteError("interrupted before the first epoch ended: no model was saved")
    if interrupted:
        _echo(
            verbose,
            f"interrupted after {recorder.epochs_run} epochs: keeping the checkpoint "
            f"of epoch {recorder.best_epoch}",
        )

    kept = load_model(run_dir / MODEL_FILE)
    evaluated, split = (val_set, "val") if validating else (train_set, "train")
    report = evaluate_model(kept, evaluated)
    report.update(
        split=split,
        subjects=evaluated.subjects,
        best_epoch=recorder.best_epoch,
        epochs_run=recorder.epochs_run,
        train_seconds=round(seconds, 1),
        interrupted=interrupted,
        parameters=int(kept.count_params()),
    )
    which = "validation" if validating else "training (no validation subjects held out)"
    write_reports(
        report,
        run_dir,
        f"{config.preset} on {which} subjects {', '.join(map(str, evaluated.subjects))}",
    )
    history = json.loads((run_dir / HISTORY_FILE).read_text())
    plot_history(history, run_dir / "history.png", f"{config.preset} (seed {config.seed})")
    _echo(
        verbose,
        format_report(
            report,
            f"{which} (kept epoch {recorder.best_epoch} of {recorder.epochs_run}, {seconds:.0f} s)",
        ),
    )
    return TrainResult(
        run_dir, report, recorder.best_epoch, recorder.epochs_run, seconds, interrupted
    )


def write_reports(report: dict[str, Any], folder: Path, title: str) -> None:
    """Write report.json, report.txt and confusion.png into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / REPORT_FILE, json.dumps(report, indent=2) + "\n")
    write_text_atomic(folder / "report.txt", format_report(report, title) + "\n")
    plot_confusion(report, folder / "confusion.png", title)


def load_model(path: str | Path):
    """Load a ``.keras`` model saved by harlite."""
    from harlite.train import models

    models._reverse_time_layer()  # register harlite's custom layers before loading
    try:
        return keras().models.load_model(path, compile=False, safe_mode=True)
    except (OSError, ValueError) as error:
        raise HarliteError(f"{path}: cannot load the model: {error}") from None


def predict_logits(model, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """The model's logits for windows ``X``."""
    return (
        np.concatenate(
            [
                np.asarray(model(X[i : i + batch_size], training=False))
                for i in range(0, len(X), batch_size)
            ]
        )
        if len(X)
        else np.empty((0, 6), dtype=np.float32)
    )


def evaluate_model(model, windows: WindowSet) -> dict[str, Any]:
    """Evaluation figures of a Keras model on ``windows``."""
    predicted = predict_logits(model, windows.X).argmax(axis=1)
    return evaluate_predictions(windows.y, predicted, windows.subject)


def _echo(verbose: bool, text: str) -> None:
    if verbose:
        click.echo(text, err=True)
