"""The activity report as one self-contained HTML page: inline SVG and CSS, no scripts, no
files beside it. Every string that came from an input (names, labels, warnings, reasons) is
escaped."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from html import escape

from harlite.report.load import Recording
from harlite.runtime.activity import (
    format_duration,
    format_time,
    has_wall_clock,
)

#: Colours of the six HAPT activities; other labels take PALETTE's in turn.
COLOURS = {
    "WALKING": "#2a9d8f",
    "WALKING_UPSTAIRS": "#e76f51",
    "WALKING_DOWNSTAIRS": "#f4a261",
    "SITTING": "#457b9d",
    "STANDING": "#a8dadc",
    "LAYING": "#6d597a",
}
PALETTE = ("#8ab17d", "#e9c46a", "#b56576", "#264653", "#9c6644", "#adb5bd")
#: Tick steps for the time axis, in seconds.
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)

WIDTH, LEFT, RIBBON, BAND, ROW_GAP = 1100, 190, 26, 22, 18
CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:24px 32px;color:#222;max-width:1150px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}
.sub{color:#555;margin:0 0 12px}table{border-collapse:collapse;margin:4px 0}
td,th{padding:3px 12px 3px 0;text-align:left;vertical-align:top}th{font-weight:600;color:#444}
td.n{text-align:right;font-variant-numeric:tabular-nums}.sw{display:inline-block;width:12px;
height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}.warn{color:#9a3412}
.ok{color:#166534}.muted{color:#777}svg text{font:12px system-ui,sans-serif;fill:#333}
.cols{display:flex;gap:48px;flex-wrap:wrap}
"""


def colours(labels: list[str]) -> dict[str, str]:
    """A colour per label: the HAPT ones fixed, others from the palette in order."""
    out, spare = {}, iter(PALETTE * (len(labels) // len(PALETTE) + 1))
    for label in labels:
        out[label] = COLOURS.get(label) or next(spare)
    return out


def render(recordings: list[Recording], min_bout_s: float, title: str) -> str:
    """The whole page for one recording or many (a batch folder)."""
    labels = _all_labels(recordings)
    colour = colours(labels)
    totals: Counter[str] = Counter()
    for r in recordings:
        totals.update(r.activity.totals)
    parts = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(_subtitle(recordings))}</p>',
        '<div class="cols"><div>',
        "<h2>Time per activity</h2>",
        _totals_table(totals, recordings, colour),
        "</div><div>",
        _totals_bars(totals, colour),
        "</div></div>",
        "<h2>Activity over the day</h2>"
        if _axis(recordings)[2]
        else "<h2>Activity over time (from each recording's start)</h2>",
        _legend(labels, colour),
        _ribbons(recordings, colour),
        '<p class="muted">Each row is a recording; the line under it is the model\'s '
        "confidence (0–100%).</p>",
        _bouts_section(recordings, min_bout_s),
        "<h2>Input quality</h2>",
        _quality(recordings),
        "<h2>Model</h2>",
        _model(recordings, min_bout_s),
    ]
    body = "\n".join(parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n{body}\n"
        "</body></html>\n"
    )


def _all_labels(recordings: list[Recording]) -> list[str]:
    labels: list[str] = []
    for r in recordings:
        for label in [*r.labels, *r.activity.totals]:
            if label not in labels:
                labels.append(label)
    return labels


def _subtitle(recordings: list[Recording]) -> str:
    first = min(recordings, key=lambda r: r.origin)
    last = max(recordings, key=lambda r: r.end)
    span = f"{len(recordings)} recordings" if len(recordings) > 1 else recordings[0].name
    if has_wall_clock(first.origin):
        when = f"{_local(first.origin):%Y-%m-%d %H:%M} – {_local(last.end):%Y-%m-%d %H:%M}"
    else:
        when = "times from each recording's start (the input has no wall clock)"
    signal = sum(sum(r.activity.totals.values()) for r in recordings)
    return f"{span} · {when} · {format_duration(signal)} classified"


def _local(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc).astimezone()


def _totals_table(totals: Counter[str], recordings: list[Recording], colour: dict[str, str]) -> str:
    whole = sum(totals.values()) or 1.0
    confidence: dict[str, list[float]] = {}
    for r in recordings:  # weighted by each recording's time in the activity
        for label, mean in r.mean_confidence.items():
            confidence.setdefault(label, []).append(mean * r.activity.totals[label])
    rows = [
        "<table><tr><th>activity</th><th>time</th><th>minutes</th><th>share</th>"
        "<th>mean confidence</th></tr>"
    ]
    for label, seconds in totals.most_common():
        mean = sum(confidence.get(label, [])) / seconds if seconds else 0.0
        rows.append(
            f'<tr><td><span class="sw" style="background:{colour[label]}"></span>'
            f"{escape(label)}</td><td class=n>{escape(format_duration(seconds))}</td>"
            f"<td class=n>{seconds / 60:.1f}</td><td class=n>{seconds / whole:.0%}</td>"
            f"<td class=n>{mean:.0%}</td></tr>"
        )
    return "\n".join(rows) + "</table>"


