"""The Ray engine of ``harlite batch``: the same recording tasks as the local engine, spread
over a Ray cluster (``pip install 'harlite[ray]'``).

- The bundle goes to the cluster once (``ray.put`` of its files); each worker process
  unpacks it into a private folder and keeps one interpreter for every task it runs.
- Each recording is a task (one CPU). A task whose worker dies (killed, out of memory, node
  lost) is retried by Ray; its output is written atomically, so a retried recording still
  ends with exactly one complete output.
- Inputs and outputs are paths: on a multi-machine cluster they must be on storage every
  node sees at the same path (NFS, a shared volume).
- ``address`` None starts Ray in this process (with ``workers`` CPUs), watched by
  :mod:`harlite.batch.reaper` so that its processes end with the driver even after a
  ``kill -9``; otherwise it joins a running cluster, e.g. one started with
  ``ray start --head --node-ip-address 127.0.0.1``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harlite.batch import reaper
from harlite.batch.pool import (
    BatchResult,
    Progress,
    RecordingTask,
    model_key,
    record_error,
    record_success,
    run_task,
    worker_classifier,
)
from harlite.errors import HarliteError

#: Retries of a task whose worker process died.
TASK_RETRIES = 3

_BUNDLE_DIRS: dict[str, str] = {}


def _ray():
    try:
        import ray
    except ImportError:
        raise HarliteError(
            "the Ray engine needs Ray: pip install 'harlite[ray]' (or use --engine local)"
        ) from None
    return ray


def _bundle_files(bundle: str) -> dict[str, bytes]:
    """The manifest and every artefact file of a bundle, by name."""
    folder = Path(bundle)
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _local_bundle(key: str, files: dict[str, bytes]) -> str:
    """This worker process's copy of the bundle ``key`` (unpacked once)."""
    if key not in _BUNDLE_DIRS:
        folder = tempfile.mkdtemp(prefix="harlite-bundle-")
        for name, content in files.items():
            Path(folder, name).write_bytes(content)
        _BUNDLE_DIRS[key] = folder
    return _BUNDLE_DIRS[key]


def classify_task(task: RecordingTask, key: str, files: dict[str, bytes]) -> dict[str, Any]:
    """The body of one Ray task (runs in a worker process)."""
    classifier = worker_classifier(_local_bundle(key, files), task.settings)
    try:
        return {"record": run_task(task, classifier), "pid": os.getpid()}
    except HarliteError as error:  # a bad recording: reported, not retried
        return {"error": str(error), "pid": os.getpid()}


@contextmanager
def ray_session(address: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """The ``ray`` module, connected: to the cluster at ``address``, or to a local Ray started
    here with ``workers`` CPUs (default: all) and shut down on leaving, watched by
    :mod:`harlite.batch.reaper` so that its processes end with this one even after a ``kill -9``.
    An already connected Ray is used as it is."""
    ray = _ray()
    started_here = not ray.is_initialized()
    watchdog = None
    if started_here and not address:
        watchdog = reaper.watch()
    if started_here:
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "configure_logging": False,
        }
        if address:
            options["address"] = address
        else:
            options["num_cpus"] = workers or os.cpu_count()
        ray.init(**options)
    try:
        yield ray
    finally:
        if started_here:
            ray.shutdown()
        reaper.release(watchdog)


def run_ray(
    tasks: list[RecordingTask],
    address: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Run tasks on Ray; at most ``workers`` at a time (default: the cluster's CPUs)."""
    result = BatchResult()
    if not tasks:
        return result
    with ray_session(address, workers) as ray:
        limit = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        first = tasks[0]
        key = model_key(first.bundle, first.settings)
        files = ray.put(_bundle_files(first.bundle))  # sent to the cluster once
        remote = ray.remote(num_cpus=1, max_retries=TASK_RETRIES)(classify_task)
        pending = list(tasks)
        running: dict[Any, RecordingTask] = {}
        while pending or running:
            while pending and len(running) < limit:
                task = pending.pop(0)
                running[remote.remote(task, key, files)] = task
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                task = running.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as error:
                    record_error(
                        result, task, f"failed after {TASK_RETRIES} retries: {error}", progress
                    )
                    continue
                if "error" in outcome:
                    record_error(result, task, outcome["error"], progress)
                else:
                    record_success(result, task, outcome["record"], progress)
    return result
