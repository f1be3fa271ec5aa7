"""Inference: every artefact of a bundle (TFLite on each backend, Keras, the frozen .pb),
as `harlite bench` measures them, recorded with a Markdown report and chart.

Target (issue: benchmarks): batch-1 p50 of float32 and of the fastest int8-weight artefact
each ≤ 1/5 of Keras predict_on_batch.

    python benchmarks/bench_inference.py [--bundle DIR|NAME] [--threads 1,2] [--save]

``--save`` writes results/inference_NAME.json and the report to results/inference_NAME/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, save

from harlite.bench import benchmark_bundle
from harlite.bench.report import format_table, summary_lines, write_report
from harlite.shipped import resolve_bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default="lstm", help="bundle folder or shipped model name")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--invokes", type=int, default=1000)
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()

    bundle = resolve_bundle(args.bundle)
    threads = [int(t) for t in args.threads.split(",")]
    result = benchmark_bundle(
        bundle, threads=threads, invokes=args.invokes, log=lambda t: print(t, file=sys.stderr)
    )
    print(format_table(result))
    lines = summary_lines(result)
    print("\n".join(lines))

    best = result.best_rows()
    keras = best.get("keras")
    int8_weights = [best[n] for n in ("int8", "dynamic") if n in best]
    if keras and "float32" in best and int8_weights:
        fastest_int8 = min(int8_weights, key=lambda r: r.p50_ms)
        for row in (best["float32"], fastest_int8):
            share = row.p50_ms / keras.p50_ms
            verdict = "meets" if share <= 0.2 else "MISSES"
            print(f"{row.artifact}: p50 {share:.3f} of Keras predict_on_batch ({verdict} ≤ 1/5)")
    if args.save:
        name = f"inference_{bundle.name}"
        write_report(result, RESULTS / name)
        print(f"saved {save(name, {'summary': lines, **result.to_dict()})}")


if __name__ == "__main__":
    main()
