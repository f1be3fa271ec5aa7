"""`harlite export ios`: the C entry point the Swift package calls, with Core Motion's signs.

Swift cannot be built here, so the package's Swift wrapper is not compiled; its C target
(`Sources/HarliteCore`) is, with cc, behind a small driver (tests/fixtures/ios) that feeds
`harlite_push_ios` what CMDeviceMotion reports: userAcceleration and gravity in g with Core
Motion's sign (Android's negated: at rest face up, gravity is (0, 0, -1) g), rotationRate in
rad/s (Android's sign). A real recording turned into that convention gives `harlite stream`'s
windows on the recording as it is, and the runtime's own reading of iOS (a Sensor Logger
export from an iPhone, acceleration negated) agrees.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.convert.test_export_c import agreement, python_windows

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
DRIVER = REPO / "tests" / "fixtures" / "ios" / "ios_motion_stream.c"
G = 9.80665
#: |Δp| against the ONNX backend (user + gravity is the recording's value to a rounding).
TOLERANCE = 1e-4

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (cc) here")


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> dict[str, Path]:
    """`harlite export ios lstm` (the CLI), its C target built with the driver."""
    pytest.importorskip("tensorflow")
    from click.testing import CliRunner

    from harlite.cli import cli

    root = tmp_path_factory.mktemp("ios")
    out = root / "HarlitePackage"
    done = CliRunner().invoke(cli, ["export", "ios", "lstm", "--out", str(out)])
    assert done.exit_code == 0, done.output
    core = out / "Sources" / "HarliteCore"
    program = root / "ios_motion_stream"
    subprocess.run(
        ["cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{core / 'include'}",
         f"-I{core}", "-o", str(program), str(DRIVER), *map(str, sorted(core.glob("*.c"))),
         "-lm"],
        check=True, capture_output=True,
    )  # fmt: skip
    return {"out": out, "program": program}


def device_motion(rows: np.ndarray) -> np.ndarray:
    """Canonical rows (t, acc [g, Android's sign], gyro) as CMDeviceMotion's fields: t, user
    acceleration, gravity (a 1 s moving average, as Core Motion separates it), rotation."""
    total = -rows[:, 1:4]  # Core Motion's sign
    kernel = np.ones(50) / 50
    gravity = np.column_stack([np.convolve(total[:, i], kernel, mode="same") for i in range(3)])
    return np.column_stack([rows[:, 0], total - gravity, gravity, rows[:, 4:7]])


def write_motion(path: Path, motion: np.ndarray) -> Path:
    lines = ["timestamp,user_x,user_y,user_z,gravity_x,gravity_y,gravity_z,rate_x,rate_y,rate_z"]
    lines += [",".join(repr(float(v)) for v in row) for row in motion]
    path.write_text("\n".join(lines) + "\n")
    return path


def ios_windows(package, motion_csv: Path) -> list[dict]:
    with motion_csv.open("rb") as handle:
        done = subprocess.run([package["program"]], stdin=handle, capture_output=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def assert_ios_gives_the_stream(package, csv: Path, tmp_path: Path) -> int:
    pytest.importorskip("onnxruntime")
    rows = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7))
    motion = write_motion(tmp_path / f"{csv.stem}-motion.csv", device_motion(rows))
    python = python_windows("lstm", csv, backend="onnxruntime")
    labels, diff = agreement(python, ios_windows(package, motion))
    assert labels == 1.0 and diff <= TOLERANCE, (labels, diff)
    return len(python)


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.csv"
    path.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return path


def test_core_motion_signs_give_the_stream_windows(package, demo_csv, tmp_path):
    assert assert_ios_gives_the_stream(package, demo_csv, tmp_path) > 100


def test_unturned_signs_would_not(package, demo_csv, tmp_path):
    """The check above can fail: gravity fed upside down (Core Motion's values given as
    Android's, the old docs' recipe) changes the windows."""
    rows = np.genfromtxt(demo_csv, delimiter=",", skip_header=1, usecols=range(7))
    flipped = device_motion(rows)
    flipped[:, 1:7] = -flipped[:, 1:7]
    python = python_windows("lstm", demo_csv, backend="onnxruntime")
    wrong = ios_windows(package, write_motion(tmp_path / "upside-down.csv", flipped))
    diff = max(
        abs(a["probabilities"][k] - b["probabilities"][k])
        for a, b in zip(python, wrong, strict=True)
        for k in a["probabilities"]
    )
    assert diff > 0.1


@pytest.mark.shared_data
def test_real_recordings(package, shared_difronzo, tmp_path):
    for name in ("exp01_user01.csv", "exp05_user03.csv"):
        assert assert_ios_gives_the_stream(package, shared_difronzo / name, tmp_path) > 100


def test_the_runtime_reads_an_iphone_the_same_way(package, demo_csv, tmp_path):
    """The same motion as an iPhone's Sensor Logger export (Accelerometer.csv: user
    acceleration, Gravity.csv, m/s², Core Motion's sign; Metadata.csv: platform ios), which
    the runtime negates: the windows of the C entry point."""
    pytest.importorskip("onnxruntime")
    from harlite.runtime.io.app_exports import SensorLoggerSource
    from harlite.runtime.stream import StreamClassifier

    rows = np.genfromtxt(demo_csv, delimiter=",", skip_header=1, usecols=range(7))
    motion = device_motion(rows)
    folder = tmp_path / "iphone"
    folder.mkdir()
    ns = np.round(motion[:, 0] * 1e9).astype(np.int64)
    columns = {"Accelerometer.csv": motion[:, 1:4] * G, "Gravity.csv": motion[:, 4:7] * G,
               "Gyroscope.csv": motion[:, 7:10]}  # fmt: skip
    for name, values in columns.items():
        lines = ["time,seconds_elapsed,z,y,x"]
        lines += [
            f"{t},0,{v[2]!r},{v[1]!r},{v[0]!r}" for t, v in zip(ns, values.tolist(), strict=True)
        ]
        (folder / name).write_text("\n".join(lines) + "\n")
    (folder / "Metadata.csv").write_text("platform,standardisation\nios,false\n")
    classifier = StreamClassifier(REPO / "harlite" / "models" / "lstm", backend="onnxruntime")
    predictions = [p for parsed in SensorLoggerSource(folder) for p in classifier.push(parsed.rows)]
    python = [p.to_dict(classifier.labels) for p in predictions + classifier.flush()]
    motion[:, 0] = ns * 1e-9  # the export's times
    labels, diff = agreement(python, ios_windows(package, write_motion(tmp_path / "m.csv", motion)))
    assert labels == 1.0 and diff <= TOLERANCE, (labels, diff)


def test_the_swift_package_names_what_it_holds(package):
    """What can be checked without Swift: the package's targets and the module map's headers
    exist, and the wrapper calls the C functions the header declares."""
    out = package["out"]
    manifest = (out / "Package.swift").read_text()
    for target in re.findall(r'path: "([^"]+)"', manifest):
        assert (out / target).is_dir(), target
    include = out / "Sources" / "HarliteCore" / "include"
    for header in re.findall(r'header "([^"]+)"', (include / "module.modulemap").read_text()):
        assert (include / header).is_file(), header
    swift = (out / "Sources" / "Harlite" / "Harlite.swift").read_text()
    declared = (include / "harlite_phone.h").read_text() + (include / "harlite.h").read_text()
    called = set(re.findall(r"\b(harlite_[a-z_]+)\(", swift))
    assert "harlite_push_ios" in called
    for function in called:
        assert re.search(rf"\b{function}\(|struct {function} ", declared), function
