"""Training: windows → subject split → fit with model selection on validation subjects.

``train()`` writes a run dir that is usable at every moment: the best checkpoint is saved
atomically whenever validation improves, the history after every epoch, and Ctrl-C ends the
run with the best checkpoint evaluated and every artefact written.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.train.augment import training_dataset
from harlite.train.config import TrainConfig
from harlite.train.datasets import default_val_subjects, load_windows, test_subjects
from harlite.train.evaluation import (
    CONFIG_FILE,
    MODEL_FILE,
    EvaluationReport,
    evaluate_keras,
    format_report,
    write_reports,
)
from harlite.train.finetune import (
    BaseModel,
    base_normalization,
    copy_weights,
    load_base,
    set_features_trainable,
)
from harlite.train.models import build_model, load_model, save_model_atomic
from harlite.train.plots import plot_history
from harlite.train.splits import UCI_TEST_SUBJECTS, subject_folds
from harlite.train.tf_setup import keras, tensorflow
from harlite.train.windowset import WindowSet

HISTORY_FILE = "history.json"
#: With ``select=last``, the checkpoint is written every this many epochs (and at the end):
#: writing a model file every epoch would cost more than a small model's epoch.
LAST_SAVE_EVERY = 10

#: Called after each epoch with (epoch, epochs, logs): loss, accuracy, val_loss,
#: val_accuracy and epoch_seconds.
EpochProgress = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainResult:
    """What a run produced: its folder, the validation report and how it ended."""

    run_dir: Path
    report: EvaluationReport
    best_epoch: int
    epochs_run: int
    seconds: float
    interrupted: bool


def split_windows(
    windows: WindowSet, config: TrainConfig, test_subjects: tuple[int, ...] = UCI_TEST_SUBJECTS
) -> tuple[WindowSet, WindowSet]:
    """(training, validation) windows; the data set's test subjects are in neither.

    Every class the data holds must have training windows, and validation windows when
    there is a validation set (model selection on a set without a class would not see it).
    """
    val = set(config.val_subjects or ())
    leaked = val & set(test_subjects)
    if leaked:
        raise HarliteError(
            f"validation subjects {sorted(leaked)} are test subjects of this data set: "
            "never select models on them"
        )
    usable = windows.select(~np.isin(windows.subject, test_subjects))
    train = usable.select(~np.isin(usable.subject, sorted(val)))
    validation = usable.select(np.isin(usable.subject, sorted(val)))
    missing = val - set(validation.subjects)
    if missing and val:
        raise HarliteError(f"validation subjects {sorted(missing)} have no windows in the data")
    if not len(train):
        raise HarliteError("no training windows left after holding out the validation subjects")
    present = {label for label, n in usable.windows_per_class().items() if n}
    for which, part in (("training", train), ("validation", validation)):
        if which == "validation" and not val:
            continue
        counts = part.windows_per_class()
        empty = [label for label, n in counts.items() if n == 0 and label in present]
        if empty:
            subjects = ", ".join(map(str, part.subjects))
            raise HarliteError(
                f"class {empty[0]} has no {which} window (subjects {subjects}): choose "
                "validation subjects (--val-subjects) so that both sides hold every class"
            )
    return train, validation


def channel_stats(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and variance over all windows and steps (float32)."""
    flat = X.reshape(-1, X.shape[-1]).astype(np.float64)
    return flat.mean(axis=0).astype(np.float32), flat.var(axis=0).astype(np.float32)


def _score(logs: dict[str, float]) -> tuple[float, float]:
    """Validation accuracy, ties broken by the lower validation loss."""
    return logs.get("val_accuracy", 0.0), -logs.get("val_loss", np.inf)


