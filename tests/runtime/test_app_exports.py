"""Phone app exports read as they are: Sensor Logger (metadata, iOS sign, missing sensors)
and phyphox (per-sensor CSVs, Raw Data.csv, separators), on fixtures in the apps' real
layouts (tests/fixtures/exports, each with a README naming where its layout is documented)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import DataError
from harlite.runtime.io.app_exports import (
    EDGE_MARGIN_S,
    PHYPHOX,
    SENSOR_LOGGER,
    export_kind,
    phyphox_sets,
)
from harlite.runtime.io.sources import InputOptions, is_recording_folder, open_source

pytestmark = pytest.mark.runtime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
DEMO = np.loadtxt(FIXTURES / "demo.csv", delimiter=",", skiprows=1)


def read(path: Path, **options) -> np.ndarray:
    rows = np.concatenate([b.rows for b in open_source(str(path), InputOptions(**options))])
    rows[:, 0] -= rows[0, 0]
    return rows


def zipped(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{folder.name}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*.csv")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def test_every_fixture_says_where_its_layout_is_documented():
    folders = [p for p in FIXTURES.iterdir() if p.is_dir()]
    assert len(folders) >= 7
    for folder in folders:
        text = (folder / "README.md").read_text()
        assert "awesome-sensor-logger" in text or "phyphox" in text


@pytest.mark.parametrize("name", ["sensorlogger-ios", "sensorlogger-ios-standardised"])
def test_ios_sensor_logger_reads_to_androids_sign_whatever_the_standardisation(name, tmp_path):
    for path in (FIXTURES / name, zipped(FIXTURES / name, tmp_path)):
        rows = read(path)
        np.testing.assert_allclose(rows, DEMO, atol=1e-6)
        # Gravity reads +1 g along the phone's up axis, as on Android (the waist phone: +x).
        assert rows[:, 1].mean() > 0.8


def test_without_metadata_an_ios_export_cannot_be_told_apart_and_is_read_as_written(tmp_path):
    folder = tmp_path / "ios-no-metadata"
    shutil.copytree(FIXTURES / "sensorlogger-ios", folder)
    (folder / "Metadata.csv").unlink()
    rows = read(folder)
    np.testing.assert_allclose(rows[:, 1:4], -DEMO[:, 1:4], atol=1e-6)


def test_a_sensor_logger_export_without_gyroscope_names_the_sensor_and_the_setting():
    path = FIXTURES / "sensorlogger-android-no-gyroscope"
    assert export_kind(path) == SENSOR_LOGGER
    with pytest.raises(DataError) as error:
        read(path)
    message = str(error.value)
    assert "no Gyroscope.csv" in message and "Turn on Gyroscope" in message
    assert "not a Sensor Logger export" not in message
    assert "TotalAcceleration" in message  # what Metadata.csv says was recorded


@pytest.mark.parametrize("name", ["phyphox-per-sensor", "phyphox-raw-data"])
def test_phyphox_exports_are_read_without_options(name, tmp_path):
    for path in (FIXTURES / name, zipped(FIXTURES / name, tmp_path)):
        assert export_kind(path) == PHYPHOX
        np.testing.assert_allclose(read(path), DEMO, atol=1e-9)


def test_a_lone_phyphox_csv_and_its_tab_and_decimal_comma_variants(tmp_path):
    text = (FIXTURES / "phyphox-raw-data" / "Raw Data.csv").read_text()
    lone = tmp_path / "Raw Data.csv"
    lone.write_text(text)
    assert export_kind(lone) == PHYPHOX
    np.testing.assert_allclose(read(lone), DEMO, atol=1e-9)
    tabbed = tmp_path / "tab" / "Raw Data.csv"
    tabbed.parent.mkdir()
    tabbed.write_text(text.replace(",", "\t"))
    np.testing.assert_allclose(read(tabbed.parent, format="phyphox"), DEMO, atol=1e-9)
    comma = tmp_path / "comma" / "Raw Data.csv"
    comma.parent.mkdir()
    comma.write_text(text.replace(",", ";").replace(".", ","))
    np.testing.assert_allclose(read(comma.parent, format="phyphox"), DEMO, atol=1e-9)


def test_phyphox_linear_acceleration_alone_is_refused_with_the_experiment_to_use():
    with pytest.raises(DataError, match="Acceleration with g"):
        read(FIXTURES / "phyphox-acceleration-without-g")


def test_a_partial_folder_is_not_taken_for_a_sensor_logger_export():
    path = FIXTURES / "partial-gyroscope-only"
    assert export_kind(path) != SENSOR_LOGGER
    with pytest.raises(DataError) as error:
        read(path)
    assert "Sensor Logger" not in str(error.value) and "no acceleration" in str(error.value)


def test_a_folder_of_plain_csvs_named_like_sensors_is_a_data_set_not_an_export(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(FIXTURES / "demo.csv", folder / "Gyroscope.csv")
    assert export_kind(folder) is None and not is_recording_folder(folder)
    with pytest.raises(DataError, match="not a Sensor Logger or phyphox export"):
        read(folder)


def test_phyphox_headers_give_quantity_axis_and_unit():
    sets = phyphox_sets(
        "Raw Data.csv",
        ["Time (s)", "Linear Acceleration x (m/s^2)", "Linear Acceleration y (m/s^2)",
         "Linear Acceleration z (m/s^2)", "Absolute acceleration (m/s^2)"],
    )  # fmt: skip
    assert [(s.kind, s.unit) for s in sets] == [("linear", "m/s2")]
    sets = phyphox_sets("Gyroscope.csv", ["Time (s)", "X (deg/s)", "Y (deg/s)", "Z (deg/s)"])
    assert [(s.kind, s.unit) for s in sets] == [("gyro", "deg/s")]
    assert phyphox_sets("x.csv", ["t", "acc_x"]) == []


def test_stream_classifies_a_phyphox_export_like_the_same_samples_in_canonical_csv(tmp_path):
    runner = CliRunner()
    outputs = {}
    for name, source in (
        ("canonical", FIXTURES / "demo.csv"),
        ("phyphox", FIXTURES / "phyphox-per-sensor"),
    ):
        out = tmp_path / f"{name}.jsonl"
        result = runner.invoke(
            cli, ["stream", "lstm", "--input", str(source), "--output", str(out)]
        )
        assert result.exit_code == 0, result.output
        outputs[name] = [json.loads(line)["label"] for line in out.read_text().splitlines()]
    assert outputs["phyphox"] == outputs["canonical"] and len(outputs["canonical"]) >= 4


# --- issue 28, item 22: a zip's members are streamed, never held whole ---------------------

T0_NS = 1_700_000_000_000_000_000


def sensor_lines(times_ns: np.ndarray, values: np.ndarray) -> bytes:
    """A Sensor Logger CSV (time, seconds_elapsed, z, y, x)."""
    rows = [
        f"{t},{(t - T0_NS) / 1e9:.3f},{z:.6f},{y:.6f},{x:.6f}\n"
        for t, (x, y, z) in zip(times_ns.tolist(), values.tolist(), strict=True)
    ]
    return ("time,seconds_elapsed,z,y,x\n" + "".join(rows)).encode()


def write_sensor_logger_zip(path: Path, acc: tuple, gyro: tuple) -> int:
    """A Sensor Logger zip of TotalAcceleration and Gyroscope; its largest member's size."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Metadata.csv", "version,platform\n1,android\n")
        archive.writestr("TotalAcceleration.csv", sensor_lines(*acc))
        archive.writestr("Gyroscope.csv", sensor_lines(*gyro))
        return max(info.file_size for info in archive.infolist())


