"""Leave-subjects-out cross-validation: every training person held out once.

``cross_validate()`` splits the training people of a data set (a mixture's parts alike)
into ``k`` folds, each placement's people spread evenly over the folds, trains one model per
fold on the other people and keeps its predictions for the held-out ones. No figure is chosen
on the held-out people: each fold trains for the configured epochs and keeps its **last**
weights (``select = last``); the held-out accuracy of every epoch is recorded, so the number
of epochs itself can be chosen on the mean over folds. The figures per placement, class and
person are made from the saved predictions by :mod:`harlite.train.crossval_report`.

Folds run one after another in this process (``engine="local"``), or as Ray tasks of one
CPU each, in parallel (``engine="ray"``: a local Ray started here, or the cluster at
``address``). A fold already finished in the output folder is kept, not run again, so an
interrupted cross-validation resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harlite.atomic import atomic_file, write_text_atomic
from harlite.batch.job import ENGINES
from harlite.errors import HarliteError
from harlite.runtime.signal.placement import window_gravity, window_swing
from harlite.train.config import TrainConfig
from harlite.train.datasets import MIXTURE, detect_layout, load_windows, test_subjects
from harlite.train.mixture import read_mixture
from harlite.train.windowset import WindowSet

#: The plan of a cross-validation, in its output folder.
PLAN_FILE = "folds.json"
#: A finished fold's held-out predictions, in its folder.
PREDICTIONS_FILE = "predictions.npz"


@dataclass(frozen=True)
class Fold:
    """One fold: its number (from 1) and the people it holds out."""

    index: int
    held_out: tuple[int, ...]

    @property
    def name(self) -> str:
        """The fold's folder name."""
        return f"fold{self.index:02d}"


@dataclass(frozen=True)
class FoldResult:
    """A finished fold: its held-out people, training time and last-epoch accuracy."""

    index: int
    held_out: tuple[int, ...]
    seconds: float
    accuracy: float
    epochs: int


def plan_folds(
    windows: WindowSet,
    tests: tuple[int, ...],
    k: int,
    seed: int,
    groups: dict[int, str] | None = None,
) -> list[Fold]:
    """``k`` folds over the people of ``windows`` but ``tests``. People are dealt to the folds
    in turn, group by group (``groups``: person → the data set part they come from; default
    their placement), each group shuffled with ``seed``: every fold holds people of every
    group that has at least ``k`` of them, and folds differ in size by at most one person."""
    people = sorted(s for s in windows.subjects if s not in set(tests))
    if not 2 <= k <= len(people):
        raise HarliteError(f"--folds {k}: give 2 to {len(people)} (the training people)")
    if groups is None:
        groups = {p: str(windows.placement[windows.subject == p][0]) for p in people}
    rng = np.random.default_rng(seed)
    by_group: dict[str, list[int]] = {}
    for person in people:
        by_group.setdefault(groups[person], []).append(person)
    held: list[list[int]] = [[] for _ in range(k)]
    turn = 0
    for group in sorted(by_group):
        for person in rng.permutation(by_group[group]):
            held[turn % k].append(int(person))
            turn += 1
    return [Fold(i + 1, tuple(sorted(group))) for i, group in enumerate(held)]


def person_groups(data: str | Path, windows: WindowSet) -> dict[int, str]:
    """Each person's group for :func:`plan_folds`: a mixture's part (its placement and data
    set), else the person's placement."""
    if detect_layout(data) != MIXTURE:
        return {int(s): str(windows.placement[windows.subject == s][0]) for s in windows.subjects}
    mixture = read_mixture(data)
    return {
        int(s): f"{mixture.part_of(int(s)).placement}:{mixture.part_of(int(s)).data}"
        for s in windows.subjects
    }


def fold_config(config: TrainConfig, fold: Fold) -> TrainConfig:
    """The settings a fold trains with: the fold's people held out, the last weights kept
    (the mean of the last epochs' with ``average_epochs``)."""
    return config.override(val_subjects=fold.held_out, select="last", patience=0)


