"""Activity reports: what a person did, as a self-contained HTML page (always) and a timeline
PNG (where matplotlib is installed), from the predictions of one recording or of a
``harlite batch`` output folder.

Needs numpy only through the runtime it reads with; the device runtime never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harlite.atomic import write_text_atomic
from harlite.errors import HarliteError
from harlite.report.load import (
    Recording,
    load_recording,
    predictions_files,
)
from harlite.report.page import render
from harlite.report.picture import PNG_NEEDS, matplotlib_missing, write_png
from harlite.runtime.activity import MIN_BOUT_S

HTML_NAME = "report.html"
PNG_NAME = "timeline.png"

__all__ = ["HTML_NAME", "PNG_NAME", "ReportResult", "load_recordings", "write_report"]


@dataclass
class ReportResult:
    """What a report wrote: the page, the picture (None when matplotlib is missing, with
    the note saying what to install), and the recordings it covers."""

    html: Path
    png: Path | None
    recordings: list[Recording] = field(default_factory=list)
    note: str | None = None


def load_recordings(predictions: Path, summary: Path | None = None) -> list[Recording]:
    """A predictions file (with ``summary`` or the one beside it), or every predictions
    file of a batch output folder, by name."""
    if predictions.is_dir():
        if summary is not None:
            raise HarliteError("--summary goes with one predictions file, not a folder")
        files = predictions_files(predictions)
        return [load_recording(p) for p in files]
    if not predictions.exists():
        raise HarliteError(f"{predictions}: no such file or folder")
    return [load_recording(predictions, summary)]


def write_report(
    recordings: list[Recording],
    out_dir: Path,
    *,
    min_bout_s: float = MIN_BOUT_S,
    title: str = "What was done",
) -> ReportResult:
    """Write ``report.html`` (and ``timeline.png`` where matplotlib is installed) into
    ``out_dir`` (made if missing), each atomically."""
    if not recordings:
        raise HarliteError("nothing to report: no recordings")
    out_dir.mkdir(parents=True, exist_ok=True)
    html = out_dir / HTML_NAME
    write_text_atomic(html, render(recordings, min_bout_s, title))
    if matplotlib_missing():
        note = f"{PNG_NAME} not drawn: matplotlib is not installed ({PNG_NEEDS}); {HTML_NAME} "
        note += "has the same timeline as SVG"
        return ReportResult(html, None, recordings, note)
    labels = []
    for r in recordings:
        labels += [k for k in [*r.labels, *r.activity.totals] if k not in labels]
    png = out_dir / PNG_NAME
    write_png(recordings, labels, png)
    return ReportResult(html, png, recordings)
