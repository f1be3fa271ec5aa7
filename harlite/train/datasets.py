"""Load labelled windows from any supported data set folder, with caching."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from harlite.errors import DataError
from harlite.folders import cache_dir as user_cache_dir
from harlite.runtime.signal.placement import WAIST
from harlite.runtime.signal.preprocessing import FilterDesign
from harlite.runtime.spec import HOP_SAMPLES, SAMPLE_RATE_HZ, WINDOW_SAMPLES
from harlite.train import hapt, recording_set, uci_har
from harlite.train.cache import cache_key, cached_windows
from harlite.train.config import DEFAULT_VAL_SUBJECTS, TrainConfig
from harlite.train.mixture import is_mixture, read_mixture
from harlite.train.recording_meta import DatasetFolder, find_recordings, is_recordings_folder
from harlite.train.splits import UCI_TEST_SUBJECTS
from harlite.train.windowset import WindowSet

HAPT = "hapt"
UCI_HAR = "uci-har"
RECORDINGS = "recordings"
MIXTURE = "mixture"
#: The share of a recordings folder's subjects held out for validation by default.
VAL_SHARE = 0.2

#: The sample rate of each layout's recordings.
DATA_RATE_HZ = {HAPT: hapt.RATE_HZ, UCI_HAR: uci_har.RATE_HZ}


def detect_layout(root: str | Path) -> str:
    """``"hapt"`` (raw recordings), ``"uci-har"`` (UCI's windows), ``"recordings"`` (a
    folder of your own recordings) or ``"mixture"`` (a file listing data sets:
    :mod:`harlite.train.mixture`); DataError otherwise."""
    root = Path(root)
    if not root.exists():
        raise DataError("folder not found", root)
    if is_mixture(root):
        return MIXTURE
    if root.is_file():
        if is_recordings_folder(root):
            return RECORDINGS
        raise DataError("not a data set folder or a dataset.toml/.json file", root)
    if hapt.find_raw_dir(root) is not None:
        return HAPT
    if uci_har.find_uci_har_dir(root) is not None:
        return UCI_HAR
    if is_recordings_folder(root):
        return RECORDINGS
    raise DataError(
        "not a data set folder: expected RawData/labels.txt (HAPT), "
        "'UCI HAR Dataset/{train,test}/Inertial Signals' (UCI HAR), or recordings "
        "(.csv, .csv.gz, Sensor Logger exports; docs/own-data.md)",
        root,
    )


def test_subjects(root: str | Path) -> tuple[int, ...]:
    """Subjects never trained or tuned on: the standard UCI HAR test subjects, or a
    recordings folder's ``test`` split."""
    root = Path(root)
    layout = detect_layout(root)
    if layout == MIXTURE:
        return tuple(
            part.subject_offset + s
            for part in read_mixture(root).parts
            for s in test_subjects(part.data)
        )
    if layout != RECORDINGS:
        return UCI_TEST_SUBJECTS
    recordings = find_recordings(DatasetFolder.locate(root))
    return tuple(sorted({r.subject for r in recordings if r.split == "test"}))


def default_val_subjects(root: str | Path, windows: WindowSet, seed: int) -> tuple[int, ...]:
    """The validation subjects when none are asked: HAPT's and UCI HAR's 27–30; a recordings
    folder's ``val`` split, else a fifth of its subjects (at least one) drawn with ``seed``."""
    root = Path(root)
    layout = detect_layout(root)
    if layout == MIXTURE:
        mixture, chosen = read_mixture(root), []
        for part in mixture.parts:
            mine = np.array([mixture.part_of(int(s)) == part for s in windows.subject], bool)
            own = windows.select(mine).shifted(-part.subject_offset)
            chosen += [part.subject_offset + s for s in default_val_subjects(part.data, own, seed)]
        return tuple(chosen)
    if layout != RECORDINGS:
        return DEFAULT_VAL_SUBJECTS
    recordings = find_recordings(DatasetFolder.locate(root))
    val = sorted({r.subject for r in recordings if r.split == "val"})
    if val:
        return tuple(val)
    reserved = set(test_subjects(root))
    candidates = [s for s in windows.subjects if s not in reserved]
    if len(candidates) < 2:
        raise DataError(
            f"only {len(candidates)} subject (or recording) to train on: nothing to validate "
            "on. Record another subject, or train with --val-subjects none",
            root,
        )
    n_val = max(1, round(VAL_SHARE * len(candidates)))
    chosen = np.random.default_rng(seed).choice(candidates, size=n_val, replace=False)
    return tuple(sorted(int(s) for s in chosen))


def input_rates(root: str | Path) -> tuple[float, ...]:
    """The sample rates of a data set's recordings, where its layout or settings say them
    (HAPT and UCI HAR: 50 Hz; a recordings folder: its ``rate`` setting; empty if unknown)."""
    root = Path(root)
    layout = detect_layout(root)
    if layout == MIXTURE:
        return tuple(
            sorted({r for part in read_mixture(root).parts for r in input_rates(part.data)})
        )
    if layout == RECORDINGS:
        rate = DatasetFolder.locate(root).settings.rate
        return (rate,) if rate else ()
    return (DATA_RATE_HZ[layout],)


