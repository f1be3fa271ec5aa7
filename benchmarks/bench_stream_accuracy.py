"""Accuracy of the streamed validation recordings against offline window accuracy.

Acceptance (issue: runtime): the validation subjects' recordings streamed as CSV reach at
least the offline window accuracy of the same artefact (with and without smoothing), and
the same recordings at 100 Hz in m/s², deg/s and ns timestamps stay within 1 point.

    python benchmarks/bench_stream_accuracy.py --bundle runs/lstm-val-bundle [--save]

The bundle should come from a model trained without the validation subjects (27–30):
`harlite train --data ../shared/data/hapt --out runs/lstm-val --seed 0` then
`harlite convert runs/lstm-val --out runs/lstm-val-bundle --data ../shared/data/hapt`.
Variants streamed: 50 Hz canonical; 100 Hz in phone units; 200 Hz with ±20% timing jitter.
Smoothing is scored two ways: against each window's own label (as emitted, so the delay
counts against it) and against the label of the window it lags by ((K-1)/2 windows).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import save

from harlite.evaluate import evaluate
from harlite.runtime.io.sensorcsv import Units
from harlite.runtime.io.sources import CsvSource, InputOptions
from harlite.runtime.run import run_stream
from harlite.runtime.sinks import CollectingSink
from harlite.runtime.stream import StreamClassifier
from harlite.train.hapt_export import experiments, labelled_recording, write_stream_csv
from tools.simulated_sensor import resampled_recording

SUBJECTS = [27, 28, 29, 30]
SMOOTHING = [None, "mean:3", "mean:5", "vote:5"]
PHONE_UNITS = {"acc_unit": "m/s2", "gyro_unit": "deg/s", "time_unit": "ns"}


def write_variants(data: str, folder: Path) -> dict[str, list[tuple[Path, InputOptions]]]:
    rng = np.random.default_rng(0)
    variants: dict[str, list[tuple[Path, InputOptions]]] = {"50 Hz": [], "100 Hz": [], "200 Hz": []}
    for experiment in experiments(data, SUBJECTS):
        raw, labels = labelled_recording(data, experiment)
        name = f"exp{experiment.experiment:02d}"
        path = folder / f"{name}-50.csv"
        write_stream_csv(path, raw, labels)
        variants["50 Hz"].append((path, InputOptions()))

        up, up_labels = resampled_recording(raw, labels, 100)
        path = folder / f"{name}-100.csv"
        times = 1.76e9 + np.arange(len(up)) / 100
        write_stream_csv(path, up, up_labels, times_s=times, units=Units("m/s2", "deg/s", "ns"))
        variants["100 Hz"].append((path, InputOptions(**PHONE_UNITS)))

        fast, fast_labels = resampled_recording(raw, labels, 200)
        times = np.arange(len(fast)) / 200 + rng.uniform(-0.001, 0.001, len(fast))
        times = np.maximum.accumulate(times)  # jittered but never backwards
        path = folder / f"{name}-200.csv"
        write_stream_csv(path, fast, fast_labels, times_s=times, units=Units("m/s2", "deg/s"))
        variants["200 Hz"].append((path, InputOptions(acc_unit="m/s2", gyro_unit="deg/s")))
    return variants


def stream_accuracy(bundle: Path, artifact: str, files, smoothing: str | None) -> dict:
    correct = aligned = labelled = aligned_total = 0
    for path, options in files:
        classifier = StreamClassifier(bundle, artifact=artifact, smoothing=smoothing)
        sink = CollectingSink()
        run_stream(CsvSource(path, options), classifier, [sink], name=str(path))
        lag = 0 if smoothing is None else (classifier.smoother.size - 1) // 2
        said = [p.smoothed_label if smoothing else p.label for p in sink.predictions]
        for i, p in enumerate(sink.predictions):
            if p.true_label is None:
                continue
            labelled += 1
            correct += said[i] == p.true_label
            if i + lag < len(said):
                aligned_total += 1
                aligned += said[i + lag] == p.true_label
    return {
        "labelled_windows": labelled,
        "accuracy": round(correct / labelled, 5),
        "accuracy_delay_aligned": round(aligned / aligned_total, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=Path("runs/lstm-val-bundle"))
    parser.add_argument("--data", default="../shared/data/hapt")
    parser.add_argument("--artifacts", default="float32,int8")
    parser.add_argument("--save", action="store_true", help="record under benchmarks/results/")
    args = parser.parse_args()

    if not (args.bundle / "manifest.json").is_file():
        sys.exit(
            f"{args.bundle}: no bundle. Make one from a model trained without subjects 27-30 "
            "(see this script's docstring) or pass --bundle."
        )
    figures: dict = {"bundle": str(args.bundle), "subjects": SUBJECTS}
    with tempfile.TemporaryDirectory() as tmp:
        variants = write_variants(args.data, Path(tmp))
        for artifact in args.artifacts.split(","):
            report, _ = evaluate(args.bundle, args.data, subjects=SUBJECTS, artifact=artifact)
            entry = {
                "offline": {
                    "windows": report.n_windows,
                    "accuracy": round(report.accuracy, 5),
                }
            }
            print(f"{artifact:<8} offline windows: {report.accuracy:.2%} of {report.n_windows}")
            for variant, files in variants.items():
                for smoothing in SMOOTHING if variant == "50 Hz" else [None]:
                    result = stream_accuracy(args.bundle, artifact, files, smoothing)
                    key = f"stream {variant}" + (f" {smoothing}" if smoothing else "")
                    entry[key] = result
                    print(f"{artifact:<8} {key:<22} {result['accuracy']:.2%} of "
                          f"{result['labelled_windows']} labelled windows"
                          + (f" (delay-aligned {result['accuracy_delay_aligned']:.2%})"
                             if smoothing else ""))  # fmt: skip
            figures[artifact] = entry
    if args.save:
        print(f"saved {save('stream_accuracy', figures)}")


if __name__ == "__main__":
    main()
