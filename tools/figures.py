"""Show the measured figures in the docs: every figure lives once, in benchmarks/results/*.json.

A Markdown file marks a generated block with ``<!-- figures: NAME -->`` … ``<!-- /figures -->``;
this script fills each block from the results files (the block's text is replaced whole), so
a figure is never retyped and cannot drift.

    python tools/figures.py          # rewrite every block
    python tools/figures.py --check  # exit 1, naming the blocks, if any is out of date

Blocks:

- ``crossval``: per shipped model, the cross-validated table (benchmarks/bench_crossval.py):
  per placement and class, mean ± sd over people and the worst person, as the device answers
  (float32 artefact, the stream's placement rule), with int8 beside float32.
- ``crossval-unlike``: how the runtime's "unlike training" check flags the windows the
  stream answers wrongly and rightly, per placement.
- ``mcu``: the exported C library on a Cortex-M4F under emulation (benchmarks/bench_mcu.py):
  flash, RAM, stack, instructions and time per window, and the issue's goals for lstm.
- ``c-speed``: the exported C forward pass on this host beside TFLite, ONNX Runtime and
  ``harlite bench``'s floor (benchmarks/bench_c_speed.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
#: The files that hold generated blocks.
DOCUMENTS = (
    "README.md",
    "docs/placement.md",
    "docs/crossval.md",
    "docs/deploy.md",
    "docs/speed.md",
    "benchmarks/results/mcu.md",
)
#: The results the tables list, in order, with their names there: the shipped models, and
#: the recipe the default replaced (measured the same way, side by side).
SHOWN = {
    "lstm": "`lstm` (default)",
    "lstm-waist-only": "`lstm`, waist-only recipe (replaced)",
    "cnn": "`cnn`",
    "resbilstm": "`resbilstm`",
}
CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
SHORT = {"WALKING_UPSTAIRS": "stairs up", "WALKING_DOWNSTAIRS": "stairs down"}
_BLOCK = re.compile(r"(<!-- figures: ([\w-]+) -->\n)(.*?)(<!-- /figures -->)", re.DOTALL)


def _load(name: str) -> dict | None:
    path = RESULTS / f"crossval_{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _cell(figure: dict | None) -> str:
    if not figure or figure.get("mean") is None:
        return "–"
    return f"{_pct(figure['mean'])} ± {_pct(figure['sd'])} (min {_pct(figure['worst'])})"


def crossval_table() -> str:
    """Per shipped model and placement: accuracy and per-class recall over people."""
    header = [
        "model",
        "placement",
        "people",
        "accuracy",
        *(SHORT.get(c, c.lower()) for c in CLASSES),
    ]
    header.append("int8 − float32 (points)")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    found = []
    for name, shown in SHOWN.items():
        result = _load(name)
        if result is None:
            continue
        found.append(result)
        for placement, figures in result["float32"].items():
            int8 = result["int8"][placement]["accuracy"]["mean"]
            delta = 100 * (int8 - figures["accuracy"]["mean"])
            cells = [
                shown,
                placement,
                str(figures["accuracy"]["people"]),
                _cell(figures["accuracy"]),
                *(_cell(figures["classes"].get(label)) for label in CLASSES),
                f"{delta:+.2f}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    if not found:
        return "(no cross-validation results yet: run benchmarks/bench_crossval.py --save)\n"
    folds = sorted({r["k"] for r in found})
    lines += [
        "",
        f"Percent of each person's windows, mean ± sd over people (min: the worst person), "
        f"from {'/'.join(map(str, folds))}-fold leave-people-out cross-validation: each "
        "person's windows were answered by the model trained without them, through the "
        "device runtime (float32 TFLite, the stream's placement rule). A class counts for "
        f"people with at least {found[0]['min_class_windows']} windows of it. Commands: "
        + "; ".join(f"`{r['command']}`" for r in found)
        + ".",
    ]
    return "\n".join(lines) + "\n"


def crossval_unlike() -> str:
    """The "unlike training" check's hit rate on the held-out windows."""
    lines = [
        "| model | placement | wrong windows | flagged of wrong | right windows "
        "| flagged of right |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, shown in SHOWN.items():
        result = _load(name)
        for placement, f in (result or {}).get("unlike_training", {}).items():
            lines.append(
                f"| {shown} | {placement} | {f['wrong_windows']} | {_pct(f['flagged_of_wrong'])}% "
                f"| {f['right_windows']} | {_pct(f['flagged_of_right'])}% |"
            )
    return "\n".join(lines) + "\n"


def _figures(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text())["figures"] if path.exists() else None


def _kib(n: float) -> str:
    return f"{n / 1024:.1f}"


def _versus(value: float, goal: float, text: str) -> str:
    if value <= goal:
        return f"{text}: met"
    return f"{text}: {value / goal:.2f}× the goal"


def _mcu_goals(weights: str, g: dict) -> str:
    """One weight kind's figures against the goals, with the margin where one is missed."""
    (ms, ms_goal), (ram, ram_goal), (flash, flash_goal) = (
        g["ms_per_window_64mhz"],
        g["ram_bytes"],
        g["flash_bytes"],
    )
    return (
        f"{weights}: {_versus(ms, ms_goal, f'{ms:.0f} ms per window (≤ {ms_goal:.0f})')}, "
        f"{_versus(ram, ram_goal, f'RAM {_kib(ram)} KiB (≤ {_kib(ram_goal)})')}, "
        f"{_versus(flash, flash_goal, f'flash {_kib(flash)} KiB (≤ {_kib(flash_goal)})')}"
    )


def mcu_table() -> str:
    """Per preset and weight kind: footprint and instructions per window on a Cortex-M4F."""
    f = _figures("mcu")
    if f is None:
        return "(no MCU results yet: run benchmarks/bench_mcu.py --save)\n"
    part = f["part"]
    fits = f"fits {part['flash_bytes'] // 1024} KiB / {part['ram_bytes'] // 1024} KiB"
    lines = [
        "| preset | weights | flags | flash KiB (weights) | RAM KiB: static + stack = total "
        f"| M instructions per window: model + stream core | ms per window at "
        f"{f['clock_hz'] / 1e6:.0f} MHz | {fits} | labels = host C / = harlite stream |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in f["rows"]:
        lines.append(
            f"| `{r['preset']}` | {r['weights']} | `{r['cflags']}` "
            f"| {_kib(r['flash_bytes'])} ({_kib(r['weight_bytes'])}) "
            f"| {_kib(r['ram_static_bytes'])} + {_kib(r['stack_bytes'])} = {_kib(r['ram_bytes'])} "
            f"| {r['model_instructions'] / 1e6:.2f} + {r['stream_instructions'] / 1e6:.2f} "
            f"| {r['ms_per_window_64mhz']:.0f} | {'yes' if r['fits_part'] else 'no'} "
            f"| {_pct(r['labels_as_host'])}% / {_pct(r['labels_as_stream'])}% |"
        )
    goals = [_mcu_goals(weights, g) for weights, g in f["goals"].items()]
    windows = f["rows"][0]["windows"]
    lines += [
        "",
        f"`lstm` against the issue's goals: {'; '.join(goals)}. {f['board']}; "
        f"{windows} windows of `{f['recording']}` pushed sample by sample; instructions counted "
        f"under `qemu -icount shift=0` (SysTick, calibrated), time at one instruction per "
        f"cycle (a lower bound for real silicon). {f['versions']['gcc']}; "
        f"{f['versions']['qemu']}. Command: `{f['command']}`.",
    ]
    return "\n".join(lines) + "\n"


def c_speed_table() -> str:
    """The exported C forward pass beside the other backends, one run."""
    f = _figures("c_speed")
    if f is None:
        return "(no results yet: run benchmarks/bench_c_speed.py --save)\n"
    floor = f["ms_per_window"]["floor"]
    lines = [
        "| contender | ms per window (batch 1, one thread) | rounds' range | × floor "
        "| max \\|Δp\\| vs ONNX Runtime |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, ms in f["ms_per_window"].items():
        low, high = f["round_spread_ms"][name]
        diff = f["max_abs_diff_vs_onnxruntime"].get(name)
        lines.append(
            f"| {name} | {ms:.3f} | {low:.3f}–{high:.3f} | {ms / floor:.2f} "
            f"| {'–' if diff is None else f'{diff:.1g}'} |"
        )
    lines += [
        "",
        f"`{f['bundle']}`, {f['rounds']} rounds of {f['windows_per_round']} windows, contenders "
        f"interleaved, medians; floor compiled with `{f['floor_compiler']}`. "
        f"Command: `{f['command']}`.",
    ]
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "crossval": crossval_table,
    "crossval-unlike": crossval_unlike,
    "mcu": mcu_table,
    "c-speed": c_speed_table,
}


def render(text: str, where: str) -> str:
    """``text`` with every generated block filled."""

    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in RENDERERS:
            raise SystemExit(
                f"{where}: unknown figures block {name!r} (known: {', '.join(RENDERERS)})"
            )
        return match.group(1) + RENDERERS[name]() + match.group(4)

    return _BLOCK.sub(fill, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which blocks are stale")
    args = parser.parse_args()
    stale = []
    for document in DOCUMENTS:
        path = REPO / document
        if not path.exists():
            continue
        text = path.read_text()
        new = render(text, document)
        if new != text:
            stale.append(document)
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run python tools/figures.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