def load_windows(
    root: str | Path,
    design: FilterDesign | None = None,
    window: int = WINDOW_SAMPLES,
    hop: int = HOP_SAMPLES,
    cache_dir: str | Path | bool | None = True,
    labels: Sequence[str] | None = None,
    require_every_class: bool = True,
) -> WindowSet:
    """Labelled windows of every subject under ``root``, built as the device would build them.

    Args:
        root: a HAPT folder (raw recordings), a UCI HAR folder (pre-cut windows) or a
            recordings folder (read and windowed by the device's own path).
        design: filter settings (UCI's windows come filtered).
        window, hop: window length and step in samples (UCI HAR is 128/64).
        cache_dir: folder for the window cache; True for the default, None/False for none.
        labels: the classes in output order (a model's); None: the data's own. HAPT and UCI
            HAR hold the six activities and accept only them.
        require_every_class: a recordings folder's class without a window is an error.
    """
    root = Path(root)
    layout = detect_layout(root)
    design = design or FilterDesign()
    if layout == MIXTURE:
        return _load_mixture(root, design, window, hop, cache_dir, labels)
    if cache_dir is True:
        cache_dir = user_cache_dir()
    cache = Path(cache_dir) if cache_dir else None
    if layout == RECORDINGS:
        settings = {
            "layout": layout,
            "design": design.to_dict(),
            "window": window,
            "hop": hop,
            "labels": list(labels) if labels else None,
            "require_every_class": require_every_class,
        }
        folder = DatasetFolder.locate(root).root
        key = cache_key(recording_set.input_files(root), folder, settings)
        return cached_windows(
            key,
            cache,
            lambda: (
                recording_set.read_recording_set(
                    root, design, window, hop, labels, require_every_class=require_every_class
                ).windows
            ),
        )[0]
    windows = _load_standard(root, layout, design, window, hop, cache).placed(WAIST)
    if labels is not None and tuple(labels) != windows.labels:
        raise DataError(
            f"the model's classes ({', '.join(labels)}) are not this data set's six activities",
            root,
        )
    return windows


def _load_mixture(
    root: Path,
    design: FilterDesign,
    window: int,
    hop: int,
    cache_dir: str | Path | bool | None,
    labels: Sequence[str] | None,
) -> WindowSet:
    """Every part's windows in the mixture's classes, subjects shifted, placements marked."""
    mixture = read_mixture(root)
    classes = labels or mixture.labels
    parts = []
    for part in mixture.parts:
        windows = load_windows(
            part.data, design, window, hop, cache_dir, classes, require_every_class=False
        )
        if classes is None:
            classes = windows.labels
        if windows.labels != tuple(classes):
            raise DataError(
                f"its classes ({', '.join(windows.labels)}) differ from the mixture's "
                f"({', '.join(classes)}): give `labels` in {root.name}",
                part.data,
            )
        if part.placement:
            windows = windows.placed(part.placement)
        parts.append(windows.shifted(part.subject_offset))
    return WindowSet.concatenate(parts)


def windows_for_model(data_dir: str | Path, config: TrainConfig) -> WindowSet:
    """The windows of ``data_dir`` built with a model's own settings, in its class order
    (a class of the model that the data lacks is no error: evaluation and conversion)."""
    return load_windows(
        data_dir,
        config.design,
        config.window,
        config.hop,
        labels=config.labels,
        require_every_class=False,
    )


def _load_standard(
    root: Path, layout: str, design: FilterDesign, window: int, hop: int, cache: Path | None
) -> WindowSet:
    """The windows of a HAPT or UCI HAR folder."""
    if design.sample_rate_hz != DATA_RATE_HZ[layout]:
        raise DataError(
            f"the recordings are sampled at {DATA_RATE_HZ[layout]:g} Hz, but the filter design "
            f"is for {design.sample_rate_hz:g} Hz",
            root,
        )
    if layout == UCI_HAR:
        if window != uci_har.WINDOW or hop != HOP_SAMPLES:
            raise DataError(
                f"UCI HAR windows are fixed at 128 samples with hop 64 (asked: {window}/{hop})",
                root,
            )
        files = uci_har.input_files(root)
        key = cache_key(files, root, {"layout": layout})
        return cached_windows(key, cache, lambda: uci_har.read_windows(root))[0]
    raw_dir = hapt.require_raw_dir(root)
    files = [raw_dir / "labels.txt", *sorted(raw_dir.glob("*_exp*_user*.txt"))]
    settings = {"layout": layout, "design": design.to_dict(), "window": window, "hop": hop}
    key = cache_key(files, raw_dir, settings)
    return cached_windows(key, cache, lambda: hapt.build_windows(root, design, window, hop))[0]


