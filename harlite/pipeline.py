"""``harlite pipeline``: raw recordings to a measured, deployable bundle in one command.

Stages, each writing under ``OUT``: data (download when no folder is given) → train
(``OUT/run``, with its validation evaluation) → convert (``OUT/bundle``) → verify → bench
(``OUT/bench``) → stream a validation subject's recording (``OUT/stream``) → ``OUT/report.md``
with every figure and plot. A failing stage is named with its error; what earlier stages made
stays, and the report says where it stopped.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING, Any

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.runtime.spec import HOP_SAMPLES, WINDOW_SAMPLES

if TYPE_CHECKING:  # the stages import their libraries only when they run
    from harlite.bench import BenchResult
    from harlite.convert.verify import VerifyRow
    from harlite.runtime.run import StreamSummary
    from harlite.train.config import TrainConfig
    from harlite.train.datasets import DatasetInfo
    from harlite.train.trainer import EpochProgress, TrainResult

#: Training length of ``--quick`` (the preset's full schedule otherwise).
QUICK_EPOCHS = 25
QUICK_INVOKES = 300
#: The artefacts the pipeline converts, verifies and benchmarks: ``convert``'s defaults
#: (ONNX included) and the frozen ``.pb``.
FORMATS = ("keras", "pb", "float32", "dynamic", "int8", "onnx")
#: Validation accuracy "still rising" at the end: the last epochs' mean above the mean of
#: the epochs before them by this much, over this many epochs each.
RISING_BY, RISING_OVER = 0.002, 5

Log = Callable[[str], None]


@dataclass
class PipelineState:
    """What the stages produced so far; each field is set by its stage.

    Attributes:
        out: the output folder; ``run_dir``, ``bundle_dir`` lie inside it.
        stage_seconds: wall time per stage run.
        failed: (stage, message) of the stage that stopped the run.
        info: the data set's contents (data stage).
        config, trained: the resolved settings and the run's result (train stage).
        manifest: the bundle's manifest (convert stage).
        verified: one row per artefact (verify stage).
        bench: the benchmark (bench stage).
        recording, streamed: the validation recording streamed and its summary.
    """

    out: Path
    quick: bool
    preset: str
    data_dir: Path | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    failed: tuple[str, str] | None = None
    info: DatasetInfo | None = None
    config: TrainConfig | None = None
    trained: TrainResult | None = None
    manifest: dict[str, Any] | None = None
    verified: list[VerifyRow] | None = None
    bench: BenchResult | None = None
    recording: Path | None = None
    streamed: StreamSummary | None = None

    @property
    def run_dir(self) -> Path:
        return self.out / "run"

    @property
    def bundle_dir(self) -> Path:
        return self.out / "bundle"


def run_pipeline(
    out: str | Path,
    data_dir: str | Path | None = None,
    preset: str = "lstm",
    quick: bool = False,
    log: Log = lambda text: None,
    progress: EpochProgress | None = None,
) -> PipelineState:
    """Run every stage; raises HarliteError naming the stage that failed (after writing the
    report of what was done).

    Args:
        out: the output folder.
        data_dir: a HAPT raw folder (None: download UCI HAPT).
        preset: the model preset to train.
        quick: a short training and fewer timed invokes.
        log: receives the stage lines and each stage's figures.
        progress: called after every training epoch.
    """
    check_before_stages(preset)
    state = PipelineState(Path(out), quick, preset, None if data_dir is None else Path(data_dir))
    state.out.mkdir(parents=True, exist_ok=True)
    stages = [
        ("data", _data),
        ("train", lambda s, log: _train(s, log, progress)),
        ("convert", _convert),
        ("verify", _verify),
        ("bench", _bench),
        ("stream", _stream),
    ]
    started = time.perf_counter()
    for number, (name, stage) in enumerate(stages, start=1):
        log(f"[{number}/{len(stages)}] {name} ({time.perf_counter() - started:.0f} s so far)")
        stage_start = time.perf_counter()
        try:
            stage(state, log)
        except (HarliteError, OSError, ValueError, RuntimeError) as error:
            state.failed = (name, str(error) or type(error).__name__)
        except Exception as error:  # a bug: keep the traceback in the report
            state.failed = (name, f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        state.stage_seconds[name] = round(time.perf_counter() - stage_start, 1)
        if state.failed:
            break
    report = write_pipeline_report(state)
    log(f"report: {report} ({time.perf_counter() - started:.0f} s in all)")
    if state.failed:
        name, message = state.failed
        raise HarliteError(
            f"stage {name!r} failed: {message.splitlines()[0]} (what earlier stages made is "
            f"kept in {state.out}; see {report})"
        )
    return state


def check_before_stages(preset: str) -> None:
    """What would stop a later stage and can be known now: the training tools and the
    preset's name. Nothing is written before these pass."""
    from harlite.errors import TRAINING_MODULES, missing_training_tools

    for module in TRAINING_MODULES:
        if module != "keras" and not _importable(module):
            raise HarliteError(missing_training_tools(module))
    from harlite.train.models import get_preset

    get_preset(preset)


