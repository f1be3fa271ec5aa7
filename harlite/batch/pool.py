"""Batch classification of many recordings: planning, resumable outputs, the local engine.

Each recording is one unit of work with its own stream state. Its predictions go to
``OUT/NAME.jsonl`` (or ``.csv`` / ``.parquet``) and its summary to ``OUT/NAME.summary.json``,
both written atomically, the summary last: a summary names the SHA-256 of its input, of the
model and settings, and of its output. A rerun skips every recording whose summary and output
still match, so an interrupted or preempted run loses nothing and redoes nothing.

The local engine runs the recordings on a pool of worker processes (all cores by default);
``harlite.batch.ray_engine`` runs the same tasks on Ray.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harlite.atomic import TEMP_SUFFIX, process_alive, writer_pid
from harlite.errors import DataError, HarliteError, SettingError
from harlite.outputs import refuse_inputs
from harlite.runtime.io.csvblock import pandas_reader
from harlite.runtime.io.sources import InputOptions, is_recording_folder, open_source
from harlite.runtime.model.bundle import Bundle, sha256_file
from harlite.runtime.run import classify_recording as classify_into
from harlite.runtime.signal._sosfilt import kernel_in_use
from harlite.runtime.sinks import FILE_FORMATS, require_pyarrow
from harlite.runtime.stream import ClassifierSettings, StreamClassifier

#: File names batch mode picks up inside a folder.
RECORDING_PATTERNS = ("*.csv", "*.csv.gz", "*.zip")
SUMMARY_SUFFIX = ".summary.json"

#: The per-recording summary keys that batch-summary.json repeats.
RECORDING_KEYS = (
    "output",
    "windows",
    "bad_rows",
    "duration_s",
    "accuracy",
    "labelled_windows",
    "samples",
)


def model_key(bundle: str | Path, settings: ClassifierSettings) -> str:
    """SHA-256 of the bundle's manifest (which holds every artefact's hash) and of the
    settings that change predictions: the same key means the same predictions."""
    digest = hashlib.sha256((Path(bundle) / "manifest.json").read_bytes())
    digest.update(json.dumps(settings.prediction_key(), sort_keys=True).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class RecordingTask:
    """One recording to classify: where it is, where its output and summary go, and the
    keys that say whether an existing output is still valid."""

    input: str
    output: str
    summary: str
    bundle: str
    settings: ClassifierSettings
    options: InputOptions
    output_format: str
    input_sha256: str
    model_key: str


@dataclass
class BatchResult:
    """Per input: its summary (as a dict) or the error that stopped it; and the skipped."""

    summaries: dict[str, dict] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    processed: list[str] = field(default_factory=list)
    interrupted: bool = False


@dataclass
class BatchSummary:
    """What a batch run did, over the recordings classified now and those skipped as done;
    :meth:`to_dict` is ``batch-summary.json``.

    ``recordings`` maps each input to the main figures of its own summary; ``truncated``
    each input that ended early (a damaged file: its readable part was classified) to the
    reason; ``accuracy`` and ``labelled_windows`` are set when some recordings carried labels.
    """

    engine: str
    interrupted: bool
    inputs: int
    processed: int
    skipped: int
    failed: dict[str, str]
    windows: int
    bad_rows: int
    seconds: float
    signal_seconds_processed: float
    realtime_factor: float | None
    recordings: dict[str, dict[str, Any]]
    truncated: dict[str, str] = field(default_factory=dict)
    labelled_windows: int | None = None
    accuracy: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; accuracy keys only when something was labelled."""
        record = asdict(self)
        if self.labelled_windows is None:
            del record["labelled_windows"], record["accuracy"]
        return record

    def describe(self) -> str:
        """One line for a person."""
        line = (
            f"{self.processed} classified, {self.skipped} skipped, "
            f"{len(self.failed)} failed; {self.windows} windows in all"
        )
        if self.truncated:
            line += f"; {len(self.truncated)} truncated (their readable part classified)"
        if self.accuracy is not None:
            line += f", accuracy {self.accuracy:.2%} over {self.labelled_windows} windows"
        if self.realtime_factor:
            line += f"; {self.realtime_factor:,.0f}× real time"
        return line


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files named directly, the recordings inside folders, and glob matches, deduplicated."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir() and not is_recording_folder(path):
            matches = sorted(p for pattern in RECORDING_PATTERNS for p in path.glob(pattern))
            if not matches:
                raise DataError("no .csv, .csv.gz or .zip recordings in this folder", path)
        elif path.exists():
            matches = [path]
        else:
            matches = sorted(Path(p) for p in glob.glob(item))
            if not matches:
                raise DataError("no such file, folder or glob match", item)
        found.extend(matches)
    return list(dict.fromkeys(p.resolve() for p in found))