def sensor_series(n: int, every_ns: int, offset_ns: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    return T0_NS + offset_ns + every_ns * np.arange(n, dtype=np.int64), rng.normal(size=(n, 3))


def test_a_sensor_logger_zip_read_in_blocks_gives_the_rows_read_whole(tmp_path):
    """Four 1 MiB blocks per member: the gyroscope read alongside (later start, earlier end,
    its own rate, a repeated time in its second block) gives the whole-array result."""
    acc = sensor_series(60_000, 10_000_000, 0, seed=1)
    gyro = sensor_series(59_000, 10_100_000, 3_000_000 + 50 * 10_000_000, seed=2)
    gyro[0][30_000] = gyro[0][29_999]
    path = tmp_path / "rec.zip"
    write_sensor_logger_zip(path, acc, gyro)
    batches = list(open_source(str(path), InputOptions()))
    assert len(batches) >= 4
    rows = np.concatenate([b.rows for b in batches])
    reasons = [r for b in batches for _, r, _ in b.bad]
    # whole-array reference: the CSVs' own decimals, the repeated gyroscope time dropped
    acc_t, acc_v = acc[0].astype(float), np.round(acc[1], 6)
    keep = np.ones(len(gyro[0]), bool)
    keep[30_000] = False
    gyro_t, gyro_v = gyro[0][keep].astype(float), np.round(gyro[1][keep], 6)
    margin = EDGE_MARGIN_S * 1e9  # rows this close to the gyroscope's span take its edge
    inside = (acc_t >= gyro_t[0] - margin) & (acc_t <= gyro_t[-1] + margin)
    expected_gyro = np.column_stack(
        [np.interp(acc_t[inside], gyro_t, gyro_v[:, i]) for i in range(3)]
    )
    np.testing.assert_allclose(rows[:, 0], acc_t[inside] * 1e-9, rtol=0, atol=1e-6)
    np.testing.assert_allclose(rows[:, 1:4], acc_v[inside] / 9.80665, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 4:7], expected_gyro, rtol=1e-12, atol=1e-12)
    assert reasons.count("outside the gyroscope's time span") == int((~inside).sum())
    assert reasons.count("timestamp repeated or went backwards") == 1