def _importable(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _data(state: PipelineState, log: Log) -> None:
    from harlite.train.datasets import dataset_info

    if state.data_dir is None:
        from harlite.train.download import install_dataset

        log("  no --data: downloading UCI HAPT")
        state.data_dir = install_dataset("hapt")
    info = dataset_info(state.data_dir)
    state.info = info
    log(
        f"  {info.path}: {len(info.subjects)} subjects, {info.hours:.2f} h of signal, "
        f"{info.windows} windows"
    )


def _train(state: PipelineState, log: Log, progress: EpochProgress | None) -> None:
    from harlite.train.config import TrainConfig
    from harlite.train.evaluation import CONFIG_FILE
    from harlite.train.models import get_preset
    from harlite.train.plots import plot_per_subject
    from harlite.train.trainer import train

    overrides = {"epochs": QUICK_EPOCHS} if state.quick else {}
    state.config = get_preset(state.preset).config(**overrides)
    state.trained = train(state.config, state.data_dir, state.run_dir, log=log, progress=progress)
    state.config = TrainConfig.load(state.run_dir / CONFIG_FILE)  # with the data's labels and split
    plot_per_subject(state.trained.report, state.run_dir / "per_subject.png")


def _convert(state: PipelineState, log: Log) -> None:
    from harlite.convert.bundle_writer import convert_model

    state.manifest = convert_model(
        state.run_dir,
        state.bundle_dir,
        state.data_dir,
        formats=FORMATS,
        log=lambda text: log("  " + text.strip()),
    )


def _verify(state: PipelineState, log: Log) -> None:
    from harlite.convert.verify import format_rows, verify_bundle

    rows = verify_bundle(state.bundle_dir)
    state.verified = rows
    for line in format_rows(rows).splitlines():
        log("  " + line)
    failed = [r.artifact for r in rows if r.status == "FAILED"]
    if failed:
        raise HarliteError(f"verification failed for {', '.join(failed)}")


def _bench(state: PipelineState, log: Log) -> None:
    from harlite.bench import benchmark_bundle
    from harlite.bench.report import summary_lines, write_report

    result = benchmark_bundle(
        state.bundle_dir,
        threads=[1] if state.quick else [1, 2],
        invokes=QUICK_INVOKES if state.quick else 1000,
        log=lambda text: log("  " + text.strip()),
    )
    write_report(result, state.out / "bench")
    state.bench = result
    for line in summary_lines(result):
        log("  " + line)


def _stream(state: PipelineState, log: Log) -> None:
    from harlite.runtime.run import classify_recording
    from harlite.runtime.sinks import CollectingSink
    from harlite.runtime.stream import StreamClassifier
    from harlite.train.plots import plot_timeline

    subjects = list(state.config.val_subjects or ()) if state.config else []
    folder = state.out / "stream"
    source, recording, title, window_label = _recording_to_stream(state.data_dir, subjects, folder)
    classifier = StreamClassifier(state.bundle_dir, window_label=window_label)
    kept = CollectingSink()
    summary = classify_recording(
        source,
        classifier,
        folder / "predictions.jsonl",
        name=str(recording),
        summary_path=folder / "summary.json",
        extra_sinks=[kept],
    )
    accuracy = "" if summary.accuracy is None else f": {summary.accuracy:.1%} of "
    plot_timeline(
        [p.to_dict(classifier.labels) for p in kept.predictions],
        classifier.labels,
        folder / "timeline.png",
        f"{title} streamed with {classifier.artifact}{accuracy}"
        + (f"{summary.labelled_windows} labelled windows" if accuracy else ""),
    )
    state.recording, state.streamed = recording, summary
    for line in summary.format().splitlines():
        log("  " + line)


def _recording_to_stream(data_dir: Path, subjects: list[int], folder: Path):
    """(source, path, title, window-label rule) of a validation subject's recording: a
    recordings folder's own file, a HAPT experiment written as a stream CSV, or, for a
    mixture, one of its first validation subject's part."""
    from harlite.runtime.io.sources import CsvSource, open_source
    from harlite.train.datasets import MIXTURE, RECORDINGS, detect_layout
    from harlite.train.hapt_export import experiments, labelled_recording, write_stream_csv
    from harlite.train.mixture import read_mixture
    from harlite.train.recording_meta import DatasetFolder, find_recordings

    if detect_layout(data_dir) == MIXTURE:
        mixture = read_mixture(data_dir)
        part = mixture.part_of(subjects[0]) if subjects else mixture.parts[0]
        own = [s - part.subject_offset for s in subjects if mixture.part_of(s) == part]
        return _recording_to_stream(part.data, own, folder)
    if detect_layout(data_dir) == RECORDINGS:
        dataset = DatasetFolder.locate(data_dir)
        found = [r for r in find_recordings(dataset) if not subjects or r.subject in subjects]
        if not found:
            raise HarliteError("no recording of a validation subject to stream")
        chosen = found[0]
        source = open_source(str(chosen.path), chosen.options)
        title = f"subject {chosen.subject}, {chosen.name}"
        return source, chosen.path, title, dataset.settings.window_label
    found = experiments(data_dir, subjects or None)
    if not found:
        raise HarliteError("no recording of a validation subject to stream")
    experiment = found[0]
    recording = folder / f"exp{experiment.experiment:02d}_user{experiment.user:02d}.csv"
    raw, labels = labelled_recording(data_dir, experiment)
    write_stream_csv(recording, raw, labels)
    title = f"subject {experiment.user}, experiment {experiment.experiment}"
    return CsvSource(recording), recording, title, "uniform"


def write_pipeline_report(state: PipelineState) -> Path:
    """``OUT/report.md``: stage times, then each stage's figures and plots."""
    lines = _stages_section(state)
    for section, ready in (
        (_data_section, state.info),
        (_training_section, state.trained),
        (_bundle_section, state.manifest),
        (_verify_section, state.verified),
        (_bench_section, state.bench),
        (_stream_section, state.streamed),
    ):
        if ready:
            lines += section(state)
    path = state.out / "report.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _stages_section(state: PipelineState) -> list[str]:
    lines = [
        f"# harlite pipeline: {state.preset}" + (" (quick)" if state.quick else ""),
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}. "
        + (
            f"Stopped: stage **{state.failed[0]}** failed: {state.failed[1].splitlines()[0]}"
            if state.failed
            else "All stages completed."
        ),
        "",
        "| stage | seconds |",
        "| --- | --- |",
        *(f"| {name} | {seconds} |" for name, seconds in state.stage_seconds.items()),
        f"| total | {sum(state.stage_seconds.values()):.1f} |",
        "",
    ]
    if state.failed and "\n" in state.failed[1]:
        lines += ["```", state.failed[1], "```", ""]
    return lines


