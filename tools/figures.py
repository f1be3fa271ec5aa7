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
- ``crossval-shipped``: the README's short form of it: the shipped models only, mean (worst
  person) per placement and class.
- ``crossval-unlike``: how the runtime's "unlike training" check and its "unsure" flag mark
  the windows the stream answers wrongly and rightly, per placement.
- ``crossval-recipes``: every cross-validated recipe side by side (each
  ``crossval_*.json``), the weak classes first: how the shipped settings were chosen.
- ``mcu``: the exported C library on a Cortex-M4F under emulation (benchmarks/bench_mcu.py):
  flash, RAM, stack, instructions and time per window, and the issue's goals for lstm.
- ``c-speed``: the exported C forward pass on this host beside TFLite, ONNX Runtime and
  ``harlite bench``'s floor (benchmarks/bench_c_speed.py).
- ``speed``, ``stream``, ``stream-accuracy``, ``serve``, ``batch``, ``udp``,
  ``preprocessing``, ``inference``, ``training``, ``finetune``: one results file each (two for
  ``preprocessing`` and ``training``), as the benchmark of that name measured it.
- ``headline``: the README's few figures, each from its results file.
- ``rooms``: not a figure but the same idea: the picture of harlite's rooms in
  docs/architecture.md, drawn from the import graph so that it cannot drift either.

``--check`` also fails on a figure typed outside a block (a number with %, ×, ms, µs, a size
or a rate; goals after ≤ ≥ < > and the rules in ``RULES`` excepted) in the README, docs/ and
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from harlite.runtime.signal.placement import POCKET_SWING_RAD_S

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
#: The files that may hold generated blocks, and that must hold no typed figure.
DOCUMENTS = (
    "README.md",
    "benchmarks/README.md",
    "benchmarks/results/mcu.md",
    *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
)
#: Pages being rewritten elsewhere (issue 27): their typed figures are not reported yet.
PENDING = ("docs/deploy.md", "docs/phone-page.md")
#: A measured figure: a number with a unit a measurement comes in (%, ×, ms, µs, sizes,
#: rates). A number after ≤ ≥ < > is a goal or a limit, not a measurement.
_TYPED = re.compile(
    r"(?<![\w.,\-≤≥<>~±/])(?<![≤≥<>] )\d[\d,]*(?:\.\d+)?"
    r"(?:×|\s?(?:%|ms\b|µs\b|[KMGT]i?B\b|GMAC/s|(?:M )?samples/s|windows/s))"
)
#: Numbers with those units that are rules, not measurements (limits, window overlap…).
RULES = frozenset(
    {"50%", "4 KB", "1 MiB", "4 MiB", "8 MiB", "16 MiB", "32 MiB", "64 MiB", "256 MiB",
     "64 KiB", "8 GiB", "10×", "50 ms", "10 ms", "4 ms", "6 ms", "20%", "80%", "99%", "10%"}
)  # fmt: skip
_NOT_PROSE = re.compile(
    r"<!-- figures: [\w-]+ -->.*?<!-- /figures -->|^ *```.*?^ *```", re.S | re.M
)


#: The shipped models' folders.
MODELS = REPO / "harlite" / "models"
#: The model ``harlite stream`` runs when given none.
DEFAULT_MODEL = "lstm"
#: The recipes the default replaced, measured the same way (shown beside it), with their names.
REPLACED = {
    "lstm-mirror": "`lstm`, previous default (replaced)",
    "lstm-balance1-average": "`lstm`, second pocket default (replaced)",
    "lstm": "`lstm`, first pocket default (replaced)",
    "lstm-waist-only": "`lstm`, waist-only recipe (replaced)",
}


def shipped_crossvals(models: Path = MODELS) -> dict[str, str]:
    """Each shipped model's cross-validation results name (``crossval_NAME.json``: NAME), as
    its ``model-info.json`` records it, the default first; models never cross-validated
    are left out."""
    found = {}
    for info in sorted(models.glob("*/training/model-info.json")):
        file = json.loads(info.read_text()).get("validation", {}).get("crossval")
        if file:
            found[info.parents[1].name] = file.removeprefix("crossval_").removesuffix(".json")
    if len(set(found.values())) < len(found):
        raise SystemExit(f"two shipped models name the same cross-validation: {found}")
    return dict(sorted(found.items(), key=lambda item: item[0] != DEFAULT_MODEL))