def output_names(inputs: list[Path]) -> dict[Path, str]:
    """A distinct output base name per input (its name without extension, numbered on
    clashes, in input order so that reruns give the same names)."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in inputs:
        stem = path.name.removesuffix(".gz").removesuffix(".csv").removesuffix(".zip")
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        names[path] = name
    return names


def input_digest(path: Path) -> str:
    """SHA-256 of a recording: its file, or every file of a Sensor Logger folder."""
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(member.relative_to(path).as_posix().encode())
        digest.update(sha256_file(member).encode())
    return digest.hexdigest()


def plan_batch(
    inputs: list[Path],
    out_dir: Path,
    bundle: str | Path,
    settings: ClassifierSettings,
    options: InputOptions,
    output_format: str = "jsonl",
) -> tuple[list[RecordingTask], list[RecordingTask]]:
    """The tasks still to run and the ones whose outputs are complete and current."""
    if output_format not in FILE_FORMATS:
        raise HarliteError(f"unknown output format {output_format!r}: {', '.join(FILE_FORMATS)}")
    if output_format == "parquet":
        require_pyarrow()
    check_outputs(inputs, out_dir, output_format)
    opened = Bundle.open(bundle)  # fail early on a bad bundle or setting
    opened.artifact(settings.artifact)
    if settings.hop is not None and settings.hop > opened.window:
        raise SettingError("hop", f"must lie in 1..{opened.window}, not {settings.hop}")
    key = model_key(bundle, settings)
    names = output_names(inputs)
    # hashing releases the GIL: every core reads and hashes inputs at once
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        digests = dict(zip(names, pool.map(input_digest, names), strict=True))
    todo, done = [], []
    for path, name in names.items():
        task = RecordingTask(
            input=str(path),
            output=str(out_dir / f"{name}.{output_format}"),
            summary=str(out_dir / f"{name}{SUMMARY_SUFFIX}"),
            bundle=str(bundle),
            settings=settings,
            options=options,
            output_format=output_format,
            input_sha256=digests[path],
            model_key=key,
        )
        (done if is_complete(task) else todo).append(task)
    return todo, done


def check_outputs(inputs: list[Path], out_dir: Path, output_format: str) -> None:
    """Refuse, before anything is written, outputs that would replace an input."""
    outputs = [out_dir / "batch-summary.json"]
    for name in output_names(inputs).values():
        outputs += [out_dir / f"{name}.{output_format}", out_dir / f"{name}{SUMMARY_SUFFIX}"]
    refuse_inputs(outputs, inputs)


def is_complete(task: RecordingTask) -> bool:
    """Whether the task's summary and output exist and match its input and model."""
    try:
        summary = json.loads(Path(task.summary).read_text())
        output = Path(task.output)
        return (
            summary.get("input_sha256") == task.input_sha256
            and summary.get("model_key") == task.model_key
            and summary.get("output_bytes") == output.stat().st_size
            and summary.get("output_sha256") == sha256_file(output)
        )
    except (OSError, ValueError, AttributeError):
        return False


def run_task(task: RecordingTask, classifier: StreamClassifier) -> dict[str, Any]:
    """Classify one recording into its output and summary (both atomic, summary last) with
    a loaded classifier (reset first). Returns the summary record."""
    classifier.reset()
    remove_stale_temporaries(task)
    fields = {"input_sha256": task.input_sha256, "model_key": task.model_key}
    summary = classify_into(
        open_source(task.input, task.options),
        classifier,
        task.output,
        name=task.input,
        output_format=task.output_format,
        summary_path=task.summary,
        summary_fields=fields,
        keep_interrupted=False,
    )
    return {**summary.to_dict(), **fields}


def remove_stale_temporaries(task: RecordingTask) -> None:
    """Temporary files of an earlier attempt at this recording whose process is gone (a run
    killed before it could clean up); a live writer's files are left alone."""
    for path in (Path(task.output), Path(task.summary)):
        for stale in path.parent.glob(f".{path.name}.*{TEMP_SUFFIX}"):
            pid = writer_pid(stale)
            if pid is None or not process_alive(pid):
                stale.unlink(missing_ok=True)


_WORKER_CLASSIFIERS: dict[tuple[str, ClassifierSettings], StreamClassifier] = {}


def worker_classifier(bundle: str, settings: ClassifierSettings) -> StreamClassifier:
    """This process's classifier for (bundle, settings): loaded once, reused for every
    recording a worker gets (both engines)."""
    key = (bundle, settings)
    if key not in _WORKER_CLASSIFIERS:
        _WORKER_CLASSIFIERS[key] = StreamClassifier(bundle, settings)
    return _WORKER_CLASSIFIERS[key]