def _data_section(state: PipelineState) -> list[str]:
    info = state.info
    return [
        "## Data",
        "",
        f"`{info.path}` ({info.layout}): {len(info.subjects)} subjects, "
        f"{info.experiments} {'recordings' if info.recordings is not None else 'experiments'}, "
        f"{info.hours:.2f} h of signal, "
        f"{info.windows} windows of {WINDOW_SAMPLES} samples (hop {HOP_SAMPLES}).",
        "",
    ]


def _training_section(state: PipelineState) -> list[str]:
    trained, report = state.trained, state.trained.report
    return [
        "## Training and validation",
        "",
        f"Preset `{state.config.preset}`, {trained.epochs_run} epochs "
        f"({trained.seconds:.1f} s), kept epoch {trained.best_epoch}. Validation "
        f"subjects {', '.join(map(str, report.subjects))} ({report.n_windows} windows, "
        "never trained on): "
        f"**accuracy {report.accuracy:.2%}**, weighted F1 {report.f1_weighted:.2%}.",
        "",
        *_training_notes(state),
        "| class | recall | precision | F1 | windows |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {name} | {c['recall']:.2%} | {c['precision']:.2%} | {c['f1']:.2%} | "
            f"{c['support']} |"
            for name, c in report.per_class.items()
        ),
        "",
        "![training curves](run/history.png)",
        "",
        "![confusion matrix](run/confusion.png)",
        "",
        "![accuracy per subject](run/per_subject.png)",
        "",
    ]


def _waist_rotation(config) -> str:
    """The waist's own rotation bound, where it has one other than every window's."""
    if config.waist_rotation_deg is None or config.waist_rotation_deg == config.rotation_deg:
        return ""
    if not config.waist_rotation_deg:
        return "not rotated at the waist"
    return f"rotated at the waist up to {config.waist_rotation_deg:g}°"