class _RunRecorder(keras().callbacks.Callback):
    """Keeps the run dir current: the history after every epoch, and the checkpoint to keep
    (on each validation improvement for ``select=best``; for ``last``, every
    :data:`LAST_SAVE_EVERY` epochs and when training ends, so an interrupted run keeps a
    checkpoint at most that many epochs old, and ``best_epoch`` says which)."""

    def __init__(self, run_dir: Path, config: TrainConfig, progress: EpochProgress) -> None:
        super().__init__()
        self.run_dir, self.config, self.progress = run_dir, config, progress
        self.history: dict[str, list[float]] = {}
        self.best_epoch, self.best_score = 0, (-np.inf, -np.inf)
        self.epochs_run = 0
        self.keep_last = config.select == "last"
        self._epoch_start = 0.0
        self.averaged = _LateWeights(config.average_epochs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = {**(logs or {}), "epoch_seconds": time.perf_counter() - self._epoch_start}
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_run = epoch + 1
        self.keep_last = self.keep_last or "val_accuracy" not in logs
        if self.keep_last:
            if self.config.average_epochs:
                self.averaged.add(self.model.get_weights())
            if self.epochs_run % LAST_SAVE_EVERY == 0:
                self._save()
        elif _score(logs) > self.best_score:
            self.best_score = _score(logs)
            self._save()
        self._write_history()
        self.progress(epoch + 1, self.config.epochs, logs)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.keep_last and self.best_epoch != self.epochs_run:
            self._save()
            self._write_history()

    def _save(self) -> None:
        current = self.model.get_weights() if self.averaged.count else None
        if current is not None:  # save the mean of the late epochs, then train on
            self.model.set_weights(self.averaged.mean())
        save_model_atomic(self.model, self.run_dir / MODEL_FILE)
        if current is not None:
            self.model.set_weights(current)
        self.best_epoch = self.epochs_run

    def _write_history(self) -> None:
        record = {**self.history, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run}
        write_text_atomic(self.run_dir / HISTORY_FILE, json.dumps(record) + "\n")


class _LateWeights:
    """A model's weights after each of the last ``n`` epochs added, and their mean (integer
    weights, such as a normalisation layer's count, keep their latest value)."""

    def __init__(self, n: int) -> None:
        self._kept: deque[list[np.ndarray]] = deque(maxlen=n)

    @property
    def count(self) -> int:
        """Epochs kept (at most ``n``)."""
        return len(self._kept)

    def add(self, weights: list[np.ndarray]) -> None:
        """Keep one epoch's weights (the oldest kept goes once there are ``n``)."""
        self._kept.append(weights)

    def mean(self) -> list[np.ndarray]:
        """The mean of the kept weights, each in its own dtype."""
        latest = self._kept[-1]
        return [
            np.mean([kept[i] for kept in self._kept], axis=0, dtype=np.float64).astype(w.dtype)
            if np.issubdtype(w.dtype, np.floating)
            else w
            for i, w in enumerate(latest)
        ]


def train(
    config: TrainConfig,
    data_dir: str | Path,
    run_dir: str | Path,
    *,
    log: Callable[[str], None] | None = None,
    progress: EpochProgress | None = None,
    cache_dir: str | Path | bool | None = True,
    fold: tuple[int, int] | None = None,
) -> TrainResult:
    """Train ``config`` on the windows of ``data_dir`` and write the run dir.

    The run dir holds ``model.keras`` (the kept weights), ``config.json`` (the resolved
    settings), ``history.json`` and ``history.png`` (curves), and the validation evaluation:
    ``report.json``, ``report.txt`` and ``confusion.png``.

    Args:
        config: the resolved settings.
        data_dir: a data set folder.
        run_dir: the run folder to write.
        log: receives what the run is doing, in lines (the split, the final report).
        progress: called after every epoch (see :data:`EpochProgress`).
        cache_dir: window cache folder (True: the default one; None/False: no cache).
        fold: (i, k): validate on the i-th (1-based) of k leave-subjects-out folds of the
            data's training subjects (seeded by ``config.seed``) instead of
            ``config.val_subjects``.
    """
    windows = load_windows(data_dir, config.design, config.window, config.hop, cache_dir)
    config = config.override(labels=windows.labels)
    tests = test_subjects(data_dir)
    if fold is not None:
        config = config.override(val_subjects=_fold_subjects(windows, tests, fold, config.seed))
    elif config.val_subjects is None:
        config = config.override(val_subjects=default_val_subjects(data_dir, windows, config.seed))
    train_set, val_set = split_windows(windows, config, tests)
    return fit_windows(config, train_set, val_set, run_dir, log=log, progress=progress)


def fit_windows(
    config: TrainConfig,
    train_set: WindowSet,
    val_set: WindowSet,
    run_dir: str | Path,
    *,
    log: Callable[[str], None] | None = None,
    progress: EpochProgress | None = None,
) -> TrainResult:
    """Train ``config`` on ``train_set``, select on ``val_set`` (may be empty), and write the
    run dir (see :func:`train`, which splits a data set folder and calls this)."""
    log = log or (lambda text: None)
    run_dir = Path(run_dir)
    config = config.override(labels=train_set.labels)
    base = load_base(config.init) if config.init else None
    run_dir.mkdir(parents=True, exist_ok=True)
    model = _compiled_model(config, train_set, base, log)
    config.save(run_dir / CONFIG_FILE)
    log(
        f"{config.preset}: {len(train_set)} training windows "
        f"(subjects {', '.join(map(str, train_set.subjects))}), {len(val_set)} validation "
        f"windows (subjects {', '.join(map(str, val_set.subjects)) or 'none'}), "
        f"{model.count_params():,} parameters"
    )
    if not len(val_set) and config.select == "best":
        log(f"no validation subjects: keeping the final weights after {config.epochs} epochs")
    recorder, seconds, interrupted = _fit(model, config, train_set, val_set, run_dir, progress)
    if interrupted:
        log(
            f"interrupted after {recorder.epochs_run} epochs: keeping the checkpoint "
            f"of epoch {recorder.best_epoch}"
        )
    report = _evaluate_kept(run_dir, config, train_set, val_set, recorder, seconds, interrupted)
    which = "validation" if len(val_set) else "training (no validation subjects held out)"
    log(
        format_report(
            report,
            f"{which} (kept epoch {recorder.best_epoch} of {recorder.epochs_run}, {seconds:.0f} s)",
        )
    )
    return TrainResult(
        run_dir, report, recorder.best_epoch, recorder.epochs_run, seconds, interrupted
    )


def _fold_subjects(
    windows: WindowSet, tests: tuple[int, ...], fold: tuple[int, int], seed: int
) -> tuple[int, ...]:
    """The held-out subjects of leave-subjects-out fold ``fold`` = (i, k), i from 1."""
    i, k = fold
    candidates = [s for s in windows.subjects if s not in tests]
    if not 2 <= k <= len(candidates) or not 1 <= i <= k:
        raise HarliteError(
            f"fold {i}/{k}: give i/k with 1 ≤ i ≤ k and 2 ≤ k ≤ {len(candidates)} (the "
            "training subjects)"
        )
    return tuple(subject_folds(candidates, k, seed, tests)[i - 1][1])


def _compiled_model(
    config: TrainConfig,
    train_set: WindowSet,
    base: BaseModel | None = None,
    log: Callable[[str], None] = lambda text: None,
):
    """The preset's model, seeded, normalised with the training windows' statistics, or
    started from ``base`` (its weights, a new head for other labels; the head alone trains
    for the first ``freeze_epochs``)."""
    tf = tensorflow()
    mean, variance = channel_stats(train_set.X)
    if base is not None and config.normalize:
        mean, variance = base_normalization(base) or (mean, variance)
    keras().utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    model = build_model(config, mean, variance, unroll=config.unroll)
    if base is not None:
        same = tuple(base.config.labels) == tuple(config.labels)
        copied = copy_weights(model, base, same_labels=same)
        head = "its classifier head" if same else f"a new head for {len(config.labels)} classes"
        log(f"fine-tuning {base.where}: {len(copied)} layers copied, {head}")
        set_features_trainable(model, config.freeze_epochs == 0)
    _compile(model, config)
    return model


def _compile(model, config: TrainConfig) -> None:
    k = keras()
    model.compile(
        optimizer=k.optimizers.Adam(config.lr),
        loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def _fit(
    model,
    config: TrainConfig,
    train_set: WindowSet,
    val_set: WindowSet,
    run_dir: Path,
    progress: EpochProgress | None,
) -> tuple[_RunRecorder, float, bool]:
    """Fit until the last epoch, early stopping or Ctrl-C; (recorder, seconds, interrupted)."""
    k = keras()
    validating = len(val_set) > 0
    recorder = _RunRecorder(run_dir, config, progress or (lambda epoch, epochs, logs: None))
    callbacks = [recorder]
    if config.patience and validating:
        callbacks.append(
            k.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.patience)
        )
    start = time.perf_counter()
    interrupted = False
    frozen = min(config.freeze_epochs, config.epochs) if config.init else 0
    try:
        for first, last in ((0, frozen), (frozen, config.epochs)):
            if last <= first:
                continue
            if first > 0:  # the frozen phase is over: every layer trains from here on
                set_features_trainable(model, True)
                _compile(model, config)
            model.fit(
                training_dataset(train_set, config),
                validation_data=(val_set.X, val_set.y) if validating else None,
                initial_epoch=first,
                epochs=last,
                callbacks=callbacks,
                verbose=0,
            )
            if model.stop_training:
                break
    except KeyboardInterrupt:
        interrupted = True
    if recorder.epochs_run == 0:
        raise HarliteError("interrupted before the first epoch ended: no model was saved")
    if recorder.best_epoch == 0:  # select=last, interrupted before its first checkpoint
        recorder.on_train_end()
    return recorder, time.perf_counter() - start, interrupted


def _evaluate_kept(
    run_dir: Path,
    config: TrainConfig,
    train_set: WindowSet,
    val_set: WindowSet,
    recorder: _RunRecorder,
    seconds: float,
    interrupted: bool,
) -> EvaluationReport:
    """Evaluate the kept checkpoint (on the validation subjects, else the training ones) and
    write its reports and the history plot."""
    kept = load_model(run_dir / MODEL_FILE)
    evaluated, split = (val_set, "val") if len(val_set) else (train_set, "train")
    report = evaluate_keras(kept, evaluated)
    report.split = split
    report.subjects = evaluated.subjects
    report.best_epoch = recorder.best_epoch
    report.epochs_run = recorder.epochs_run
    report.train_seconds = round(seconds, 1)
    report.interrupted = interrupted
    report.parameters = int(kept.count_params())
    which = "validation" if len(val_set) else "training (no validation subjects held out)"
    write_reports(
        report,
        run_dir,
        f"{config.preset} on {which} subjects {', '.join(map(str, evaluated.subjects))}",
    )
    history = json.loads((run_dir / HISTORY_FILE).read_text())
    plot_history(history, run_dir / "history.png", f"{config.preset} (seed {config.seed})")
    return report
