"""`harlite export c`: the generated C library gives `harlite stream`'s windows and labels.

The C stream core is checked window for window against the Python runtime (StreamClassifier,
what `harlite stream` runs): the same window boundaries, the same placement, and for float32
weights the probabilities of the ONNX backend (the Keras model's computation) to 1e-4 and the
same label for every window. The default TFLite backend's fused LSTM kernel differs from the
Keras model by up to 0.15 on some windows (the manifest's max_abs_diff), so against it a
stacked LSTM agrees on at least 99% of the labels; the CNN on all of them.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harlite.errors import HarliteError

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
#: |Δp| allowed against the ONNX backend (float32 weights; outputs are rounded to 5 decimals).
FLOAT_TOLERANCE = 1e-4
#: int8 weights: |Δp| and share of labels allowed against the float32 stream.
INT8_TOLERANCE, INT8_AGREEMENT = 0.5, 0.97

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) here")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Build the export of (preset, weights) once per module."""
    pytest.importorskip("tensorflow")
    from harlite.convert.export_c import export_c

    built: dict[tuple[str, str], Path] = {}

    def build(preset: str, weights: str = "float32") -> Path:
        if (preset, weights) not in built:
            out = tmp_path_factory.mktemp(f"{preset}_{weights}")
            export_c(REPO / "harlite" / "models" / preset, out, weights)
            subprocess.run(["make", "-s", "-C", str(out)], check=True, capture_output=True)
            built[preset, weights] = out / "harlite_stream"
        return built[preset, weights]

    return build


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    path.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return path


def python_windows(preset: str, csv: Path, **settings) -> list[dict]:
    from harlite.runtime.stream import StreamClassifier

    rows = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7))
    classifier = StreamClassifier(REPO / "harlite" / "models" / preset, **settings)
    predictions = classifier.push(rows) + classifier.flush()
    return [p.to_dict(classifier.labels) for p in predictions]


