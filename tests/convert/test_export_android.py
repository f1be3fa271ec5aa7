"""`harlite export android`: the Java class through JNI gives `harlite stream`'s windows.

The exported module's C sources are built for this host as a JNI library (with cc, and with
its own CMakeLists.txt where CMake is installed), its Java classes compiled with javac
(`--release 8`, as an app compiles them), and `tools/jvm/HarliteReplay.java` feeds recordings
to `org.harlite.Harlite` as Android sensor events (m/s², rad/s, ns). Its windows are compared
with the Python runtime's (what `harlite stream` runs) window by window: boundaries, placement,
labels, and the probabilities of the ONNX backend (the Keras model's computation). The two
sensors at their own instants are compared with the runtime's reading of the same events as
a Sensor Logger export (:mod:`harlite.runtime.phone_align`: the gyroscope interpolated at the
accelerometer's instants). Skipped without a JDK (CI installs one: .ci/run).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.convert.test_export_c import agreement, python_windows

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
REPLAY = REPO / "tools" / "jvm" / "HarliteReplay.java"
#: |Δp| against the ONNX backend: the Java path gets float32 m/s² (a SensorEvent's values).
TOLERANCE = 1e-4
G = 9.80665
#: The same samples: equal probabilities, up to one step of the outputs' 5 decimals.
ROUNDING = 1.5e-5
ACCELEROMETER, GYROSCOPE = 1, 4  # android.hardware.Sensor.TYPE_*


def java_home() -> Path | None:
    """The JDK of the javac on PATH (None without one, or without its JNI headers)."""
    javac = shutil.which("javac")
    if javac is None or shutil.which("java") is None:
        return None
    home = Path(os.path.realpath(javac)).parents[1]
    return home if (home / "include" / "jni.h").is_file() else None


JDK = java_home()
needs_jdk = pytest.mark.skipif(
    JDK is None or shutil.which("cc") is None,
    reason="no JDK (javac, java, jni.h) or no cc here (apt-get install default-jdk-headless)",
)
pytestmark = needs_jdk


def build_jni(sources: Path, out: Path) -> Path:
    """The module's C sources as a host JNI library (what the NDK builds for a phone)."""
    cpp = sources / "src" / "main" / "cpp"
    include = JDK / "include"
    subprocess.run(
        ["cc", "-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror",
         f"-I{include}", f"-I{include / 'linux'}", "-o", str(out / "libharlite_jni.so"),
         *sorted(str(p) for p in cpp.glob("*.c")), "-lm"],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def android(tmp_path_factory) -> dict[str, Path]:
    """`harlite export android lstm` (the CLI), built: the module, its library, its classes."""
    pytest.importorskip("tensorflow")
    from click.testing import CliRunner

    from harlite.cli import cli

    root = tmp_path_factory.mktemp("android")
    module = root / "harlite-android"
    done = CliRunner().invoke(cli, ["export", "android", "lstm", "--out", str(module)])
    assert done.exit_code == 0, done.output
    classes = root / "classes"
    java = sorted((module / "src" / "main" / "java").rglob("*.java"))
    subprocess.run(
        ["javac", "--release", "8", "-Xlint:all,-options", "-Werror", "-d", str(classes),
         *map(str, java), str(REPLAY)],
        check=True, capture_output=True,
    )  # fmt: skip
    return {"module": module, "lib": build_jni(module, root), "classes": classes}


def run_java(android: dict[str, Path], main: str, stdin: Path | None, *args: str):
    command = ["java", f"-Djava.library.path={android['lib']}", "-cp", str(android["classes"])]
    with stdin.open("rb") if stdin else open(os.devnull, "rb") as handle:
        return subprocess.run(
            [*command, main, *args], stdin=handle, capture_output=True, check=True, timeout=120
        )


def jvm_windows(android: dict[str, Path], recording: Path, *args: str) -> list[dict]:
    done = run_java(android, "HarliteReplay", recording, *args)
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    path.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return path


def assert_equal_to_stream(android, csv: Path, *args: str, **settings) -> int:
    pytest.importorskip("onnxruntime")
    python = python_windows("lstm", csv, backend="onnxruntime", **settings)
    labels, diff = agreement(python, jvm_windows(android, csv, *args))
    assert labels == 1.0 and diff <= TOLERANCE, (labels, diff)
    return len(python)


def test_the_demo_recording_gives_the_stream_windows(android, demo_csv):
    assert assert_equal_to_stream(android, demo_csv) > 100


def test_placement_and_smoothing_settings(android, demo_csv):
    python = python_windows("lstm", demo_csv, backend="onnxruntime", placement="pocket",
                            smoothing="vote:3")  # fmt: skip
    jvm = jvm_windows(android, demo_csv, "--placement", "pocket", "--smooth", "vote:3")
    assert agreement(python, jvm)[0] == 1.0
    assert [a["smoothed_label"] for a in python] == [b["smoothed_label"] for b in jvm]


@pytest.mark.shared_data
def test_real_recordings_give_the_stream_windows(android, shared_difronzo, shared_hapt, tmp_path):
    """A pocket recording at 45–47 Hz and a whole HAPT experiment at 50 Hz."""
    from harlite.train.hapt import list_experiments, read_experiment, require_raw_dir
    from harlite.train.hapt_export import write_stream_csv

    hapt = tmp_path / "hapt.csv"
    write_stream_csv(hapt, read_experiment(list_experiments(require_raw_dir(shared_hapt))[0]))
    windows = [
        assert_equal_to_stream(android, csv) for csv in (shared_difronzo / "exp01_user01.csv", hapt)
    ]
    assert min(windows) > 100


def sensor_events(csv: Path, gyro_lag_ns: int, gyro_from: int, gyro_to: int):
    """A recording as two sensors at their own instants (boot-clock ns, float32 values as a
    SensorEvent has them): the accelerometer at the rows' times, the gyroscope ``gyro_lag_ns``
    later and only for rows ``gyro_from:gyro_to``."""
    rows = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7))
    ns = 3_600_000_000_000 + np.round(rows[:, 0] * 1e9).astype(np.int64)
    acc = (rows[:, 1:4] * G).astype(np.float32)
    gyro = rows[gyro_from:gyro_to, 4:7].astype(np.float32)
    return (ns, acc), (ns[gyro_from:gyro_to] + gyro_lag_ns, gyro)


