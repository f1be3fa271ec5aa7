"""The straightforward script a data scientist would write to classify a sensor CSV with a
harlite bundle's TFLite artefact: the baseline that `bench_speed.py` holds `harlite stream`
against.

pandas ``read_csv`` of the whole file, the UCI HAR filters with ``scipy.signal`` (causal
median of 3, Butterworth low-passes, state from the first sample: the bundle's recipe),
``sliding_window_view`` for 128-sample windows at a 64-sample hop, and one LiteRT invoke per
window. It assumes what the file in the benchmark is: a canonical CSV at the model's 50 Hz,
without gaps; it checks nothing.

    python benchmarks/baseline_script.py FILE.csv BUNDLE_DIR [--artifact float32] [--out F]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from ai_edge_litert.interpreter import Interpreter
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal


def preprocess(raw: np.ndarray, noise_sos: np.ndarray, gravity_sos: np.ndarray) -> np.ndarray:
    padded = np.concatenate((raw[:1], raw[:1], raw))
    a, b, c = padded[:-2], padded[1:-1], padded[2:]
    median = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    zi = signal.sosfilt_zi(noise_sos)[:, :, None] * raw[0]
    filtered, _ = signal.sosfilt(noise_sos, median, axis=0, zi=zi)
    total = filtered[:, :3]
    zi = signal.sosfilt_zi(gravity_sos)[:, :, None] * total[0]
    gravity, _ = signal.sosfilt(gravity_sos, total, axis=0, zi=zi)
    return np.concatenate((total - gravity, filtered[:, 3:6], total), axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("bundle")
    parser.add_argument("--artifact", default="float32")
    parser.add_argument("--out", help="write one label per window here")
    args = parser.parse_args()

    with open(f"{args.bundle}/manifest.json") as handle:
        manifest = json.load(handle)
    entry = manifest["artifacts"][args.artifact]
    frame = pd.read_csv(args.csv)
    raw = frame[["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]].to_numpy(np.float64)
    recipe = manifest["preprocessing"]
    channels = preprocess(raw, np.array(recipe["noise_sos"]), np.array(recipe["gravity_sos"]))
    window, hop = manifest["input"]["window"], manifest["input"]["hop"]
    windows = sliding_window_view(channels, window, axis=0)[::hop].transpose(0, 2, 1)

    interpreter = Interpreter(model_path=f"{args.bundle}/{entry['file']}", num_threads=1)
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    target = interpreter.get_output_details()[0]["index"]
    labels = []
    for w in windows:
        interpreter.reset_all_variables()
        interpreter.set_tensor(source, w[None].astype(np.float32))
        interpreter.invoke()
        labels.append(manifest["labels"][int(interpreter.get_tensor(target)[0].argmax())])
    if args.out:
        with open(args.out, "w") as handle:
            handle.write("\n".join(labels) + "\n")
    print(f"{len(labels)} windows")


if __name__ == "__main__":
    main()