def c_windows(program: Path, csv: Path, *args: str) -> list[dict]:
    with csv.open("rb") as handle:
        done = subprocess.run([program, *args], stdin=handle, capture_output=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def agreement(python: list[dict], c: list[dict]) -> tuple[float, float]:
    """Share of equal labels and largest |Δp|; boundaries and placements must be equal."""
    assert len(c) == len(python) > 0
    for a, b in zip(python, c, strict=True):
        assert abs(a["start_time"] - b["start_time"]) < 2e-6, (a, b)
        assert abs(a["end_time"] - b["end_time"]) < 2e-6, (a, b)
        assert a.get("placement") == b.get("placement"), (a, b)
    labels = np.mean([a["label"] == b["label"] for a, b in zip(python, c, strict=True)])
    diff = max(
        abs(a["probabilities"][k] - b["probabilities"][k])
        for a, b in zip(python, c, strict=True)
        for k in a["probabilities"]
    )
    return float(labels), diff


def assert_equal_to_stream(preset: str, program: Path, csv: Path) -> None:
    pytest.importorskip("onnxruntime")
    labels, diff = agreement(
        python_windows(preset, csv, backend="onnxruntime"), c_windows(program, csv)
    )
    assert labels == 1.0 and diff <= FLOAT_TOLERANCE, (labels, diff)


@needs_cc
@pytest.mark.parametrize("preset", ["lstm", "cnn", "resbilstm"])
def test_float32_export_gives_the_stream_windows(exports, demo_csv, preset):
    assert_equal_to_stream(preset, exports(preset), demo_csv)


@needs_cc
def test_lstm_against_the_default_tflite_backend(exports, demo_csv):
    labels, _ = agreement(python_windows("lstm", demo_csv), c_windows(exports("lstm"), demo_csv))
    assert labels >= 0.99


@needs_cc
def test_int8_weights_stay_near_float32(exports, demo_csv):
    pytest.importorskip("onnxruntime")
    python = python_windows("lstm", demo_csv, backend="onnxruntime")
    labels, diff = agreement(python, c_windows(exports("lstm", "int8"), demo_csv))
    assert labels >= INT8_AGREEMENT and diff <= INT8_TOLERANCE, (labels, diff)


def cut_recording(source: Path, out: Path, rows: int = 6000) -> Path:
    """A real recording with a 2 s pause, a clock that restarts 60 s earlier (a resync) and
    one timestamp glitch ahead (refused)."""
    lines = source.read_text().splitlines()
    kept = [lines[0]]
    for i, line in enumerate(lines[1 : rows + 1]):
        fields = line.split(",")
        t = float(fields[0])
        if 1500 <= i < 1600:
            continue
        if i >= 3000:
            t -= 60.0
        if i == 4500:
            t += 5.0
        kept.append(",".join([f"{t:.6f}", *fields[1:]]))
    out.write_text("\n".join(kept) + "\n")
    return out


@needs_cc
def test_gap_resync_and_glitch(exports, demo_csv, tmp_path):
    csv = cut_recording(demo_csv, tmp_path / "cut.csv")
    with csv.open("rb") as handle:
        done = subprocess.run([exports("lstm")], stdin=handle, capture_output=True, check=True)
    assert "1 gaps, 1 resyncs" in done.stderr.decode()
    assert "1 refused (timestamps)" in done.stderr.decode()
    assert_equal_to_stream("lstm", exports("lstm"), csv)


@needs_cc
def test_placement_hint_and_smoothing_options(exports, demo_csv):
    python = python_windows("lstm", demo_csv, backend="onnxruntime", placement="pocket",
                            smoothing="vote:3")  # fmt: skip
    c = c_windows(exports("lstm"), demo_csv, "--placement", "pocket", "--smooth", "vote:3")
    assert agreement(python, c)[0] == 1.0
    assert [a["smoothed_label"] for a in python] == [b["smoothed_label"] for b in c]


@needs_cc
def test_bad_rows_are_reported_not_fatal(exports, tmp_path):
    csv = tmp_path / "bad.csv"
    rows = [f"{i / 50:.2f},0,0,1,0,0,0" for i in range(300)]
    rows[10] = "0.2,abc,0,1,0,0,0"
    rows[20] = "0.4,99,0,1,0,0,0"  # 99 g: implausible
    csv.write_text("t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z\n" + "\n".join(rows) + "\n")
    with csv.open("rb") as handle:
        done = subprocess.run([exports("lstm")], stdin=handle, capture_output=True, check=True)
    err = done.stderr.decode()
    assert "line 12: not a row of numbers" in err and "1 refused (values)" in err
    assert len(done.stdout.splitlines()) == 3


@pytest.mark.shared_data
@needs_cc
def test_real_recordings_other_rates(exports, shared_difronzo, shared_hapt, tmp_path):
    """A pocket recording at 45–47 Hz (resampled) and a whole HAPT experiment at 50 Hz."""
    from harlite.train.hapt import list_experiments, read_experiment, require_raw_dir
    from harlite.train.hapt_export import write_stream_csv

    experiment = list_experiments(require_raw_dir(shared_hapt))[0]
    hapt = tmp_path / "hapt.csv"
    write_stream_csv(hapt, read_experiment(experiment))
    for csv in (shared_difronzo / "exp01_user01.csv", hapt):
        assert_equal_to_stream("lstm", exports("lstm"), csv)


def test_missing_tensorflow_is_a_clear_error(monkeypatch):
    from harlite.convert import export_c
    from harlite.runtime.model.bundle import Bundle

    monkeypatch.setitem(sys.modules, "harlite.train.models", None)
    with pytest.raises(HarliteError, match=r"pip install 'harlite\[train\]'"):
        export_c._keras_model(Bundle.open(REPO / "harlite" / "models" / "lstm"))


def test_numbers_are_exact_hexadecimal_literals():
    from harlite.convert.c_emit import c_number

    for value in (0.1, -1e-300, 2.0, 0.0, float(np.float32(5.101214))):
        assert float.fromhex(c_number(value)) == value


@needs_cc
def test_check_ports_script(tmp_path, demo_csv):
    """tools/check-ports.sh: one line per port, the host C and JVM ports equal on every
    window (the jvm line needs a JDK: test_export_android.py's skip says so)."""
    pytest.importorskip("tensorflow")
    short = tmp_path / "short.csv"
    short.write_text("\n".join(demo_csv.read_text().splitlines()[:1500]) + "\n")
    # the script runs `harlite` and `python`: this interpreter's, activated or not
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [REPO / "tools" / "check-ports.sh", "lstm", short], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "host-c: 22/22 windows with harlite stream's label" in done.stdout
    assert "jvm:" in done.stdout and "web:" in done.stdout
    if shutil.which("clang") and shutil.which("chromedriver"):
        assert "web: 22/22 windows with harlite stream's label" in done.stdout
    if shutil.which("javac"):  # checked after the run: the script installs a JDK as root
        assert "jvm: 22/22 windows with harlite stream's label" in done.stdout
    assert "cortex-m:" in done.stdout


#: The LSTM's sigmoid and tanh (harlite_ops.c, float-only): largest |error| stated there.
ACTIVATION_ERROR = 2e-7

ACTIVATIONS_PROGRAM = r"""
#include <math.h>
#include <stdio.h>
#include "harlite_ops.h"
int main(void) {
    double worst_sigmoid = 0, worst_tanh = 0;
    for (double x = -60; x <= 60; x += 1e-3) {
        const float f = (float)x;
        const double s = fabs(hl_sigmoid(f) - 1.0 / (1.0 + exp(-(double)f)));
        const double t = fabs(hl_tanh(f) - tanh((double)f));
        if (s > worst_sigmoid) worst_sigmoid = s;
        if (t > worst_tanh) worst_tanh = t;
    }
    printf("%.3g %.3g %g %g %g %g\n", worst_sigmoid, worst_tanh, hl_sigmoid(-1e30f),
           hl_sigmoid(1e30f), hl_tanh(-1e30f), hl_tanh(1e30f));
    return 0;
}
"""


@needs_cc
@pytest.mark.parametrize("flags", [["-O2"], ["-O3", "-march=native", "-ffast-math"]])
def test_activations_are_within_the_stated_error(exports, tmp_path, flags):
    """The float-only sigmoid and tanh, without libm, also under -ffast-math (which must not
    undo the rounding they rely on); saturated far out."""
    folder = exports("lstm").parent
    source = tmp_path / "activations.c"
    source.write_text(ACTIVATIONS_PROGRAM)
    program = tmp_path / "activations"
    subprocess.run(["cc", "-std=c99", *flags, "-I", folder, source, folder / "harlite_ops.c",
                    "-o", program, "-lm"], check=True)  # fmt: skip
    values = [float(v) for v in subprocess.run([program], capture_output=True, text=True,
                                               check=True).stdout.split()]  # fmt: skip
    assert values[0] <= ACTIVATION_ERROR and values[1] <= ACTIVATION_ERROR, values
    assert values[2] < 1e-37 and values[3:] == [1.0, -1.0, 1.0]


@needs_cc
def test_sums_grouped_as_on_a_cortex_m_give_the_same_bytes(exports, demo_csv, tmp_path):
    """HL_SUB (the sums computed at once: 8 on a 32-bit Arm core, a whole block elsewhere)
    does not change a result: each output's sum is the same sequence of operations. Both
    built alike with ISO C's multiply-adds (-ffp-contract=off): with -ffp-contract=fast the
    compiler may fuse some multiply-adds of one grouping and not the other's, which moves a
    last bit (measured: one probability's fifth decimal on the demo)."""
    folder = exports("lstm").parent
    sources = [folder / f for f in ("harlite_stream.c", "harlite.c", "harlite_ops.c",
                                    "harlite_model.c")]  # fmt: skip
    flags = ["-std=c99", "-O3", "-march=native", "-fno-trapping-math", "-ffp-contract=off"]
    outputs = []
    for sub in ("-DHL_SUB=8", "-DHL_SUB=32"):
        program = tmp_path / f"grouped{sub[-2:]}"
        subprocess.run(["cc", *flags, sub, *sources, "-o", program, "-lm"], check=True)
        with demo_csv.open("rb") as handle:
            outputs.append(subprocess.run([program], stdin=handle, capture_output=True).stdout)
    assert len(outputs[0].splitlines()) > 100 and outputs[0] == outputs[1]


def test_weights_are_packed_by_blocks_of_outputs():
    """A kernel (inputs, outputs) as harlite_ops.h reads it: per block of BLOCK outputs, each
    input's BLOCK weights side by side, the last block zero padded."""
    from harlite.convert.c_emit import BLOCK, pack

    w = np.arange(1, 3 * (BLOCK + 2) + 1, dtype=np.float32).reshape(3, BLOCK + 2)
    packed = pack(w).reshape(2, 3, BLOCK)
    assert np.array_equal(packed[0], w[:, :BLOCK])
    assert np.array_equal(packed[1, :, :2], w[:, BLOCK:])
    assert not packed[1, :, 2:].any()
    taps = np.stack([w, 2 * w])
    assert np.array_equal(pack(taps).reshape(2, -1), np.stack([pack(w), pack(2 * w)]))


@needs_cc
def test_float_filters_option_stays_within_the_tolerance(exports, demo_csv, tmp_path):
    """-DHARLITE_FLOAT_FILTERS=1 (median and noise filter in float, for an FPU without
    double; the gravity filter stays double) keeps every label and |Δp| <= 1e-4 (all in float,
    the gravity filter's 0.3 Hz poles moved probabilities by 2.2e-4)."""
    folder = exports("lstm").parent
    program = tmp_path / "float_filters"
    sources = [folder / f for f in ("harlite_stream.c", "harlite.c", "harlite_ops.c",
                                    "harlite_model.c")]  # fmt: skip
    subprocess.run(["cc", "-std=c99", "-O2", "-DHARLITE_FLOAT_FILTERS=1", *sources, "-o",
                    program, "-lm"], check=True)  # fmt: skip
    assert_equal_to_stream("lstm", program, demo_csv)


def test_the_c_placement_rule_has_the_runtime_s_numbers():
    """harlite.c restates placement.py's constants (C has no import): they must agree."""
    import re

    from harlite.runtime.signal import placement

    source = (REPO / "harlite" / "convert" / "c" / "harlite.c").read_text()
    defined = dict(re.findall(r"^#define (\w+) ([0-9.e+-]+)\b", source, re.MULTILINE))
    for name in (
        "STRETCH_WINDOWS",
        "AXIS_TOLERANCE_DEG",
        "THIGH_UPRIGHT_DEG",
        "TORSO_LYING_DEG",
        "POCKET_SWING_RAD_S",
    ):
        assert float(defined[name]) == getattr(placement, name), name