def _totals_bars(totals: Counter[str], colour: dict[str, str]) -> str:
    """Minutes per activity as horizontal bars."""
    items = totals.most_common()
    longest = max((s for _, s in items), default=1.0) or 1.0
    height = 24 * len(items) + 8
    out = [f'<svg width="480" height="{height}" role="img" aria-label="minutes per activity">']
    for i, (label, seconds) in enumerate(items):
        y = 4 + 24 * i
        width = max(1.0, 240 * seconds / longest)
        out.append(
            f'<text x="0" y="{y + 14}">{escape(label[:22])}</text>'
            f'<rect x="165" y="{y}" width="{width:.1f}" height="18" rx="2" '
            f'fill="{colour[label]}"/><text x="{171 + width:.1f}" y="{y + 14}">'
            f"{seconds / 60:.1f} min</text>"
        )
    return "".join(out) + "</svg>"


def _legend(labels: list[str], colour: dict[str, str]) -> str:
    return (
        "<p>"
        + " ".join(
            f'<span class="sw" style="background:{colour[k]}"></span>{escape(k)}&nbsp;&nbsp;'
            for k in labels
        )
        + "</p>"
    )


def _axis(recordings: list[Recording]) -> tuple[float, float, bool]:
    """The ribbons' common axis: (from, to, wall clock), in seconds of the local day on a
    wall clock, else seconds from each recording's start."""
    wall = all(has_wall_clock(r.origin) for r in recordings)
    lows = [_day_seconds(r.origin) if wall else 0.0 for r in recordings]
    highs = [low + (r.end - r.origin) for low, r in zip(lows, recordings, strict=True)]
    return min(lows), max(max(highs), min(lows) + 1.0), wall


def _day_seconds(t: float) -> float:
    local = _local(t)
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def _ticks(low: float, high: float, wall: bool) -> list[tuple[float, str]]:
    step = next((s for s in TICK_STEPS if (high - low) / s <= 8), TICK_STEPS[-1])
    first = -(-low // step) * step
    ticks = []
    t = first
    while t <= high + 1e-9:
        whole = int(t)
        if wall:
            text = f"{whole // 3600 % 24:02d}:{whole // 60 % 60:02d}"
            text += f":{whole % 60:02d}" if step < 60 else ""
        else:
            text = format_time(whole, 0.0) if step < 3600 else f"{whole // 3600} h"
        ticks.append((t, text))
        t += step
    return ticks


def _ribbons(recordings: list[Recording], colour: dict[str, str]) -> str:
    """One ribbon per recording on a common time axis, its confidence line under it."""
    low, high, wall = _axis(recordings)
    span = high - low
    plot = WIDTH - LEFT - 10
    row = RIBBON + BAND + ROW_GAP
    height = row * len(recordings) + 30

    def x(seconds_on_axis: float) -> float:
        return LEFT + plot * (seconds_on_axis - low) / span

    out = [f'<svg width="{WIDTH}" height="{height}" role="img" aria-label="activity timeline">']
    for i, r in enumerate(recordings):
        top = 6 + i * row
        shift = (_day_seconds(r.origin) if wall else 0.0) - r.origin
        out.append(_row_label(r, top, wall))
        for run in r.activity.runs:
            x0, x1 = x(run.start + shift), x(run.end + shift)
            tip = (
                f"{run.label}: {format_time(run.start, r.origin)}–{format_time(run.end, r.origin)}"
                f" ({format_duration(run.seconds)})"
            )
            out.append(
                f'<rect x="{x0:.2f}" y="{top}" width="{max(x1 - x0, 0.4):.2f}" '
                f'height="{RIBBON}" fill="{colour[run.label]}"><title>{escape(tip)}</title></rect>'
            )
        out.append(_confidence_line(r, top + RIBBON + 2, lambda t, s=shift: x(t + s)))
    axis_y = height - 22
    out.append(f'<line x1="{LEFT}" x2="{LEFT + plot}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/>')
    for t, text in _ticks(low, high, wall):
        out.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{axis_y}" y2="{axis_y + 4}" '
            f'stroke="#999"/><text x="{x(t):.1f}" y="{axis_y + 17}" text-anchor="middle">'
            f"{escape(text)}</text>"
        )
    return "".join(out) + "</svg>"


