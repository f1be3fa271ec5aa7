"""Load labelled windows from any supported data set folder, with caching."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harlite.errors import DataError
from harlite.runtime.preprocessing import FilterDesign
from harlite.runtime.spec import HOP_SAMPLES, WINDOW_SAMPLES
from harlite.train import hapt, uci_har
from harlite.train.cache import cache_key, cached_windows, default_cache_dir
from harlite.train.windowset import WindowSet

HAPT = "hapt"
UCI_HAR = "uci-har"

#: The sample rate of each layout's recordings.
DATA_RATE_HZ = {HAPT: hapt.RATE_HZ, UCI_HAR: uci_har.RATE_HZ}


def detect_layout(root: str | Path) -> str:
    """``"hapt"`` (raw recordings) or ``"uci-har"`` (UCI's windows); DataError otherwise."""
    root = Path(root)
    if not root.exists():
        raise DataError("folder not found", root)
    if hapt.find_raw_dir(root) is not None:
        return HAPT
    if uci_har.find_uci_har_dir(root) is not None:
        return UCI_HAR
    raise DataError(
        "not a data set folder: expected RawData/labels.txt (HAPT) or "
        "'UCI HAR Dataset/{train,test}/Inertial Signals' (UCI HAR)",
        root,
    )


def load_windows(
    root: str | Path,
    design: FilterDesign | None = None,
    window: int = WINDOW_SAMPLES,
    hop: int = HOP_SAMPLES,
    cache_dir: str | Path | bool | None = True,
) -> WindowSet:
    """Labelled windows of every subject under ``root``, built as the device would build them.

    Args:
        root: a HAPT folder (raw recordings) or a UCI HAR folder (pre-cut windows).
        design: filter settings (HAPT only; UCI's windows come filtered).
        window, hop: window length and step in samples (HAPT only; UCI HAR is 128/64).
        cache_dir: folder for the window cache; True for the default, None/False for none.
    """
    root = Path(root)
    layout = detect_layout(root)
    design = design or FilterDesign()
    if design.sample_rate_hz != DATA_RATE_HZ[layout]:
        raise DataError(
            f"the recordings are sampled at {DATA_RATE_HZ[layout]:g} Hz, but the filter design "
            f"is for {design.sample_rate_hz:g} Hz",
            root,
        )
    if cache_dir is True:
        cache_dir = default_cache_dir()
    cache = Path(cache_dir) if cache_dir else None
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


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set folder holds."""

    path: Path
    layout: str
    subjects: list[int]
    experiments: int | None
    hours: float
    windows_per_class: dict[str, int]
    windows: int

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; ``experiments`` is None where the layout does not say."""
        return {
            "path": str(self.path),
            "layout": self.layout,
            "subjects": self.subjects,
            "experiments": self.experiments,
            "hours": round(self.hours, 4),
            "windows": self.windows,
            "windows_per_class": self.windows_per_class,
        }


def dataset_info(root: str | Path, cache_dir: str | Path | bool | None = True) -> DatasetInfo:
    """Subjects, experiments, hours of signal and windows per class of a data set folder.

    For UCI HAR, which ships windows rather than recordings, ``hours`` is the signal the
    windows cover (each 50%-overlapping window adds 64 new samples) and ``experiments`` is None.
    """
    root = Path(root)
    layout = detect_layout(root)
    windows = load_windows(root, cache_dir=cache_dir)
    if layout == HAPT:
        subjects, experiments, hours = hapt.signal_hours(root)
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
    )