def _worker_init(bundle: str | None = None, settings: ClassifierSettings | None = None) -> None:
    """Given the model, a pool worker loads it at once (imports, interpreter, the filter
    kernel, the CSV block reader), while the batch is still being planned; then it turns
    SIGTERM (Pool.terminate) into KeyboardInterrupt, so a recording in progress discards its
    partial output on the way out. Not before: a SIGTERM while loading keeps its default and
    ends the worker at once (a KeyboardInterrupt there could be swallowed by a library and
    leave a worker that the pool waits for forever)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if bundle is not None and settings is not None:
        # Whatever fails here, the first task reports it with its recording's name: an
        # exception out of a pool's initializer would have the pool restart the worker forever.
        with contextlib.suppress(Exception):
            worker_classifier(bundle, settings)
        kernel_in_use()
        pandas_reader()
    signal.signal(signal.SIGTERM, interrupt)


def start_pool(
    workers: int | None, recordings: int, bundle: str | Path, settings: ClassifierSettings
):
    """A pool of ``workers`` processes (default: all cores, at most one per recording) that
    start loading the model now: started before planning, it loads while inputs are hashed."""
    count = max(1, min(workers or os.cpu_count() or 1, recordings))
    return multiprocessing.Pool(count, initializer=_worker_init, initargs=(str(bundle), settings))


def _classify_in_worker(task: RecordingTask) -> tuple[RecordingTask, dict | None, str | None]:
    """Pool worker: one interpreter per process, reused for every recording it gets."""
    try:
        return task, run_task(task, worker_classifier(task.bundle, task.settings)), None
    except HarliteError as error:
        return task, None, str(error)
    except Exception as error:  # a bug: reported with the recording, the others go on
        return task, None, f"internal error: {type(error).__name__}: {error}"


Progress = Callable[[RecordingTask, dict | None, str | None], None]


def run_local(
    tasks: list[RecordingTask],
    workers: int | None = None,
    progress: Progress | None = None,
    pool=None,
) -> BatchResult:
    """Run tasks on a pool of ``workers`` processes (default: all cores), or on ``pool``
    (from :func:`start_pool`; it is closed here either way).

    A recording that fails (a bad file) is reported in ``errors``; the others go on. Ctrl-C
    stops the workers at once (the recordings in progress leave nothing behind) and returns
    what finished, with ``interrupted`` set.
    """
    result = BatchResult()
    if not tasks:
        if pool is not None:  # no signal: the workers end when they find the queue closed
            pool.close()
            pool.join()
        return result
    if pool is None:
        workers = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
        pool = multiprocessing.Pool(workers, initializer=_worker_init)
    try:
        for task, record, error in pool.imap_unordered(_classify_in_worker, tasks):
            if error is None:
                record_success(result, task, record, progress)
            else:
                record_error(result, task, error, progress)
        pool.close()
    except KeyboardInterrupt:
        result.interrupted = True
        _stop_now(pool)
    finally:
        pool.join()
    return result


#: Seconds terminated workers get to end before they are killed.
STOP_GRACE_S = 5.0


def _stop_now(pool) -> None:
    """Terminate the workers (SIGTERM: a recording in progress discards its output), and kill
    those still there after :data:`STOP_GRACE_S`: a process-directed SIGTERM may reach one of
    a worker's library threads instead of its main thread, which then waits on forever."""
    pids = [worker.pid for worker in getattr(pool, "_pool", [])]
    timer = threading.Timer(STOP_GRACE_S, _kill, args=(pids,))
    timer.daemon = True
    timer.start()
    try:
        pool.terminate()
    finally:
        timer.cancel()


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def record_success(result: BatchResult, task: RecordingTask, record: dict, progress) -> None:
    """Note a finished recording (shared by the engines)."""
    result.summaries[task.input] = record
    result.processed.append(task.input)
    if progress:
        progress(task, record, None)


def record_error(result: BatchResult, task: RecordingTask, error: str, progress) -> None:
    """Note a failed recording (shared by the engines)."""
    result.errors[task.input] = error
    if progress:
        progress(task, None, error)


def batch_summary(
    result: BatchResult, done: list[RecordingTask], engine: str, seconds: float
) -> BatchSummary:
    """The run summary: per recording (processed now or before), totals and accuracy."""
    recordings = {task.input: json.loads(Path(task.summary).read_text()) for task in done}
    recordings.update(result.summaries)
    labelled = sum(r.get("labelled_windows") or 0 for r in recordings.values())
    correct = sum(
        (r.get("accuracy") or 0) * (r.get("labelled_windows") or 0) for r in recordings.values()
    )
    signal_s = sum(r.get("duration_s", 0) for r in result.summaries.values())
    return BatchSummary(
        engine=engine,
        interrupted=result.interrupted,
        inputs=len(recordings) + len(result.errors),
        processed=len(result.processed),
        skipped=len(done),
        failed=result.errors,
        windows=sum(r["windows"] for r in recordings.values()),
        bad_rows=sum(r["bad_rows"] for r in recordings.values()),
        seconds=round(seconds, 3),
        signal_seconds_processed=round(signal_s, 1),
        realtime_factor=round(signal_s / seconds, 1) if seconds > 0 and signal_s else None,
        recordings={
            path: {key: r.get(key) for key in RECORDING_KEYS} for path, r in recordings.items()
        },
        truncated={
            path: r["truncated_reason"] for path, r in recordings.items() if r.get("truncated")
        },
        labelled_windows=labelled or None,
        accuracy=correct / labelled if labelled else None,
    )
