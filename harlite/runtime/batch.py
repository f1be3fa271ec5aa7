"""Batch classification of many recordings: planning, resumable outputs, the local engine.

Each recording is one unit of work with its own stream state. Its predictions go to
``OUT/NAME.jsonl`` (or ``.csv`` / ``.parquet``) and its summary to ``OUT/NAME.summary.json``,
both written atomically, the summary last: a summary names the SHA-256 of its input, of the
model and settings, and of its output. A rerun skips every recording whose summary and output
still match, so an interrupted or preempted run loses nothing and redoes nothing.

The local engine runs the recordings on a pool of worker processes (all cores by default);
``harlite.runtime.batch_ray`` runs the same tasks on Ray.
"""

from __future__ import annotations

import glob
import hashlib
import json
import multiprocessing
import os
import signal
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harlite.atomic import atomic_file, write_text_atomic
from harlite.errors import DataError, HarliteError
from harlite.runtime.bundle import Bundle, sha256_file
from harlite.runtime.session import run_stream
from harlite.runtime.sinks import FILE_FORMATS, make_sink, require_pyarrow
from harlite.runtime.smoothing import parse_smoothing
from harlite.runtime.sources import InputOptions, is_recording_folder, open_source
from harlite.runtime.stream import DEFAULT_MAX_GAP_S, StreamClassifier

#: File names batch mode picks up inside a folder.
RECORDING_PATTERNS = ("*.csv", "*.csv.gz", "*.zip")
SUMMARY_SUFFIX = ".summary.json"


@dataclass(frozen=True)
class ClassifierSettings:
    """Everything needed to build an identical :class:`StreamClassifier` in any process."""

    bundle: str
    artifact: str | None = None
    backend: str | None = None
    threads: int | None = 1
    hop: int | None = None
    smoothing: str | None = None
    max_gap_s: float = DEFAULT_MAX_GAP_S
    batch_size: int = 1

    def build(self, bundle: str | Path | None = None) -> StreamClassifier:
        """A classifier (from ``bundle`` if given: a local copy of the same bundle)."""
        return StreamClassifier(
            bundle or self.bundle,
            artifact=self.artifact,
            backend=self.backend,
            threads=self.threads,
            hop=self.hop,
            smoothing=parse_smoothing(self.smoothing),
            max_gap_s=self.max_gap_s,
            batch_size=self.batch_size,
        )

    def model_key(self) -> str:
        """SHA-256 of the bundle's manifest (which holds every artefact's hash) and of the
        settings that change predictions: the same key means the same predictions."""
        digest = hashlib.sha256((Path(self.bundle) / "manifest.json").read_bytes())
        relevant = {k: v for k, v in asdict(self).items() if k not in ("bundle", "threads")}
        digest.update(json.dumps(relevant, sort_keys=True).encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class RecordingTask:
    """One recording to classify: where it is, where its output and summary go, and the
    keys that say whether an existing output is still valid."""

    input: str
    output: str
    summary: str
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
    settings: ClassifierSettings,
    options: InputOptions,
    output_format: str = "jsonl",
) -> tuple[list[RecordingTask], list[RecordingTask]]:
    """The tasks still to run and the ones whose outputs are complete and current."""
    if output_format not in FILE_FORMATS:
        raise HarliteError(f"unknown output format {output_format!r}: {', '.join(FILE_FORMATS)}")
    if output_format == "parquet":
        require_pyarrow()
    Bundle.open(settings.bundle).artifact(settings.artifact)  # fail early on a bad bundle
    model_key = settings.model_key()
    todo, done = [], []
    for path, name in output_names(inputs).items():
        task = RecordingTask(
            input=str(path),
            output=str(out_dir / f"{name}.{output_format}"),
            summary=str(out_dir / f"{name}{SUMMARY_SUFFIX}"),
            settings=settings,
            options=options,
            output_format=output_format,
            input_sha256=input_digest(path),
            model_key=model_key,
        )
        (done if is_complete(task) else todo).append(task)
    return todo, done


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