def _row_label(r: Recording, top: int, wall: bool) -> str:
    name = r.name.rsplit("/", 1)[-1]
    short = name if len(name) <= 24 else name[:23] + "…"
    when = f"{_local(r.origin):%a %d %b}" if wall else format_duration(r.end - r.origin)
    return (
        f'<text x="0" y="{top + 11}"><title>{escape(r.name)}</title>{escape(short)}</text>'
        f'<text x="0" y="{top + 27}" style="fill:#777">{escape(when)}</text>'
    )


def _confidence_line(r: Recording, top: int, x) -> str:
    points = " ".join(f"{x(t):.1f},{top + BAND * (1 - c):.1f}" for t, c in r.confidence)
    return (
        f'<rect x="{x(r.origin):.1f}" y="{top}" width="{x(r.end) - x(r.origin):.1f}" '
        f'height="{BAND}" fill="#f3f4f6"/>'
        f'<polyline points="{points}" fill="none" stroke="#555" stroke-width="1"/>'
    )


def _bouts_section(recordings: list[Recording], min_bout_s: float) -> str:
    head = f"<h2>Bouts (at least {min_bout_s:g} s)</h2>"
    if len(recordings) > 1:
        rows = ["<table><tr><th>recording</th><th>bouts</th><th>longest</th></tr>"]
        for r in recordings:
            bouts = r.bouts(min_bout_s)
            best = max(bouts, key=lambda b: b.seconds, default=None)
            longest = f"{best.label} {format_duration(best.seconds)}" if best else "–"
            rows.append(
                f"<tr><td>{escape(r.name)}</td><td class=n>{len(bouts)}</td>"
                f"<td>{escape(longest)}</td></tr>"
            )
        return head + "\n".join(rows) + "</table>"
    r = recordings[0]
    rows = ["<table><tr><th>from</th><th>to</th><th>activity</th><th>lasted</th></tr>"]
    for b in r.bouts(min_bout_s):
        rows.append(
            f"<tr><td>{format_time(b.start, r.origin)}</td><td>{format_time(b.end, r.origin)}"
            f"</td><td>{escape(b.label)}</td><td class=n>{format_duration(b.seconds)}</td></tr>"
        )
    return head + "\n".join(rows) + "</table>"


def _quality(recordings: list[Recording]) -> str:
    rows = [
        "<table><tr><th>recording</th><th>windows</th><th>bad rows</th><th>unlike training"
        "</th><th>warnings</th></tr>"
    ]
    for r in recordings:
        s = r.summary
        bad = s.get("bad_rows")
        reasons = ", ".join(f"{k}: {v}" for k, v in (s.get("bad_row_reasons") or {}).items())
        bad_text = (
            "not known (no summary)"
            if bad is None
            else f"{bad}" + (f" ({reasons})" if reasons else "")
        )
        warnings = [str(w) for w in s.get("warnings") or []]
        if s.get("truncated_reason"):
            warnings.append(f"ended early: {s['truncated_reason']}")
        unlike = s.get("out_of_distribution_windows")
        rows.append(
            f"<tr><td>{escape(r.name)}</td><td class=n>{r.windows}</td>"
            f'<td class="{"warn" if bad else "ok"}">{escape(bad_text)}</td>'
            f"<td class=n>{'–' if unlike is None else escape(str(unlike))}</td>"
            f'<td class="warn">{"<br>".join(escape(w) for w in warnings)}</td></tr>'
        )
    return "\n".join(rows) + "</table>"


def _model(recordings: list[Recording], min_bout_s: float) -> str:
    seen: Counter[str] = Counter()
    for r in recordings:
        s = r.summary
        if not s:
            seen["not known (no summary beside the predictions)"] += 1
            continue
        text = f"{s.get('model', '?')} ({s.get('artifact', '?')} on {s.get('backend', '?')})"
        if s.get("smoothing"):
            text += f", smoothing {s['smoothing']}"
        seen[text] += 1
    items = "".join(
        f"<li>{escape(text)}" + (f" – {n} recordings" if len(recordings) > 1 else "") + "</li>"
        for text, n in seen.items()
    )
    return (
        f"<ul>{items}</ul><p class=muted>A window counts its hop (the first of a stretch its "
        f"whole length); bouts shorter than {min_bout_s:g} s count into the bout before "
        "them. Made by harlite report.</p>"
    )