def write_sensor_logger(folder: Path, acc, gyro) -> Path:
    """The events as an Android Sensor Logger export (what the runtime reads them from)."""
    folder.mkdir()
    for name, (ns, values) in (("TotalAcceleration.csv", acc), ("Gyroscope.csv", gyro)):
        lines = ["time,seconds_elapsed,z,y,x"]
        lines += [
            f"{t},0,{float(v[2])!r},{float(v[1])!r},{float(v[0])!r}"
            for t, v in zip(ns, values, strict=True)
        ]
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


def write_events(path: Path, acc, gyro, gyro_ahead_s: float = 0.0) -> Path:
    """The events as they reach onSensorChanged: in time order, or with the gyroscope's
    delivered ``gyro_ahead_s`` early (a sensor hub's batches)."""
    events = [(int(t), ACCELEROMETER, v, t) for t, v in zip(*acc, strict=True)]
    early = int(gyro_ahead_s * 1e9)
    events += [(int(t), GYROSCOPE, v, t - early) for t, v in zip(*gyro, strict=True)]
    events.sort(key=lambda e: (e[3], e[1]))
    lines = ["sensor,timestamp_ns,x,y,z"]
    lines += [f"{s},{t},{float(v[0])!r},{float(v[1])!r},{float(v[2])!r}" for t, s, v, _ in events]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("gyro_ahead_s", [0.0, 1.5])
def test_two_sensors_at_their_own_instants(android, demo_csv, tmp_path, gyro_ahead_s):
    """The gyroscope 7 ms after the accelerometer, starting 0.4 s later and ending 1 s
    earlier: the accelerometer samples outside its span by more than 50 ms are refused, those
    within take its first or last sample, the rest its interpolated values; as the runtime
    reads the same events from a Sensor Logger export; also when the gyroscope's events come
    1.5 s before the accelerometer's of the same time."""
    pytest.importorskip("onnxruntime")
    from harlite.runtime.io.app_exports import SensorLoggerSource
    from harlite.runtime.stream import StreamClassifier

    acc, gyro = sensor_events(demo_csv, 7_000_000, 20, -50)
    source = SensorLoggerSource(write_sensor_logger(tmp_path / "export", acc, gyro))
    classifier = StreamClassifier(REPO / "harlite" / "models" / "lstm", backend="onnxruntime")
    predictions, refused = [], 0
    for parsed in source:
        predictions += classifier.push(parsed.rows)
        refused += len(parsed.bad)
    python = [p.to_dict(classifier.labels) for p in predictions + classifier.flush()]
    events = write_events(tmp_path / "events.csv", acc, gyro, gyro_ahead_s)
    done = run_java(android, "HarliteReplay", events)
    jvm = [json.loads(line) for line in done.stdout.splitlines()]
    labels, diff = agreement(python, jvm)
    assert labels == 1.0 and diff <= ROUNDING, (labels, diff)
    assert refused > 0 and f"unpaired={refused}," in done.stderr.decode()


SINGLE_STREAM = REPO / "tests" / "fixtures" / "jvm" / "SingleStream.java"


def test_one_stream_per_process(android, tmp_path):
    classes = android["classes"]
    subprocess.run(
        ["javac", "-cp", str(classes), "-d", str(classes), str(SINGLE_STREAM)], check=True
    )
    out = run_java(android, "SingleStream", None).stdout.decode()
    assert "second refused: another Harlite is open" in out
    assert "closed: this Harlite is closed" in out
    assert "bad settings: smoothSize must be 1..16" in out
    assert "reopened [WALKING," in out and "LAYING] 0" in out
    assert "no values: sensor type 4: 3 values (x, y, z) expected, got null" in out


@pytest.mark.skipif(shutil.which("cmake") is None, reason="no cmake here")
def test_the_modules_cmake_file_builds_the_library(android, demo_csv, tmp_path):
    """The module's CMakeLists.txt (what Gradle runs through the NDK), built for the host."""
    build = tmp_path / "build"
    env = {**os.environ, "JAVA_HOME": str(JDK)}
    cpp = android["module"] / "src" / "main" / "cpp"
    for command in (
        ["cmake", "-S", str(cpp), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release"],
        ["cmake", "--build", str(build)],
    ):
        subprocess.run(command, check=True, capture_output=True, env=env)
    with_cmake = {**android, "lib": build}
    assert jvm_windows(with_cmake, demo_csv) == jvm_windows(android, demo_csv)


def test_no_gyroscope_refuses_and_counts(android, demo_csv, tmp_path):
    """A phone without a gyroscope: every accelerometer sample is refused (after waiting 5 s
    for one at most), counted, and no window is made up."""
    acc, _ = sensor_events(demo_csv, 0, 0, 0)
    done = run_java(android, "HarliteReplay", write_events(tmp_path / "acc.csv", acc, ([], [])))
    assert done.stdout == b""
    assert f"unpaired={len(acc[0])}," in done.stderr.decode()
    assert "accepted=0," in done.stderr.decode()
