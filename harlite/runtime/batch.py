"""Batch mode: classify many recordings on all cores, one output and summary per input.

Each recording is one unit of work with its own :class:`StreamClassifier` (streaming state
belongs to a recording), run in a pool of worker processes. Outputs are written atomically:
``OUT/NAME.jsonl`` (or ``.csv``) and ``OUT/NAME.summary.json``.
"""

from __future__ import annotations

import glob
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from harlite.atomic import atomic_file, write_text_atomic
from harlite.errors import DataError, HarliteError
from harlite.runtime.session import run_stream
from harlite.runtime.sinks import make_sink
from harlite.runtime.smoothing import parse_smoothing
from harlite.runtime.sources import InputOptions, open_source
from harlite.runtime.stream import DEFAULT_MAX_GAP_S, StreamClassifier

#: File names batch mode picks up inside a folder.
RECORDING_PATTERNS = ("*.csv", "*.csv.gz", "*.zip")


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

    def build(self) -> StreamClassifier:
        """A fresh classifier for one recording."""
        return StreamClassifier(
            self.bundle,
            artifact=self.artifact,
            backend=self.backend,
            threads=self.threads,
            hop=self.hop,
            smoothing=parse_smoothing(self.smoothing),
            max_gap_s=self.max_gap_s,
            batch_size=self.batch_size,
        )


@dataclass
class BatchResult:
    """Per input: its output, summary (as a dict) or the error that stopped it."""

    outputs: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, dict] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files named directly, the recordings inside folders, and glob matches, deduplicated."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir() and not _is_sensorlogger_folder(path):
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
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique


def _is_sensorlogger_folder(path: Path) -> bool:
    return (path / "Gyroscope.csv").is_file()


def output_names(inputs: list[Path], suffix: str) -> dict[Path, str]:
    """A distinct output file name per input (its name without extension, numbered on clashes)."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in inputs:
        stem = path.name.removesuffix(".gz").removesuffix(".csv").removesuffix(".zip")
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        names[path] = name + suffix
    return names


def classify_file(
    path: str, output: str, summary_path: str, settings: ClassifierSettings, options: InputOptions
) -> dict:
    """Classify one recording into ``output`` and ``summary_path`` (both atomic)."""
    classifier = settings.build()
    kind = "csv" if output.endswith(".csv") else "jsonl"
    with atomic_file(output, "w", encoding="utf-8") as handle:
        sink = make_sink(kind, handle, classifier.labels)
        summary = run_stream(open_source(path, options), classifier, [sink], name=path)
    record = summary.to_dict()
    write_text_atomic(summary_path, json.dumps(record, indent=2) + "\n")
    return record


def run_batch(
    inputs: list[Path],
    out_dir: Path,
    settings: ClassifierSettings,
    options: InputOptions,
    jobs: int | None = None,
    output_format: str = "jsonl",
    progress=None,
) -> BatchResult:
    """Classify every input on ``jobs`` processes (default: all cores).

    A recording that fails (bad file) is reported in ``errors`` and the others go on.
    ``progress(path, summary_or_None, error_or_None)`` is called as each one finishes.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    names = output_names(inputs, "." + output_format)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(inputs)))
    result = BatchResult()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {}
        for path in inputs:
            output = out_dir / names[path]
            summary_path = out_dir / (names[path].rsplit(".", 1)[0] + ".summary.json")
            future = pool.submit(
                classify_file, str(path), str(output), str(summary_path), settings, options
            )
            futures[future] = (path, output)
        for future in as_completed(futures):
            path, output = futures[future]
            try:
                summary = future.result()
            except HarliteError as error:
                result.errors[str(path)] = str(error)
                if progress:
                    progress(path, None, str(error))
                continue
            result.outputs[str(path)] = str(output)
            result.summaries[str(path)] = summary
            if progress:
                progress(path, summary, None)
    return result