#: The peak resident memory a read adds (VmHWM: ru_maxrss would keep the forking pytest's).
PEAK_RSS = """
import re, sys
from pathlib import Path
from harlite.runtime.io.app_exports import SensorLoggerSource
def peak():
    return int(re.search(r"VmHWM:\\s*(\\d+) kB", Path("/proc/self/status").read_text())[1])
before = peak()
rows = sum(len(batch.rows) for batch in SensorLoggerSource(sys.argv[1]))
print(rows, (peak() - before) * 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is Linux's")
def test_reading_a_sensor_logger_zip_takes_memory_independent_of_its_members_size(tmp_path):
    """Item 22: a 100 MB member peaked at 0.73 GB (every member parsed whole, then copied).
    Two zips, members of about 6 and 17 MB: the peak may not grow with the members."""
    import subprocess
    import sys

    peaks, sizes = [], []
    for n in (100_000, 300_000):
        path = tmp_path / f"rec{n}.zip"
        sizes.append(
            write_sensor_logger_zip(
                path, sensor_series(n, 10_000_000, 0, 1), sensor_series(n, 10_000_000, 0, 2)
            )
        )
        done = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        rows, peak = map(int, done.stdout.split())
        assert rows == n
        peaks.append(peak)
    growth = (peaks[1] - peaks[0]) / (sizes[1] - sizes[0])
    assert growth < 0.5, f"peak RSS {peaks} bytes for members of {sizes} bytes"


def test_sensor_loggers_usual_start_offset_between_sensors_is_no_bad_row():
    # The shipped sample's gyroscope starts 4 ms after its accelerometer, as Sensor Logger's
    # sensors do: its first accelerometer row takes the gyroscope's first sample.
    sample = Path(__file__).resolve().parents[2] / "harlite" / "demo" / "sensorlogger-sample.zip"
    batches = list(open_source(str(sample), InputOptions()))
    assert [bad for b in batches for bad in b.bad] == []
    rows = np.concatenate([b.rows for b in batches])
    np.testing.assert_allclose(rows[0, 4:7], rows[1, 4:7], atol=0.2)  # the held edge


def test_accelerometer_rows_far_outside_the_gyroscope_span_stay_bad_rows(tmp_path):
    acc = sensor_series(300, 10_000_000, 0, seed=1)
    gyro = sensor_series(200, 10_000_000, 1_000_000_000, seed=2)  # starts 1 s late
    path = tmp_path / "late.zip"
    write_sensor_logger_zip(path, acc, gyro)
    reasons = [r for b in open_source(str(path), InputOptions()) for _, r, _ in b.bad]
    # 1 s late with a 50 ms margin: the first 95 rows (0 … 940 ms) are outside
    assert reasons.count("outside the gyroscope's time span") == 95


def test_sensor_logger_annotations_label_the_samples():
    batches = list(open_source(str(FIXTURES / "sensorlogger-android-annotated"), InputOptions()))
    rows = np.concatenate([b.rows for b in batches])
    labels = [label for b in batches for label in b.labels]
    seconds = rows[:, 0] - rows[0, 0]
    np.testing.assert_allclose(rows[:, 1:], DEMO[:, 1:], atol=1e-6)
    expected = [None if s < 0.5 else "WALKING" if s < 6.0 else "STANDING" for s in seconds]
    assert labels == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("time,seconds_elapsed,text\nsoon,0.5,WALKING\n", "line 2, field 'time'"),
        ("when,what\n1,WALKING\n", "expected the columns time and text"),
    ],
)
def test_an_unreadable_annotation_file_is_named(tmp_path, text, problem):
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES / "sensorlogger-android-annotated", folder)
    (folder / "Annotation.csv").write_text(text)
    with pytest.raises(DataError, match=r"Annotation\.csv") as error:
        list(open_source(str(folder), InputOptions()))
    assert problem in str(error.value)


def test_empty_annotations_leave_an_export_unlabelled(tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(FIXTURES / "sensorlogger-android-annotated", folder)
    (folder / "Annotation.csv").write_text("time,seconds_elapsed,text,millisecond_press_duration\n")
    assert all(b.labels is None for b in open_source(str(folder), InputOptions()))
