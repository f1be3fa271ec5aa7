"""Run a batch end to end: plan it (skipping finished recordings), run it on the chosen
engine (a local process pool, or Ray), and write ``batch-summary.json``; shared by
``harlite batch`` and the batch mode of ``harlite stream``."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from harlite.atomic import write_text_atomic
from harlite.batch.pool import (
    BatchSummary,
    Progress,
    batch_summary,
    check_outputs,
    expand_inputs,
    plan_batch,
    remove_stale_temporaries,
    run_local,
    start_pool,
)
from harlite.errors import HarliteError
from harlite.runtime.io.sources import InputOptions
from harlite.runtime.stream import ClassifierSettings

BATCH_SUMMARY = "batch-summary.json"
ENGINES = ("local", "ray")


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold a lock on ``out_dir`` for the duration, or refuse at once if another run holds
    it. The lock is on the folder itself (no file is added) and goes with its process,
    however that process ends."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(out_dir, os.O_RDONLY)
    except OSError as error:
        raise HarliteError(f"{out_dir}: cannot write here: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HarliteError(
                f"{out_dir}: another harlite batch is writing into this folder; wait for it to "
                "finish or choose another --out"
            ) from None
        yield
    finally:
        os.close(descriptor)  # releases the lock


def run_batch(
    inputs: list[str],
    out_dir: str | Path,
    bundle: str | Path,
    settings: ClassifierSettings,
    options: InputOptions,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    output_format: str = "jsonl",
    log: Callable[[str], None] | None = None,
    on_planned: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Plan, run (skipping finished recordings) and summarise a batch into
    ``out_dir/batch-summary.json``.

    Args:
        inputs: files, folders of recordings and globs.
        out_dir: where each recording's output and summary go.
        bundle, settings: the model and how to run it.
        options: how to read the inputs.
        engine: ``local`` (a process pool here) or ``ray`` (``harlite[ray]``).
        address: Ray: the cluster to join (None: start Ray in this process).
        workers: recordings classified at once (None: all cores, or the cluster's CPUs).
        output_format: ``jsonl``, ``csv`` or ``parquet``.
        log: receives one line on what was planned.
        on_planned: receives the number of recordings to classify, before the first starts.
        progress: called as each recording ends (task, summary record or None, error).

    Returns:
        The summary; ``failed`` names each recording that could not be classified and
        ``interrupted`` is set when Ctrl-C stopped the run (finished recordings are kept).
    """
    if engine not in ENGINES:
        raise HarliteError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    out_dir = Path(out_dir)
    files = expand_inputs(inputs)
    check_outputs(files, out_dir, output_format)  # before the lock is taken on the folder
    with folder_lock(out_dir), _early_pool(engine, workers, files, bundle, settings) as pool:
        todo, done = plan_batch(files, out_dir, bundle, settings, options, output_format)
        for task in done:  # temporaries of dead runs (a task to run cleans its own)
            remove_stale_temporaries(task)
        if log is not None:
            log(
                f"{len(files)} recordings: {len(done)} already done, {len(todo)} to classify "
                f"({engine} engine)"
            )
        if on_planned is not None:
            on_planned(len(todo))
        started = time.perf_counter()
        result = _run_engine(engine, todo, address, workers, progress, pool)
        summary = batch_summary(result, done, engine, time.perf_counter() - started)
        text = json.dumps(summary.to_dict(), indent=2, allow_nan=False) + "\n"
        write_text_atomic(out_dir / BATCH_SUMMARY, text)
    return summary


@contextlib.contextmanager
def _early_pool(engine: str, workers: int | None, files: list[Path], bundle, settings):
    """The local engine's worker pool, started before planning so that the workers load the
    model while the inputs are hashed; ended on the way out whatever happened."""
    if engine != "local" or not files:
        yield None
        return
    pool = start_pool(workers, len(files), bundle, settings)
    try:
        yield pool
    finally:
        pool.terminate()  # a no-op after run_local has closed and joined it
        pool.join()


def _run_engine(engine: str, todo, address, workers, progress, pool):
    if engine == "ray":
        from harlite.batch.ray_engine import run_ray

        return run_ray(todo, address=address, workers=workers, progress=progress)
    return run_local(todo, workers=workers, progress=progress, pool=pool)
