"""The activity timeline as a PNG, drawn with matplotlib where it is installed (the core
install has no matplotlib: the HTML page's SVG is the same picture without it)."""

from __future__ import annotations

from pathlib import Path

from harlite.atomic import atomic_file
from harlite.report.load import Recording
from harlite.report.page import colours

#: What to install for the PNG (matplotlib comes with the train extra too).
PNG_NEEDS = "pip install matplotlib"


def matplotlib_missing() -> bool:
    """Whether the PNG cannot be drawn here."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return True
    return False


def write_png(recordings: list[Recording], labels: list[str], path: Path) -> None:
    """One ribbon per recording (time from its start, in minutes), then minutes per
    activity; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colour = colours(labels)
    rows = len(recordings)
    figure, (top, bottom) = plt.subplots(
        2,
        1,
        figsize=(11, 1.6 + 0.45 * rows + 0.3 * len(labels)),
        gridspec_kw={"height_ratios": [max(rows, 1.5), max(len(labels), 2) * 0.6]},
    )
    for i, r in enumerate(recordings):
        for run in r.activity.runs:
            top.barh(
                i,
                (run.end - run.start) / 60,
                left=(run.start - r.origin) / 60,
                color=colour[run.label],
                height=0.7,
            )
    top.set_yticks(range(rows), [r.name.rsplit("/", 1)[-1][:28] for r in recordings])
    top.invert_yaxis()
    top.set_xlabel("minutes from the recording's start")
    top.set_title("Activity timeline")
    totals: dict[str, float] = {}
    for r in recordings:
        for label, seconds in r.activity.totals.items():
            totals[label] = totals.get(label, 0.0) + seconds
    shown = [k for k in labels if k in totals]
    bottom.barh(shown, [totals[k] / 60 for k in shown], color=[colour[k] for k in shown])
    bottom.invert_yaxis()
    bottom.set_xlabel("minutes")
    figure.tight_layout()
    with atomic_file(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    plt.close(figure)