def shown(crossvals: dict[str, str]) -> dict[str, str]:
    """The results the tables list, in order, with their names there: the default, the
    recipes it replaced, the other shipped models."""
    names = {
        name: f"`{model}`" + (" (default)" if model == DEFAULT_MODEL else "")
        for model, name in crossvals.items()
    }
    default = {name: names[name] for name in [crossvals.get(DEFAULT_MODEL)] if name}
    replaced = {name: text for name, text in REPLACED.items() if name not in names}
    return {**default, **replaced, **names}


CROSSVALS = shipped_crossvals()
SHOWN = shown(CROSSVALS)
CLASSES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
SHORT = {"WALKING_UPSTAIRS": "stairs up", "WALKING_DOWNSTAIRS": "stairs down"}
_BLOCK = re.compile(r"(<!-- figures: ([\w-]+) -->\n)(.*?)(<!-- /figures -->)", re.DOTALL)


def _load(name: str) -> dict | None:
    """``crossval_NAME.json``; None where it is missing, unless a shipped model names it."""
    path = RESULTS / f"crossval_{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    if name in CROSSVALS.values():
        raise SystemExit(f"{path}: a shipped model's model-info names it, but it is missing")
    return None


#: Marks a results file answered by the placement rule before it asked a pocket phone to
#: swing as a thigh does (its folds' runs were gone, so it was not summarised again).
BEFORE_SWING = "†"
BEFORE_SWING_NOTE = (
    f"{BEFORE_SWING}: answered with the placement rule before its swing floor (a moving window "
    "named the pocket from gravity alone; docs/placement.md); the folds' predictions were no "
    "longer kept to answer them again."
)


def _rule_mark(result: dict) -> str:
    rule = result.get("placement_rule", {})
    return "" if rule.get("pocket_swing_rad_s") == POCKET_SWING_RAD_S else f" {BEFORE_SWING}"


def _rule_note(found: list[dict]) -> str:
    """The footnote to :data:`BEFORE_SWING`, where a result shown carries it."""
    return " " + BEFORE_SWING_NOTE if any(_rule_mark(r) for r in found) else ""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{_pct(value)}%"


def _cell(figure: dict | None) -> str:
    """Mean ± sd over people (min: the worst person)."""
    if not figure or figure.get("mean") is None:
        return "–"
    return f"{_pct(figure['mean'])} ± {_pct(figure['sd'])} (min {_pct(figure['worst'])})"


def _mean_worst(figure: dict | None) -> str:
    """Mean over people (min: the worst person)."""
    if not figure or figure.get("mean") is None:
        return "–"
    return f"{_pct(figure['mean'])} (min {_pct(figure['worst'])})"


def _class_table(names: dict[str, str], cell: Callable, int8: bool) -> tuple[list[str], list]:
    """Rows per results file and placement (accuracy, each class's recall), the results
    found; ``int8`` adds the int8 − float32 column."""
    header = [
        "model",
        "placement",
        "people",
        "accuracy",
        *(SHORT.get(c, c.lower()) for c in CLASSES),
    ]
    header += ["int8 − float32 (points)"] if int8 else []
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    found = []
    for name, shown_as in names.items():
        result = _load(name)
        found += [result] if result else []
        for placement, figures in (result or {}).get("float32", {}).items():
            accuracy = figures["accuracy"]
            cells = [shown_as + _rule_mark(result), placement, str(accuracy["people"]),
                     cell(accuracy),
                     *(cell(figures["classes"].get(label)) for label in CLASSES)]  # fmt: skip
            if int8:
                delta = 100 * (result["int8"][placement]["accuracy"]["mean"] - accuracy["mean"])
                cells.append(f"{delta:+.2f}")
            lines.append("| " + " | ".join(cells) + " |")
    return lines, found


def _shown_command(command: str) -> str:
    """A results file's command without its output folder (where the folds' runs were kept
    does not change the figures)."""
    return re.sub(r" --out \S+", "", command)


