"""Scoring a held-out recording of your own data: ``--data dataset.toml`` on ``harlite
stream`` and ``harlite batch`` reads it as the data set says (columns, units, delimiter,
renames, ignores); labels matching none of the model's are a warning naming both sets;
Sensor Logger's annotations score an export."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.runtime.rows import LabelMap

pytestmark = pytest.mark.runtime

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "harlite" / "demo" / "exp54_user27.csv.gz"
ANNOTATED = ROOT / "tests" / "fixtures" / "exports" / "sensorlogger-android-annotated"
#: the data set's own names for the model's classes, and a label it leaves out
RAW_NAMES = {
    "WALKING": "walk",
    "WALKING_UPSTAIRS": "up",
    "WALKING_DOWNSTAIRS": "down",
    "SITTING": "sit",
    "STANDING": "stand",
    "LAYING": "lie",
}
RENAMES = 'ignore = ["transition"]\n\n[rename]\n' + "".join(
    f'{raw} = "{name}"\n' for name, raw in RAW_NAMES.items()
)
TOML = """
delimiter = ";"
acc_unit = "m/s2"
time_unit = "ms"
ignore = ["transition"]

[columns]
t = "stamp"
acc_x = "ax"
acc_y = "ay"
acc_z = "az"
gyro_x = "gx"
gyro_y = "gy"
gyro_z = "gz"
label = "what"

[rename]
""" + "".join(f'{raw} = "{name}"\n' for name, raw in RAW_NAMES.items())


def demo_lines(count: int = 4000) -> list[list[str]]:
    with gzip.open(DEMO, "rt") as handle:
        return [line.split(",") for line in handle.read().splitlines()[1 : 1 + count]]


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> dict[str, Path]:
    """The demo's first 80 s three ways: canonical with the model's labels, canonical with
    the data set's own names, and in the data set's own layout with dataset.toml."""
    folder = tmp_path_factory.mktemp("held_out")
    lines = demo_lines()
    canonical = "t,acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,label\n"
    (folder / "model_names.csv").write_text(canonical + "".join(",".join(f) + "\n" for f in lines))

    def raw(label: str) -> str:
        return RAW_NAMES.get(label, "transition" if label else "")

    renamed = [[*f[:7], raw(f[7])] for f in lines]
    (folder / "raw_names.csv").write_text(canonical + "".join(",".join(f) + "\n" for f in renamed))
    own = ["stamp;ax;ay;az;gx;gy;gz;what"]
    for f in renamed:
        t, acc, gyro = float(f[0]) * 1000, [float(v) * 9.80665 for v in f[1:4]], f[4:7]
        own.append(";".join([f"{t:.3f}", *(f"{v:.7f}" for v in acc), *gyro, f[7]]))
    (folder / "own_layout.csv").write_text("\n".join(own) + "\n")
    (folder / "dataset.toml").write_text(TOML)
    (folder / "renames.toml").write_text(RENAMES)
    return {p.stem: p for p in folder.iterdir()}


def stream_summary(tmp_path: Path, *args: str) -> dict:
    summary = tmp_path / "summary.json"
    result = CliRunner().invoke(
        cli,
        [
            "stream",
            "lstm",
            "--output",
            str(tmp_path / "out.jsonl"),
            "--summary",
            str(summary),
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(summary.read_text())


def test_labels_matching_none_of_the_models_are_a_warning_naming_both(held_out, tmp_path):
    summary = stream_summary(tmp_path, "--input", str(held_out["raw_names"]))
    assert "accuracy" not in summary
    (warning,) = [w for w in summary["warnings"] if "match none" in w]
    assert "stand" in warning and "STANDING" in warning and "--data" in warning


def test_data_reads_the_data_sets_layout_and_scores_with_its_renames(held_out, tmp_path):
    reference = stream_summary(tmp_path, "--input", str(held_out["model_names"]))
    for name, settings in (("raw_names", "renames"), ("own_layout", "dataset")):
        summary = stream_summary(
            tmp_path, "--input", str(held_out[name]), "--data", str(held_out[settings])
        )
        assert summary["labelled_windows"] == reference["labelled_windows"] > 20, name
        assert summary["accuracy"] == pytest.approx(reference["accuracy"], abs=0.02), name
        assert summary["bad_rows"] == 0, name
        assert not [w for w in summary.get("warnings", []) if "match none" in w], name


def test_an_option_given_wins_over_the_data_sets(held_out, tmp_path):
    # the file is in m/s2 as dataset.toml says; --acc-unit g on the command line wins
    summary = stream_summary(
        tmp_path,
        "--input",
        str(held_out["own_layout"]),
        "--data",
        str(held_out["dataset"]),
        "--acc-unit",
        "g",
    )
    assert summary["bad_rows"] > 0 or any("m/s2" in w for w in summary.get("warnings", []))


def test_batch_takes_data_too(held_out, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "batch",
            "lstm",
            str(held_out["own_layout"]),
            "--out",
            str(out),
            "--data",
            str(held_out["dataset"]),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    batch = json.loads((out / "batch-summary.json").read_text())
    assert batch["labelled_windows"] > 20 and batch["accuracy"] > 0.5


def test_a_data_option_without_settings_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["stream", "lstm", "--input", str(tmp_path), "--data", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--data" in result.output and "dataset.toml" in result.output


def test_sensor_logger_annotations_score_an_export(tmp_path):
    summary = stream_summary(tmp_path, "--input", str(ANNOTATED))
    assert summary["labelled_windows"] >= 2  # 8 s: WALKING from 0.5 s to 6 s
    assert summary["bad_rows"] == 0


def test_the_label_map_renames_first_then_ignores_and_is_hashable():
    labels = LabelMap({"walk": "WALKING", "x": "OTHER"}, ("OTHER", "transition"))
    assert hash(labels) == hash(
        LabelMap((("x", "OTHER"), ("walk", "WALKING")), ("OTHER", "transition"))
    )
    assert [labels.class_of(v) for v in ("walk", "x", "transition", "", None, "SITTING")] == [
        "WALKING",
        None,
        None,
        None,
        None,
        "SITTING",
    ]