#: A class with fewer windows than this is flagged in ``data info`` (too little to train on).
FEW_WINDOWS = 30


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set folder holds.

    ``recordings``, ``minutes_per_class``, ``windows_per_subject``, ``input_rates_hz`` and
    ``warnings`` are filled for recordings folders (None otherwise). ``test_subjects`` are
    the subjects held out of training and validation (:func:`test_subjects`).
    """

    path: Path
    layout: str
    subjects: list[int]
    experiments: int | None
    hours: float
    windows_per_class: dict[str, int]
    windows: int
    labels: list[str]
    minutes_per_class: dict[str, float] | None = None
    windows_per_subject: dict[str, int] | None = None
    input_rates_hz: list[float] | None = None
    recordings: list[dict[str, Any]] | None = None
    warnings: list[str] | None = None
    test_subjects: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; ``experiments`` is None where the layout does not say; the
        recordings-folder keys only for such folders."""
        data = {
            "path": str(self.path),
            "layout": self.layout,
            "subjects": self.subjects,
            "experiments": self.experiments,
            "hours": round(self.hours, 4),
            "windows": self.windows,
            "windows_per_class": self.windows_per_class,
            "labels": self.labels,
        }
        for key in (
            "minutes_per_class",
            "windows_per_subject",
            "input_rates_hz",
            "recordings",
            "warnings",
            "test_subjects",
        ):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


def dataset_info(root: str | Path, cache_dir: str | Path | bool | None = True) -> DatasetInfo:
    """Subjects, experiments, hours of signal and windows per class of a data set folder.

    For UCI HAR (which ships windows rather than recordings) and a mixture, ``hours`` is the
    signal the windows cover (each 50%-overlapping window adds 64 new samples) and
    ``experiments`` is None.
    A recordings folder also gets minutes per class, windows per subject, input rates, the
    unit checks of every recording and warnings for classes with too little data.
    """
    root = Path(root)
    layout = detect_layout(root)
    if layout == RECORDINGS:
        info = _recordings_info(root)
    else:
        info = _windows_info(root, layout, cache_dir)
    return replace(info, test_subjects=list(test_subjects(root)))


def _windows_info(root: Path, layout: str, cache_dir: str | Path | bool | None) -> DatasetInfo:
    """HAPT, UCI HAR and mixtures: what their windows and recordings hold."""
    windows = load_windows(root, cache_dir=cache_dir)
    if layout == HAPT:
        subjects, experiments, hours = hapt.signal_hours(root)
    elif layout == MIXTURE:  # the signal its windows cover, as for UCI HAR
        subjects, experiments = windows.subjects, None
        hours = len(windows) * HOP_SAMPLES / SAMPLE_RATE_HZ / 3600
    else:
        subjects, experiments = windows.subjects, None
        hours = len(windows) * HOP_SAMPLES / uci_har.RATE_HZ / 3600
    return DatasetInfo(
        path=root,
        layout=layout,
        subjects=subjects,
        experiments=experiments,
        hours=hours,
        windows_per_class=windows.windows_per_class(),
        windows=len(windows),
        labels=list(windows.labels),
    )


def _recordings_info(root: Path) -> DatasetInfo:
    """A recordings folder read in full (no cache: the per-recording checks are the point)."""
    data = recording_set.read_recording_set(
        root, FilterDesign(), WINDOW_SAMPLES, HOP_SAMPLES, require_every_class=False
    )
    windows, reports = data.windows, data.recordings
    seconds: dict[str, float] = {label: 0.0 for label in windows.labels}
    for report in reports:
        for label, value in report.seconds_per_class.items():
            seconds[label] = seconds.get(label, 0.0) + value
    per_class = windows.windows_per_class()
    warnings = [
        f"class {label}: only {count} windows ({seconds.get(label, 0) / 60:.1f} min): "
        f"too little to train on (record at least {FEW_WINDOWS} windows, about "
        f"{FEW_WINDOWS * HOP_SAMPLES / SAMPLE_RATE_HZ / 60:.0f} min)"
        for label, count in per_class.items()
        if count < FEW_WINDOWS
    ]
    for report in reports:
        warnings += [f"{report.name}: {w}" for w in report.warnings]
        warnings += [f"{report.name}: {w}" for w in recording_set.unit_warnings(report)]
        if report.bad_rows:
            warnings.append(f"{report.name}: {report.bad_rows} bad rows {report.bad_row_reasons}")
    rates = sorted({r.input_rate_hz for r in reports if r.input_rate_hz})
    return DatasetInfo(
        path=root,
        layout=RECORDINGS,
        subjects=windows.subjects if len(windows) else sorted({r.subject for r in reports}),
        experiments=len(reports),
        hours=sum(r.duration_s for r in reports) / 3600,
        windows_per_class=per_class,
        windows=len(windows),
        labels=list(windows.labels),
        minutes_per_class={k: round(v / 60, 2) for k, v in seconds.items()},
        windows_per_subject={str(s): int((windows.subject == s).sum()) for s in windows.subjects},
        input_rates_hz=[rates[0], rates[-1]] if rates else [],
        recordings=[asdict(r) for r in reports],
        warnings=warnings,
    )
