"""Compare benchmark results against the committed baseline: the ratio per figure.

    python benchmarks/compare.py                      # results/*.json vs the same files at HEAD
    python benchmarks/compare.py --ref main~3         # vs another commit
    python benchmarks/compare.py --baseline OLD_DIR   # vs a folder of results
    python benchmarks/compare.py stream inference_lstm   # only these benchmarks

Every numeric figure present in both is listed with new / old; ratios beyond ±10% are
flagged (whether higher is better depends on the figure: times and memory should fall,
rates and accuracies should rise). Run a benchmark with ``--save`` first, then compare
before committing, so a regression is visible in review.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = RESULTS.parents[1]
FLAG = 0.10
#: Figures where lower is better (matched on the last part of the dotted key).
LOWER_IS_BETTER = ("_ms", "_s", "seconds", "mib", "bytes", "wall_s")


def flatten(value, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of nested dicts/lists as {dotted.key: number}."""
    out: dict[str, float] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            label = _row_label(item) or str(i)
            out.update(flatten(item, f"{prefix}[{label}]"))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = float(value)
    return out


def _row_label(item) -> str | None:
    """A stable name for a benchmark row (artifact/backend/threads/batch), not its index."""
    if isinstance(item, dict) and "artifact" in item:
        return "/".join(str(item.get(k)) for k in ("artifact", "backend", "threads", "batch"))
    return None


def baseline_from_git(name: str, ref: str) -> dict | None:
    path = (RESULTS / f"{name}.json").relative_to(REPO)
    shown = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:{path.as_posix()}"],
        capture_output=True,
        text=True,
    )
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def compare(name: str, new: dict, old: dict) -> list[str]:
    new_figures, old_figures = flatten(new.get("figures", new)), flatten(old.get("figures", old))
    lines = []
    for key in sorted(set(new_figures) & set(old_figures)):
        a, b = old_figures[key], new_figures[key]
        if a == 0:
            continue
        ratio = b / a
        flag = ""
        if abs(ratio - 1) > FLAG:
            lower_better = key.lower().endswith(LOWER_IS_BETTER)
            worse = ratio > 1 if lower_better else ratio < 1
            flag = "  <-- worse" if worse else "  (better)"
        lines.append(f"  {key:<70} {a:>14.6g} → {b:>14.6g}   ×{ratio:6.3f}{flag}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark names (default: all results)")
    parser.add_argument("--ref", default="HEAD", help="git revision of the baseline")
    parser.add_argument("--baseline", type=Path, help="a folder of baseline results instead")
    args = parser.parse_args()
    names = args.names or sorted(p.stem for p in RESULTS.glob("*.json"))
    for name in names:
        new_path = RESULTS / f"{name}.json"
        if not new_path.is_file():
            print(f"{name}: no results/{name}.json")
            continue
        new = json.loads(new_path.read_text())
        if args.baseline:
            old_path = args.baseline / f"{name}.json"
            old = json.loads(old_path.read_text()) if old_path.is_file() else None
        else:
            old = baseline_from_git(name, args.ref)
        if old is None:
            print(f"{name}: no baseline")
            continue
        if old == new:
            print(f"{name}: unchanged")
            continue
        print(f"{name}: {old.get('date', '?')} → {new.get('date', '?')}")
        print("\n".join(compare(name, new, old)) or "  no common figures")


if __name__ == "__main__":
    main()