def _training_notes(state: PipelineState) -> list[str]:
    """What the training curves say that a reader would otherwise wonder about: a run
    stopped while validation still rose (``--quick``), and training accuracy below
    validation's (augmentation)."""
    from harlite.train.trainer import HISTORY_FILE

    try:
        history = json.loads((state.run_dir / HISTORY_FILE).read_text())
    except (OSError, ValueError):
        return []
    val, train = history.get("val_accuracy") or [], history.get("accuracy") or []
    trained, config, notes = state.trained, state.config, []
    recent, before = val[-RISING_OVER:], val[-2 * RISING_OVER : -RISING_OVER]
    last_kept = trained.best_epoch == trained.epochs_run and len(before) == RISING_OVER
    if last_kept and fmean(recent) > fmean(before) + RISING_BY:
        notes.append(
            f"Validation accuracy was still rising at the last epoch ({fmean(before):.2%} "
            f"→ {fmean(recent):.2%} over the last {2 * RISING_OVER} epochs), so the kept "
            "last epoch is not the model's best: "
            + (
                f"`--quick` trains {QUICK_EPOCHS} epochs to show the pipeline, not to "
                "make a good model; run without it for the preset's full schedule."
                if state.quick
                else "more epochs would likely help."
            )
        )
    kept = trained.best_epoch - 1
    if 0 <= kept < min(len(val), len(train)) and train[kept] < val[kept]:
        augmentation = [
            f"rotated up to {config.rotation_deg:g}°" if config.rotation_deg else "",
            _waist_rotation(config),
            f"scaled by up to ±{config.scale:.0%}" if config.scale else "",
            "moved to other placements" if config.placement_aug else "",
            "mirrored to the other leg" if config.pocket_mirror else "",
            f"turned about the thigh up to {config.thigh_turn_deg:g}°"
            if config.thigh_turn_deg
            else "",
            f"replayed up to ±{config.time_warp:.0%} faster or slower" if config.time_warp else "",
            f"with dropout {config.dropout:g}" if config.dropout else "",
        ]
        changes = ", ".join(a for a in augmentation if a) or "augmented"
        notes.append(
            f"Training accuracy ({train[kept]:.2%}) is below validation accuracy "
            f"({val[kept]:.2%}) at the kept epoch: the training windows are made harder on "
            f"purpose ({changes}) while the validation windows are the recordings as they "
            "are, so the training figure is no sign of a problem."
        )
    return [*(f"{note}\n" for note in notes)]


def _bundle_section(state: PipelineState) -> list[str]:
    manifest = state.manifest
    return [
        "## Bundle",
        "",
        f"`{state.bundle_dir.relative_to(state.out)}/`, default artefact "
        f"`{manifest['default_artifact']}`. The model was trained for phones carried: "
        + (", ".join(manifest.get("training_domain", {}).get("placements", ())) or "not said")
        + " (where the training data's phones were, and where placement augmentation "
        "showed them).",
        "",
        "| artefact | size (bytes) | val accuracy | agrees with Keras |",
        "| --- | --- | --- | --- |",
        *(
            f"| {name} | {a['size']:,} | {a.get('val_accuracy', 0):.2%} | "
            f"{a.get('keras_agreement', 0):.2%} |"
            for name, a in manifest["artifacts"].items()
        ),
        "",
    ]


def _verify_section(state: PipelineState) -> list[str]:
    return [
        "Verification (hashes, schema, reference windows): "
        + ", ".join(f"{r.artifact} {r.status}" for r in state.verified),
        "",
    ]


def _bench_section(state: PipelineState) -> list[str]:
    from harlite.bench.report import markdown_table, summary_lines

    return [
        "## Size, latency and accuracy",
        "",
        *(f"- {line}" for line in summary_lines(state.bench)),
        "",
        markdown_table(state.bench),
        "",
        "![latency, size and accuracy](bench/bench.png)",
        "",
    ]


def _stream_section(state: PipelineState) -> list[str]:
    s = state.streamed
    return [
        "## A streamed validation recording",
        "",
        f"`{state.recording.name}` streamed through `StreamClassifier` as the device "
        f"runs it: {s.windows} windows from {s.samples} samples "
        f"({s.duration_s:.0f} s of signal) in {s.elapsed_s:.2f} s "
        f"({s.realtime_factor or 0:,.0f}× real time); accuracy "
        f"{s.accuracy or 0:.2%} over {s.labelled_windows or 0} labelled windows.",
        "",
        "![timeline](stream/timeline.png)",
        "",
    ]