def classify_recording(
    task: RecordingTask, classifier: StreamClassifier | None = None
) -> dict[str, Any]:
    """Classify one recording into its output and summary (both atomic, summary last).

    ``classifier`` lets a worker reuse one loaded interpreter for many recordings; it is
    reset first. Returns the summary record.
    """
    if classifier is None:
        classifier = task.settings.build()
    else:
        classifier.reset()
    _remove_stale_temporaries(task)
    source = open_source(task.input, task.options)
    mode, encoding = ("wb", None) if task.output_format == "parquet" else ("w", "utf-8")
    with atomic_file(task.output, mode, encoding=encoding) as handle:
        sink = make_sink(task.output_format, handle, classifier.labels)
        summary = run_stream(source, classifier, [sink], name=task.input)
        if summary.interrupted:  # inside: the partial output is discarded, not renamed
            raise KeyboardInterrupt
    record = summary.to_dict()
    output = Path(task.output)
    record.update(
        output=output.name,
        output_bytes=output.stat().st_size,
        output_sha256=sha256_file(output),
        input_sha256=task.input_sha256,
        model_key=task.model_key,
    )
    write_text_atomic(task.summary, json.dumps(record, indent=2) + "\n")
    return record


def _remove_stale_temporaries(task: RecordingTask) -> None:
    """Temporary files of an earlier attempt at this recording whose process was killed
    (and so could not clean up); a task runs in one place at a time."""
    for path in (Path(task.output), Path(task.summary)):
        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)


_WORKER_CLASSIFIER: dict[ClassifierSettings, StreamClassifier] = {}


def _worker_init() -> None:
    """Pool workers turn SIGTERM (Pool.terminate) into KeyboardInterrupt, so a recording in
    progress discards its partial output on the way out."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _classify_in_worker(task: RecordingTask) -> tuple[RecordingTask, dict | None, str | None]:
    """Pool worker: one interpreter per process, reused for every recording it gets."""
    try:
        if task.settings not in _WORKER_CLASSIFIER:
            _WORKER_CLASSIFIER[task.settings] = task.settings.build()
        return task, classify_recording(task, _WORKER_CLASSIFIER[task.settings]), None
    except HarliteError as error:
        return task, None, str(error)


Progress = Callable[[RecordingTask, dict | None, str | None], None]


def run_local(
    tasks: list[RecordingTask], workers: int | None = None, progress: Progress | None = None
) -> BatchResult:
    """Run tasks on a pool of ``workers`` processes (default: all cores).

    A recording that fails (a bad file) is reported in ``errors``; the others go on. Ctrl-C
    stops the workers at once (the recordings in progress leave nothing behind) and returns
    what finished, with ``interrupted`` set.
    """
    result = BatchResult()
    if not tasks:
        return result
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
        pool.terminate()
    finally:
        pool.join()
    return result


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
) -> dict[str, Any]:
    """The run summary: per recording (processed now or before), totals and accuracy."""
    recordings = {}
    for task in done:
        recordings[task.input] = json.loads(Path(task.summary).read_text())
    recordings.update(result.summaries)
    labelled = sum(r.get("labelled_windows") or 0 for r in recordings.values())
    correct = sum(
        (r.get("accuracy") or 0) * (r.get("labelled_windows") or 0) for r in recordings.values()
    )
    signal_s = sum(r.get("duration_s", 0) for r in result.summaries.values())
    summary = {
        "engine": engine,
        "interrupted": result.interrupted,
        "inputs": len(recordings) + len(result.errors),
        "processed": len(result.processed),
        "skipped": len(done),
        "failed": result.errors,
        "windows": sum(r["windows"] for r in recordings.values()),
        "bad_rows": sum(r["bad_rows"] for r in recordings.values()),
        "seconds": round(seconds, 3),
        "signal_seconds_processed": round(signal_s, 1),
        "realtime_factor": round(signal_s / seconds, 1) if seconds > 0 and signal_s else None,
        "recordings": {
            path: {
                key: r.get(key)
                for key in (
                    "output",
                    "windows",
                    "bad_rows",
                    "duration_s",
                    "accuracy",
                    "labelled_windows",
                    "samples",
                )
            }
            for path, r in recordings.items()
        },
    }
    if labelled:
        summary["labelled_windows"] = labelled
        summary["accuracy"] = correct / labelled
    return summary