def train_fold(
    config: TrainConfig,
    data: str,
    fold: Fold,
    fold_dir: str,
    threads: int | None = None,
    progress: Callable[[int, int, dict[str, float]], None] | None = None,
) -> FoldResult:
    """Train one fold into ``fold_dir`` and save its held-out predictions (also the body of
    a Ray task: every argument is plain data or a path)."""
    if threads:
        _limit_threads(threads)
    from harlite.train.models import load_model, predict_logits
    from harlite.train.trainer import MODEL_FILE, fit_windows, split_windows

    windows = load_windows(data, config.design, config.window, config.hop)
    settings = fold_config(config.override(labels=windows.labels), fold)
    train_set, held_set = split_windows(windows, settings, test_subjects(data))
    result = fit_windows(settings, train_set, held_set, fold_dir, progress=progress)
    logits = predict_logits(load_model(Path(fold_dir) / MODEL_FILE), held_set.X)
    save_predictions(Path(fold_dir) / PREDICTIONS_FILE, held_set, softmax(logits))
    return FoldResult(
        fold.index, fold.held_out, round(result.seconds, 1), result.report.accuracy,
        result.epochs_run,
    )  # fmt: skip


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities (n, classes) from logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def save_predictions(path: Path, windows: WindowSet, probabilities: np.ndarray) -> None:
    """The held-out windows' truth, origin, gravity, swing and the model's probabilities."""
    with atomic_file(path) as handle:
        np.savez(
            handle,
            y=windows.y,
            probabilities=probabilities.astype(np.float32),
            subject=windows.subject,
            experiment=windows.experiment,
            start=windows.start,
            placement=windows.placement,
            gravity=window_gravity(windows.X),
            swing=window_swing(windows.X),
            labels=np.array(windows.labels, dtype=str),
        )


def cross_validate(
    config: TrainConfig,
    data: str | Path,
    out_dir: str | Path,
    k: int,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    log: Callable[[str], None] | None = None,
) -> list[FoldResult]:
    """Run every fold not yet finished in ``out_dir`` and return all folds' results."""
    log = log or (lambda text: None)
    if engine not in ENGINES:
        raise HarliteError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    out = Path(out_dir)
    windows = load_windows(data, config.design, config.window, config.hop)
    folds = plan_folds(windows, test_subjects(data), k, config.seed, person_groups(data, windows))
    _write_plan(out, config, str(data), k, folds)
    todo = [f for f in folds if not (out / f.name / PREDICTIONS_FILE).exists()]
    log(f"{k} folds over {sum(len(f.held_out) for f in folds)} people; {len(todo)} to run")
    if engine == "ray" and todo:  # nothing to run: no Ray session to start (or join)
        done = _run_ray(config, str(data), out, todo, address, workers, log)
    else:
        done = [_run_local(config, str(data), out, fold, log) for fold in todo]
    finished = {r.index: r for r in (*_read_results(out, folds), *done)}
    return [finished[f.index] for f in folds if f.index in finished]


def _run_local(config: TrainConfig, data: str, out: Path, fold: Fold, log) -> FoldResult:
    log(f"{fold.name}: holding out {', '.join(map(str, fold.held_out))}")
    result = train_fold(config, data, fold, str(out / fold.name))
    _write_result(out, result)
    log(f"{fold.name}: {result.accuracy:.2%} held-out accuracy ({result.seconds:.0f} s)")
    return result


def _run_ray(config, data, out, todo, address, workers, log) -> list[FoldResult]:
    from harlite.batch.ray_engine import ray_session

    results = []
    with ray_session(address, workers) as ray:
        remote = ray.remote(num_cpus=1, max_retries=1)(train_fold)
        pending = {
            remote.remote(config, data, fold, str(out / fold.name), 1): fold for fold in todo
        }
        log(f"{len(pending)} folds submitted to Ray")
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            fold = pending.pop(ready[0])
            result = ray.get(ready[0])
            _write_result(out, result)
            log(f"{fold.name}: {result.accuracy:.2%} held-out accuracy ({result.seconds:.0f} s)")
            results.append(result)
    return results


def _limit_threads(threads: int) -> None:
    """One process's share of the machine: TensorFlow's thread pools (before first use)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from harlite.train.tf_setup import tensorflow

    tf = tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process: keep its pools
        pass


def _write_plan(out: Path, config: TrainConfig, data: str, k: int, folds: list[Fold]) -> None:
    """The plan; a folder planned with other settings is refused (its folds would mix)."""
    plan = {
        "data": data,
        "k": k,
        "config": config.to_dict(),
        "folds": [list(f.held_out) for f in folds],
    }
    path = out / PLAN_FILE
    if path.exists():
        old = json.loads(path.read_text())
        # settings added since it was planned read as their defaults; unreadable: not the same
        with contextlib.suppress(KeyError, TypeError, ValueError):
            old["config"] = TrainConfig.from_dict(old["config"]).to_dict()
        if old != plan:
            raise HarliteError(
                f"{out} holds a cross-validation with other settings or data: choose another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(plan, indent=1) + "\n")


def _write_result(out: Path, result: FoldResult) -> None:
    write_text_atomic(out / f"fold{result.index:02d}" / "fold.json", json.dumps(asdict(result)))


def _read_results(out: Path, folds: list[Fold]) -> list[FoldResult]:
    results = []
    for fold in folds:
        path = out / fold.name / "fold.json"
        if path.exists() and (out / fold.name / PREDICTIONS_FILE).exists():
            data: dict[str, Any] = json.loads(path.read_text())
            results.append(FoldResult(**{**data, "held_out": tuple(data["held_out"])}))
    return results