def crossval_table() -> str:
    """Per shipped model (and the recipes the default replaced) and placement: accuracy and
    per-class recall over people, int8 beside float32."""
    lines, found = _class_table(SHOWN, _cell, int8=True)
    if not found:
        return "(no cross-validation results yet: run benchmarks/bench_crossval.py --save)\n"
    folds = sorted({r["k"] for r in found})
    lines += [
        "",
        f"Percent of each person's windows, mean ± sd over people (min: the worst person), "
        f"from {'/'.join(map(str, folds))}-fold leave-people-out cross-validation: each "
        "person's windows were answered by the model trained without them, through the "
        "device runtime (float32 TFLite, the stream's placement rule). A class counts for "
        f"people with at least {found[0]['min_class_windows']} windows of it. Commands, as "
        "run with the preset of the time (each results file's `config` holds every setting): "
        + "; ".join(f"`{_shown_command(r['command'])}`" for r in found)
        + "."
        + _rule_note(found),
    ]
    return "\n".join(lines) + "\n"


def crossval_shipped() -> str:
    """The README's table: each shipped model per placement and class, the mean over
    held-out people and the worst person; the shipped models not cross-validated named."""
    lines, found = _class_table(
        {name: SHOWN[name] for name in CROSSVALS.values()}, _mean_worst, False
    )
    missing = sorted(
        p.name
        for p in MODELS.iterdir()
        if (p / "manifest.json").is_file() and p.name not in CROSSVALS
    )
    lines += [
        "",
        "Percent of each held-out person's windows, mean over people (min: the worst person), "
        "leave-people-out cross-validation, as the device answers; spread, int8 and the "
        "commands: [docs/figures.md](docs/figures.md)."
        + (f" Not cross-validated yet: {', '.join(f'`{m}`' for m in missing)}." if missing else "")
        + _rule_note(found),
    ]
    return "\n".join(lines) + "\n"


def crossval_unlike() -> str:
    """How the runtime flags the held-out windows it answers wrongly and rightly: "unlike
    training" (gravity), "unsure" (top probability) and either."""
    lines = [
        "| model | placement | wrong windows | right windows | unlike training: of wrong "
        "/ of right | unsure: of wrong / of right | either: of wrong / of right |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = [
        *SHOWN,
        *sorted(p.stem.removeprefix("crossval_") for p in RESULTS.glob("crossval_*.json")),
    ]
    found = []
    for name in dict.fromkeys(names):  # the shipped models first, then the other recipes
        result = _load(name)
        found += [result] if result else []
        shown = SHOWN.get(name, f"`crossval_{name}.json` (not shipped)")
        shown += _rule_mark(result) if result else ""
        for placement, f in (result or {}).get("unlike_training", {}).items():
            pairs = [
                f"{_share(f.get(k + 'flagged_of_wrong'))} / {_share(f.get(k + 'flagged_of_right'))}"
                for k in ("", "unsure_", "either_")
            ]
            lines.append(
                f"| {shown} | {placement} | {f['wrong_windows']} | {f['right_windows']} | "
                + " | ".join(pairs)
                + " |"
            )
    note = _rule_note(found).strip()
    return "\n".join(lines + (["", note] if note else [])) + "\n"


#: The settings the recipes tried differ in (the rest of each run's settings are its preset's).
RECIPE_SETTINGS = (
    "placement_aug",
    "balance",
    "average_epochs",
    "dropout",
    "pocket_mirror",
    "thigh_turn_deg",
    "time_warp",
    "waist_rotation_deg",
)


def _recipe_setting(config: dict, key: str) -> float:
    """One recipe setting as the folds trained with it: a setting older results lack did not
    exist yet, so it was off; the waist's rotation bound unset is the bound everywhere."""
    if key == "waist_rotation_deg" and config.get(key) is None:
        return config.get("rotation_deg") or 0
    return config.get(key) or 0


#: The classes a recipe is judged on first, per placement (the issue's weak spots).
RECIPE_COLUMNS = (
    ("pocket", None),
    ("pocket", "WALKING_UPSTAIRS"),
    ("pocket", "WALKING_DOWNSTAIRS"),
    ("pocket", "SITTING"),
    ("waist", None),
    ("waist", "SITTING"),
    ("waist", "STANDING"),
)


def _recipe_cell(result: dict, placement: str, label: str | None) -> str:
    figures = result["float32"].get(placement)
    if figures is None:
        return "–"
    return _mean_worst(figures["accuracy"] if label is None else figures["classes"].get(label))


def crossval_recipes() -> str:
    """Every recipe cross-validated (each ``crossval_*.json``), side by side: how the shipped
    settings were chosen."""
    header = ["results", "preset", "data", " / ".join(RECIPE_SETTINGS)]
    header += [f"{p} {SHORT.get(c, c.lower())}" if c else p for p, c in RECIPE_COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    results = []
    for path in sorted(RESULTS.glob("crossval_*.json")):
        result = json.loads(path.read_text())
        results.append(result)
        settings = " / ".join(f"{_recipe_setting(result['config'], k):g}" for k in RECIPE_SETTINGS)
        cells = [
            f"`{path.name}`{_rule_mark(result)}",
            f"`{result['preset']}`",
            Path(result["data"]).name,
            settings,
        ]
        cells += [_recipe_cell(result, placement, label) for placement, label in RECIPE_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Mean over people (min: the worst person), percent, float32 through the device runtime "
        "with the stream's placement rule. Each file's `command` made it with the preset as "
        "it was then (its `config` holds every setting the folds trained with)."
        + _rule_note(results),
    ]
    return "\n".join(lines) + "\n"


def _result(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _figures(name: str) -> dict | None:
    result = _result(name)
    return None if result is None else result["figures"]


def _missing(name: str, script: str) -> str:
    return f"(no results yet: run `python benchmarks/{script} --save`, then this script)\n"


def _source(name: str, command: str) -> str:
    result = _result(name) or {}
    machine = result.get("machine", {})
    where = f"{machine.get('cpu_count', '?')}-core {machine.get('processor', '?')}"
    return f"(`benchmarks/results/{name}.json`, {result.get('date', '?')}, {where}; `{command}`)"


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


def _span(values: list[float], digits: int = 2) -> str:
    return f"{min(values):.{digits}f}–{max(values):.{digits}f}"


def _met(flag: bool) -> str:
    return "yes" if flag else "**no**"


def _speed_rows(f: dict) -> list[str]:
    s, inf, b, goal = f["stream"], f["inference"], f["batch"], f["targets"]
    fast, bare, same = (
        s["harlite_fastest"],
        s["harlite_fastest_without_pandas"],
        s["harlite_same_artifact"],
    )
    p50 = inf["batch1_p50_ms"]
    per_s = inf["batch256_windows_per_s"]
    best, plain = inf["fastest_backend"], p50["plain C forward pass"]
    startup = {k: v["wall_s"] for k, v in f["startup"].items() if "demo" not in k}
    demo = next(v["wall_s"] for k, v in f["startup"].items() if "demo" in k)
    return [
        f"| `harlite stream` on a 1-hour CSV: ≤ {goal['stream_cpu_per_sample_ratio_max']}× the "
        f"script's CPU per sample | **{fast['ratio_per_sample']:.2f}×** with `--backend auto` "
        f"({fast['cpu_us_per_sample']:.2f} µs per sample against "
        f"{s['script']['cpu_us_per_sample']:.2f}; rounds {_span(fast['ratio_per_sample_rounds'])})"
        f"; without pandas {bare['ratio_per_sample']:.2f}× "
        f"(rounds {_span(bare['ratio_per_sample_rounds'])}); on the script's own float32 "
        f"artefact {same['ratio_per_sample']:.2f}× "
        f"(rounds {_span(same['ratio_per_sample_rounds'])}) | {_met(goal['stream_met'])} |",
        f"| the same, whole process (start-up included) | {fast['ratio_whole_process']:.2f}× "
        "| (not a goal) |",
        f"| `harlite batch` over {b['files']} such files: 2 workers ≥ "
        f"{goal['batch_speedup_min']}× one | **{b['speedup_2_workers']:.2f}×** "
        f"({b['wall_s_1_worker']:.2f} s against {b['wall_s_2_workers']:.2f} s; rounds "
        f"{_span(b['speedup_rounds'])}) | {_met(goal['batch_met'])} |",
        f"| batch-1 latency of the fastest backend ≤ {goal['batch1_over_plain_forward_max']}× "
        f"the plain C forward pass | {best} **{p50[best]:.3f} ms** against {plain:.3f} ms: "
        f"**{inf['fastest_over_plain_forward']:.2f}×** (IQR "
        f"{_span(inf['fastest_over_plain_forward_iqr'])}) | {_met(goal['batch1_met'])} |",
        f"| batch-256 throughput ≥ {goal['batch256_over_tflite_min']}× TFLite's | "
        + " against ".join(f"{k} {v:,.0f} windows/s" for k, v in per_s.items())
        + f": **{inf['onnx_batch256_over_tflite']:.2f}×** | {_met(goal['batch256_met'])} |",
        f"| help and manifest commands < {goal['help_and_manifest_commands_wall_s_max']} s | "
        + ", ".join(f"`{k}` {v:.3f} s" for k, v in startup.items())
        + f"; a whole `harlite stream --demo` {demo:.2f} s | {_met(goal['startup_met'])} |",
    ]


def speed_table() -> str:
    """bench_speed.py: harlite against the script a data scientist would write, per goal."""
    f = _figures("speed")
    if f is None:
        return _missing("speed", "bench_speed.py")
    a = f["stream"]["agreement"]
    lines = ["| goal | measured | met |", "| --- | --- | --- |", *_speed_rows(f)]
    lines += [
        "",
        f"Medians of {f['batch']['rounds']} interleaved rounds. Same label as the script: "
        f"{a['same_artifact_equal_to_script']:.2%} of {a['windows']:,} windows on the same "
        f"artefact, {a['fastest_equal_to_script']:.2%} with `--backend auto`. "
        + _source("speed", "python benchmarks/bench_speed.py --save"),
    ]
    return "\n".join(lines) + "\n"


def stream_summary() -> str:
    """bench_stream.py: a file end to end, live latency, and a long soak."""
    f = _figures("stream")
    if f is None:
        return _missing("stream", "bench_stream.py")
    file, live, soak, cli = f["file"], f["live"], f["soak"], f["soak_cli"]
    rows = ["| artefact | file: wall s | × real time (end to end / in the loop) | samples/s "
            "| live: hop → prediction p50 ms |", "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for name, r in file.items():
        if name == "input":
            continue
        rows.append(
            f"| {name} | {r['wall_s']:.2f} | {r['realtime_factor_wall']:,.0f} / "
            f"{r['realtime_factor_stream']:,.0f} | {r['samples_per_s_wall']:,.0f} "
            f"| {live[name]['p50_ms']:.2f} |"
        )
    rss = cli["rss_mib_min_max_after_first_tenth"]
    rows += [
        "",
        f"A {file['input']['signal_s']:,.0f} s CSV, process start included. Soak of "
        f"{soak['samples']:,} samples: {soak['windows']:,} windows of {soak['expected_windows']:,}"
        f" expected, RSS +{soak['rss_growth_after_first_million_mib']:.2f} MiB after the first "
        f"million in process, {rss[0]:.1f}–{rss[1]:.1f} MiB through the `harlite stream "
        f"--input -` pipe, {soak['ms_per_window_first_tenth']:.3f} → "
        f"{soak['ms_per_window_last_tenth']:.3f} ms per window (first and last tenth). "
        + _source("stream", "python benchmarks/bench_stream.py --save"),
    ]
    return "\n".join(rows) + "\n"


def stream_accuracy_table() -> str:
    """bench_stream_accuracy.py: streamed against offline accuracy, per input variant."""
    f = _figures("stream_accuracy")
    if f is None:
        return _missing("stream_accuracy", "bench_stream_accuracy.py")
    lines = ["| input | float32 | int8 | float32, scored at the lagged window |",
             "| --- | --- | --- | --- |"]  # fmt: skip
    for variant, r in f["float32"].items():
        q = f["int8"][variant]
        lagged = r.get("accuracy_delay_aligned")
        lines.append(
            f"| {variant} | {r['accuracy']:.2%} | {q['accuracy']:.2%} "
            f"| {'–' if lagged is None else f'{lagged:.2%}'} |"
        )
    people = ", ".join(map(str, f["subjects"]))
    lines += [
        "",
        f"{f['float32']['offline']['windows']:,} windows of subjects {people}, a bundle trained "
        "without them. "
        + _source("stream_accuracy", "python benchmarks/bench_stream_accuracy.py --save"),
    ]
    return "\n".join(lines) + "\n"


def serve_summary() -> str:
    """bench_serve.py: push-to-page latency and many phones at once."""
    f = _figures("serve")
    if f is None:
        return _missing("serve", "bench_serve.py")
    lat, load = f["latency"], f["load"]
    return (
        f"Push-to-page latency p50 {lat['latency_ms_p50']:.1f} ms, p95 "
        f"{lat['latency_ms_p95']:.1f} ms ({lat['pushes']} pushes). {load['phones']} phones at "
        f"{load['rate_hz']} Hz for {load['seconds']} s: {load['samples_received_min']:,} of "
        f"{load['samples_expected_per_phone']:,} samples per phone received at least, "
        f"{load['samples_lost']} lost, {load['bad_rows']} bad rows, "
        f"{load['missing_messages']} missing messages, {load['windows']:,} windows; server RSS "
        f"{load['rss_mb_10_20s']:.1f} MB (10–20 s) → {load['rss_mb_last_10s']:.1f} MB "
        f"(last 10 s), {load['server_cpu_share']:.0%} of one core. "
        + _source("serve", "python benchmarks/bench_serve.py --save")
        + "\n"
    )


def batch_summary() -> str:
    """bench_batch.py: harlite batch on 1 and 2 workers, and a projection."""
    f = _figures("batch")
    if f is None:
        return _missing("batch", "bench_batch.py")
    hours = f["projection_hours_1000_recordings_7_days_16_core_machines"]
    return (
        f"{f['recordings']} recordings of {f['hours_each']:g} h: local engine "
        f"{f['local_1']['seconds']:.1f} s on 1 worker, {f['local_2']['seconds']:.1f} s on 2 "
        f"(**{f['local_speedup_2_workers']:.2f}×**); Ray {f['ray_1']['seconds']:.1f} s and "
        f"{f['ray_2']['seconds']:.1f} s (**{f['ray_speedup_2_workers']:.2f}×**, Ray's start-up "
        f"excluded). Projected for 1,000 recordings of 7 days on 16-core machines of this kind: "
        + ", ".join(f"{h:g} h on {n}" for n, h in hours.items())
        + ". "
        + _source("batch", "python benchmarks/bench_batch.py --save")
        + "\n"
    )


def udp_table() -> str:
    """bench_udp.py: datagram rates the UDP listener takes, with the kernel's drops."""
    f = _figures("udp")
    if f is None:
        return _missing("udp", "bench_udp.py")
    lines = ["| datagrams/s | lines each | sent | received | dropped |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in f["rows"]:
        lines.append(
            f"| {r['datagrams_per_s']:,} | {r['lines_per_datagram']} | {r['sent']:,} "
            f"| {r['received']:,} | {r['dropped']:,} ({r['dropped'] / r['sent']:.0%}) |"
        )
    lines += ["", _source("udp", "python benchmarks/bench_udp.py --save")]
    return "\n".join(lines) + "\n"


def preprocessing_summary() -> str:
    """bench_preprocessing.py and bench_uci_har_load.py: the filter bank, and UCI HAR loading."""
    f, load = _figures("preprocessing"), _figures("uci_har_load")
    if f is None or load is None:
        return _missing("preprocessing", "run_suite.py")
    lines = ["| samples per call | filters: samples/s | filters and windows: samples/s |",
             "| --- | --- | --- |"]  # fmt: skip
    for chunk, key in (("1", "one_sample"), ("1,000", "chunk1000"), ("10,000", "chunk10000")):
        lines.append(
            f"| {chunk} | {f[f'filter_{key}_samples_per_s']:,} "
            f"| {f[f'filter_and_windows_{key}_samples_per_s']:,} |"
        )
    lines += [
        "",
        _source("preprocessing", "python benchmarks/bench_preprocessing.py --save")
        + f". UCI HAR ({load['windows']:,} windows, {load['text_mb']} MB of text): "
        f"{load['parse_s']:.2f} s parsed, {load['cached_s']:.2f} s from the window cache "
        + _source("uci_har_load", "python benchmarks/bench_uci_har_load.py --save")
        + ".",
    ]
    return "\n".join(lines) + "\n"


def inference_table() -> str:
    """harlite bench on the shipped lstm (bench_inference.py): batch 1, one thread."""
    f = _figures("inference_lstm")
    if f is None:
        return _missing("inference_lstm", "bench_inference.py")
    lines = ["| artefact | backend | batch-1 p50 ms | GMAC/s | peak RSS MiB |",
             "| --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in f["rows"]:
        if r["threads"] == 1 and r["batch"] == 1:
            lines.append(
                f"| {r['artifact']} | {r['backend']} | {r['p50_ms']:.3f} "
                f"| {r['gmacs_per_s']:.2f} | {r['peak_rss_mib']:.0f} |"
            )
    peak = f["peak"]["1"]
    lines += [
        "",
        f"numpy's BLAS peak on a {peak['matmul_size']}² float32 matmul, one core: "
        f"{peak['peak_gmacs']:.1f} GMAC/s. Report and chart: `benchmarks/results/inference_lstm/`. "
        + _source("inference_lstm", "python benchmarks/bench_inference.py --save"),
    ]
    return "\n".join(lines) + "\n"


def training_summary() -> str:
    """bench_training.py and bench_determinism.py: epoch times, and what a seed decides."""
    t, d = _figures("training_lstm"), _figures("determinism")
    if t is None or d is None:
        return _missing("training_lstm", "bench_training.py")
    looped, unrolled = t["looped"], t["unrolled"]
    accuracies = [r["val_accuracy"] for r in d["runs"]]
    return (
        f"`{t['preset']}`, 300 epochs: {looped['time_for_300_epochs_s']:.0f} s looped "
        f"({looped['median_epoch_s']:.2f} s per epoch), {unrolled['time_for_300_epochs_s']:.0f} s"
        f" unrolled ({unrolled['median_epoch_s']:.2f} s per epoch after a "
        f"{unrolled['first_epoch_s']:.0f} s first epoch); {t['target']:.0%} validation accuracy "
        f"first at epoch {t['epochs_to_target']} "
        + _source("training_lstm", "python benchmarks/bench_training.py --save")
        + f". {d['epochs']}-epoch runs, seeds × thread counts: validation accuracy "
        f"{min(accuracies):.2%} to {max(accuracies):.2%} (a {d['accuracy_spread_points']:.1f}-"
        "point spread) "
        + _source("determinism", "python benchmarks/bench_determinism.py --save")
        + ".\n"
    )


def finetune_table() -> str:
    """bench_finetune.py: fine-tuned against from scratch, per minutes of data per class."""
    f = _figures("finetune")
    if f is None:
        return _missing("finetune", "bench_finetune.py")
    lines = ["| at most, per class | method | accuracy (fold range) | macro F1 (fold range) |",
             "| --- | --- | --- | --- |"]  # fmt: skip
    for r in f["summary"]:
        budget = "all" if r["budget"] is None else f"{r['budget']:g} min"
        lines.append(
            f"| {budget} | {r['method']} | {r['accuracy_mean']:.1%} "
            f"({r['accuracy_min']:.1%}–{r['accuracy_max']:.1%}) | {r['macro_f1_mean']:.1%} "
            f"({r['macro_f1_min']:.1%}–{r['macro_f1_max']:.1%}) |"
        )
    lines += ["", _source("finetune", "python benchmarks/bench_finetune.py --save")]
    return "\n".join(lines) + "\n"


def headline() -> str:
    """The README's few figures, each from its results file (docs/figures.md has them all)."""
    speed, stream, acc = _figures("speed"), _figures("stream"), _figures("stream_accuracy")
    serve = _figures("serve")
    cv = _load(CROSSVALS[DEFAULT_MODEL]) if DEFAULT_MODEL in CROSSVALS else None
    if None in (speed, stream, acc, serve, cv):
        return "(results missing: see benchmarks/README.md)\n"
    people = ", ".join(
        f"{placement} {f['accuracy']['mean']:.1%} (worst person {f['accuracy']['worst']:.1%})"
        for placement, f in cv["float32"].items()
    )
    streamed, offline = acc["float32"]["stream 50 Hz"], acc["float32"]["offline"]
    realtime = stream["file"]["float32"]["realtime_factor_wall"]
    fast = speed["stream"]["harlite_fastest"]["ratio_per_sample"]
    p95, load = serve["latency"]["latency_ms_p95"], serve["load"]
    bullets = [
        f"Held-out people, default `lstm` as the device answers (cross-validated): {people}.",
        f"Streamed = offline: the validation recordings streamed as CSV score "
        f"{streamed['accuracy']:.2%}, offline {offline['accuracy']:.2%} (float32).",
        f"`harlite stream` on a file: {realtime:,}× real time end to end; `--backend auto` "
        f"uses {fast:.2f}× the CPU per sample of the script a data scientist would write.",
        f"`harlite serve`: push-to-page p95 {p95:.1f} ms; {load['phones']} phones at "
        f"{load['rate_hz']} Hz, {load['samples_lost']} samples lost.",
    ]
    return "".join(f"- {b}\n" for b in bullets)


#: The rooms of the picture in docs/architecture.md: a module's room is the first rule its
#: dotted name starts with (the runtime's top modules split into its base and its top).
ROOMS = (
    ("harlite.runtime.signal", "runtime/signal"),
    ("harlite.runtime.io", "runtime/io"),
    ("harlite.runtime.model", "runtime/model"),
    ("harlite.runtime.spec", "runtime: spec, rows"),
    ("harlite.runtime.rows", "runtime: spec, rows"),
    ("harlite.runtime", "runtime: stream, run, activity, doctor"),
    *((f"harlite.{m}", "shared") for m in ("atomic", "errors", "outputs", "folders", "quiet")),
    *((f"harlite.{m}", m) for m in ("batch", "serve", "train", "convert", "bench", "report")),
    *((f"harlite.{m}", m) for m in ("evaluate", "pipeline", "cli", "shipped")),
)


def _room(module: str) -> str | None:
    return next((r for prefix, r in ROOMS if (module + ".").startswith(prefix + ".")), None)


def _imports(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, at any depth, type-only imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            module = ".".join(filter(None, [*base, node.module])) if node.level else node.module
            found |= {module, *(f"{module}.{alias.name}" for alias in node.names)}
    return found


def room_graph() -> dict[str, set[str]]:
    """Which room imports which, from the source of harlite/."""
    edges: dict[str, set[str]] = {}
    for path in sorted((REPO / "harlite").rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if path.name == "__init__.py" else ".".join(parts[:-1])
        source = _room(module)
        targets = {_room(m) for m in _imports(path, package) if m.startswith("harlite.")}
        edges.setdefault(source, set()).update(targets - {source, None})
    edges.pop(None, None)
    return edges


def _reach(edges: dict[str, set[str]], start: str) -> set[str]:
    """Every room ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return seen


def rooms_picture(edges: dict[str, set[str]] | None = None) -> str:
    """The rooms and their imports (``edges``, else harlite's) as a Mermaid diagram: rooms that
    import each other (a cycle) drawn as one box, an import left out where a longer way
    implies it."""
    edges = room_graph() if edges is None else edges
    rooms = sorted(set(edges).union(*edges.values()))
    reach = {room: _reach(edges, room) for room in rooms}
    box = {r: " ⇄ ".join(o for o in rooms if o == r or (o in reach[r] and r in reach[o]))
           for r in rooms}  # fmt: skip
    boxes = sorted(set(box.values()))
    below = {b: {box[t] for r in rooms if box[r] == b for t in reach[r]} - {b} for b in boxes}
    lines = ["```mermaid", "flowchart TD"]
    lines += [f'    b{i}["{b}"]' for i, b in enumerate(boxes)]
    for i, b in enumerate(boxes):
        implied = set().union(*(below[c] for c in below[b]))
        lines += [f"    b{i} --> b{boxes.index(c)}" for c in sorted(below[b] - implied)]
    lines.append("```")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "crossval": crossval_table,
    "crossval-shipped": crossval_shipped,
    "crossval-unlike": crossval_unlike,
    "crossval-recipes": crossval_recipes,
    "mcu": mcu_table,
    "c-speed": c_speed_table,
    "speed": speed_table,
    "stream": stream_summary,
    "stream-accuracy": stream_accuracy_table,
    "serve": serve_summary,
    "batch": batch_summary,
    "udp": udp_table,
    "preprocessing": preprocessing_summary,
    "inference": inference_table,
    "training": training_summary,
    "finetune": finetune_table,
    "headline": headline,
    "rooms": rooms_picture,
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


def typed_figures(text: str) -> list[str]:
    """Measured-looking figures typed in ``text`` outside generated blocks and code fences."""
    prose = _NOT_PROSE.sub("", text)
    return [m.group(0) for m in _TYPED.finditer(prose) if m.group(0) not in RULES]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which blocks are stale")
    args = parser.parse_args()
    stale, typed = [], []
    for document in DOCUMENTS:
        path = REPO / document
        text = path.read_text()
        new = render(text, document)
        if new != text:
            stale.append(document)
            if not args.check:
                path.write_text(new)
        records = document.startswith("benchmarks/results/")  # a run's own notes
        found = [] if document in PENDING or records else typed_figures(new)
        typed += [f"{document}: {', '.join(found)}"] if found else []
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run python tools/figures.py)", file=sys.stderr)
    if typed:
        print("typed figures (show them through a figures block):", file=sys.stderr)
        print("\n".join(typed), file=sys.stderr)
    return 1 if (args.check and stale) or typed else 0


if __name__ == "__main__":
    sys.exit(main())
