"""Your own recordings (issue 15): a recordings folder as a data set, any label set, windows
built by the device's own path, and the commands from training to streaming on it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import DataError
from harlite.runtime.signal.preprocessing import FilterDesign
from harlite.runtime.signal.windower import window_labels
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train.datasets import RECORDINGS, dataset_info, detect_layout, load_windows
from harlite.train.hapt_export import TRANSITION_LABELS, export_recordings
from tests.builders import canonical_csv, write

RATE = 50.0
CLASSES = ("SHAKE", "SPIN", "STILL")  # made-up activities, sorted as the data set sorts them


def activity_signal(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 6) raw samples of a made-up activity, in g and rad/s."""
    t = np.arange(n) / RATE
    acc = np.tile([0.0, 0.0, 1.0], (n, 1)) + 0.01 * rng.standard_normal((n, 3))
    gyro = 0.01 * rng.standard_normal((n, 3))
    if name == "SHAKE":
        acc[:, 0] += 0.8 * np.sin(2 * np.pi * 3 * t)
    elif name == "SPIN":
        gyro[:, 2] += 2.0
    return np.hstack((acc, gyro))


def write_recording(path: Path, parts: list[tuple[str, int]], seed: int, units="g") -> Path:
    """A canonical CSV with a label column: ``parts`` are (label, samples) in order."""
    rng = np.random.default_rng(seed)
    raw = np.vstack([activity_signal(name, n, rng) for name, n in parts])
    if units == "m/s2":
        raw[:, :3] *= 9.80665
    labels = [name for name, n in parts for _ in range(n)]
    rows = np.column_stack((np.arange(len(raw)) / RATE, raw))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write(path.parent, path.name, canonical_csv(rows, labels))


@pytest.fixture(scope="module")
def own_folder(tmp_path_factory) -> Path:
    """Four subjects, one recording each, 40 s of each made-up activity."""
    root = tmp_path_factory.mktemp("own") / "data"
    for i, subject in enumerate((1, 2, 3, 4)):
        parts = [(name, 2000) for name in np.roll(CLASSES, i)]
        write_recording(root / f"s{subject:02d}_session.csv", parts, seed=subject)
    return root


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# --- the data set ------------------------------------------------------------------------


def test_a_folder_of_recordings_is_a_data_set_with_its_own_classes(own_folder):
    assert detect_layout(own_folder) == RECORDINGS
    windows = load_windows(own_folder, cache_dir=None)
    assert windows.labels == CLASSES
    assert windows.subjects == [1, 2, 3, 4]
    # 2000-sample segments give (2000 - 128) // 64 + 1 = 30 uniform windows when aligned;
    # each class has windows from every subject
    counts = windows.windows_per_class()
    assert all(count >= 4 * 25 for count in counts.values()), counts
    assert set(np.unique(windows.experiment)) == {1, 2, 3, 4}


def test_data_info_reports_minutes_subjects_rates_and_units(own_folder):
    info = dataset_info(own_folder, cache_dir=None)
    assert info.layout == RECORDINGS and info.labels == list(CLASSES)
    assert info.minutes_per_class == {
        name: pytest.approx(4 * 2000 / RATE / 60, abs=0.01) for name in CLASSES
    }
    assert info.input_rates_hz == [50.0, 50.0]
    assert info.windows_per_subject and set(info.windows_per_subject) == {"1", "2", "3", "4"}
    assert all(r["still_acc_g"] == pytest.approx(1.0, abs=0.05) for r in info.recordings)
    result = invoke("data", "info", own_folder)
    assert result.exit_code == 0, result.output
    assert "SHAKE" in result.output and "min" in result.output
    lines = result.output.splitlines()
    (signal,) = [line for line in lines if line.strip().startswith("signal")]
    assert signal.endswith(" min")  # minutes of signal, not "0.13 h"
    header = lines.index("    class                windows  labelled signal")
    assert lines[header + 1].split()[0] in CLASSES
    assert "about its windows × 1.28 s" in result.output


def test_folder_names_label_files_without_a_label_column(tmp_path):
    for label in ("CYCLING", "TABLE"):
        for subject in (1, 2):
            rng = np.random.default_rng(subject)
            raw = activity_signal("SPIN" if label == "CYCLING" else "STILL", 600, rng)
            rows = np.column_stack((np.arange(600) / RATE, raw))
            folder = tmp_path / label
            folder.mkdir(exist_ok=True)
            write(folder, f"user{subject}.csv", canonical_csv(rows))
    windows = load_windows(tmp_path, cache_dir=None)
    assert windows.labels == ("CYCLING", "TABLE")
    assert windows.subjects == [1, 2]
    assert windows.windows_per_class() == {"CYCLING": 16, "TABLE": 16}


def test_index_and_settings_file_kept_apart_from_the_recordings(tmp_path, own_folder):
    settings = tmp_path / "mine.toml"
    settings.write_text(
        f'recordings = "{own_folder}"\nindex = "index.csv"\nrename = {{ SPIN = "ROTATE" }}\n'
        'ignore = ["STILL"]\n'
    )
    (tmp_path / "index.csv").write_text(
        "file,subject,placement,split,phone\n"
        "s01_session.csv,7,pocket,train,pixel\n"
        "s02_session.csv,8,pocket,val,pixel\n"
        "s03_session.csv,9,hand,train,iphone\n"
        "s04_session.csv,10,hand,test,iphone\n"
    )
    windows = load_windows(settings, cache_dir=None)
    assert windows.labels == ("ROTATE", "SHAKE")
    assert windows.subjects == [7, 8, 9, 10]
    from harlite.train.datasets import default_val_subjects, test_subjects

    assert test_subjects(settings) == (10,)
    assert default_val_subjects(settings, windows, seed=0) == (8,)
    recordings = dataset_info(settings, cache_dir=None).recordings
    assert [(r["placement"], r["split"], r["extra"]) for r in recordings][:2] == [
        ("pocket", "train", {"phone": "pixel"}),
        ("pocket", "val", {"phone": "pixel"}),
    ]


def test_window_label_rules():
    codes = np.array([[0, 0, 1, 1], [0, 0, 0, 1], [-1, -1, -1, 2], [2, 2, 2, 2], [-1] * 4])
    assert window_labels(codes, "uniform").tolist() == [-1, -1, -1, 2, -1]
    assert window_labels(codes, "majority").tolist() == [-1, 0, -1, 2, -1]
    assert window_labels(codes, "center").tolist() == [1, 0, -1, 2, -1]


# --- errors, never tracebacks --------------------------------------------------------------


def _error(*args) -> str:
    result = invoke(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return result.output


def test_unknown_label_names_the_file_and_line(tmp_path):
    write_recording(tmp_path / "s01.csv", [("STILL", 300), ("DANCE", 300)], seed=1)
    (tmp_path / "dataset.toml").write_text('labels = ["STILL", "SHAKE"]\n')
    with pytest.raises(DataError) as caught:
        load_windows(tmp_path, cache_dir=None)
    assert caught.value.path.name == "s01.csv" and caught.value.line == 302
    assert "DANCE" in str(caught.value)
    assert "s01.csv, line 302" in _error("data", "info", tmp_path)


def test_a_file_with_no_label_anywhere(tmp_path):
    rows = np.column_stack(
        (np.arange(300) / RATE, activity_signal("STILL", 300, np.random.default_rng(0)))
    )
    write(tmp_path, "s01.csv", canonical_csv(rows))
    output = _error("data", "info", tmp_path)
    assert "s01.csv" in output and "no label anywhere" in output


def test_mixed_units_declared(tmp_path, own_folder):
    (tmp_path / "dataset.toml").write_text(f'recordings = "{own_folder}"\nacc_unit = "g"\n')
    (tmp_path / "recordings.csv").write_text("file,acc_unit\ns01_session.csv,m/s2\n")
    (tmp_path / "dataset.toml").write_text(
        f'recordings = "{own_folder}"\nacc_unit = "g"\nindex = "recordings.csv"\n'
    )
    output = _error("data", "info", tmp_path / "dataset.toml")
    assert "recordings.csv, line 2, field 'acc_unit'" in output and "mixed units" in output


def test_a_header_stating_other_units_than_the_settings(tmp_path):
    path = write_recording(tmp_path / "s01.csv", [("STILL", 300)], seed=1)
    text = path.read_text().replace(
        "acc_x,acc_y,acc_z", "acc_x (m/s^2),acc_y (m/s^2),acc_z (m/s^2)"
    )
    path.write_text(text)
    output = _error("data", "info", tmp_path)
    assert "s01.csv, line 1" in output and "m/s2" in output


def test_a_class_with_no_data(tmp_path, own_folder):
    (tmp_path / "dataset.toml").write_text(
        f'recordings = "{own_folder}"\nlabels = ["SHAKE", "SPIN", "STILL", "JUMP"]\n'
    )
    output = _error(
        "train", "--data", tmp_path / "dataset.toml", "--out", tmp_path / "run", "--epochs", "1"
    )
    assert "class 'JUMP' has no data" in output


def test_a_subject_in_both_splits(tmp_path, own_folder):
    (tmp_path / "dataset.toml").write_text(f'recordings = "{own_folder}"\nindex = "i.csv"\n')
    (tmp_path / "i.csv").write_text(
        "file,subject,split\ns01_session.csv,1,train\ns02_session.csv,1,val\n"
    )
    output = _error("data", "info", tmp_path / "dataset.toml")
    assert "subject 1 is in both splits" in output


def test_a_class_without_a_validation_window_is_refused(tmp_path):
    for subject in (1, 2, 3):
        parts = [("STILL", 1000), ("SHAKE", 1000)] + ([("SPIN", 1000)] if subject < 3 else [])
        write_recording(tmp_path / f"s{subject}.csv", parts, seed=subject)
    output = _error(
        "train",
        "--data",
        tmp_path,
        "--out",
        tmp_path / "run",
        "--val-subjects",
        "3",
        "--epochs",
        "1",
    )
    assert "class SPIN has no validation window" in output


# --- identity with the HAPT loader -----------------------------------------------------------


@pytest.mark.shared_data
def test_exported_hapt_recordings_give_the_hapt_loaders_windows(shared_hapt, tmp_path):
    """`harlite data export` of HAPT, read back as a recordings folder, gives bit-identical
    windows, labels, subjects and window starts to the HAPT loader's."""
    from harlite.train import hapt

    subjects = [1, 3]
    export_recordings(shared_hapt, tmp_path, subjects)
    (tmp_path / "dataset.toml").write_text(
        f"labels = {json.dumps(list(ACTIVITY_LABELS))}\n"
        f"ignore = {json.dumps(list(TRANSITION_LABELS))}\n"
    )
    own = load_windows(tmp_path, cache_dir=None)
    reference = hapt.build_windows(shared_hapt, FilterDesign())
    reference = reference.select(np.isin(reference.subject, subjects))
    assert len(own) == len(reference) > 500
    assert own.labels == reference.labels
    assert np.array_equal(own.X, reference.X)
    assert np.array_equal(own.y, reference.y)
    assert np.array_equal(own.subject, reference.subject)
    assert np.array_equal(own.start, reference.start)


# --- end to end: train → convert → verify → stream → evaluate ----------------------------


def test_made_up_classes_from_training_to_streaming(own_folder, tmp_path):
    run, bundle = tmp_path / "run", tmp_path / "bundle"
    result = invoke(
        "train", "--data", own_folder, "--out", run, "--epochs", "8", "--batch-size", "32",
        "--val-subjects", "4", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output.strip().splitlines()[-1])
    assert trained["labels"] == list(CLASSES)
    config = json.loads((run / "config.json").read_text())
    assert config["labels"] == list(CLASSES) and config["val_subjects"] == [4]

    result = invoke(
        "convert", run, "--out", bundle, "--data", own_folder, "--formats", "keras,float32,int8"
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["labels"] == list(CLASSES)
    assert manifest["output"]["shape"] == [1, 3]

    result = invoke("verify", bundle)
    assert result.exit_code == 0, result.output

    out = tmp_path / "predictions.jsonl"
    result = invoke(
        "stream", bundle, "--input", own_folder / "s04_session.csv", "--output", out,
        "--summary", tmp_path / "summary.json", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    assert {p["label"] for p in predictions} <= set(CLASSES)
    assert set(predictions[0]["probabilities"]) == set(CLASSES)
    assert {p["true_label"] for p in predictions if "true_label" in p} == set(CLASSES)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["labelled_windows"] > 60

    result = invoke("evaluate", bundle, "--data", own_folder, "--subjects", "4", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["labels"] == list(CLASSES)
    assert len(report["confusion_matrix"]) == 3
    assert report["subjects_seen_in_training"] == []
    # the made-up activities are easy: a few epochs separate them on the held-out subject
    assert report["accuracy"] > 0.8
    # the stream scores the same windows of subject 4 the evaluation does
    assert summary["labelled_windows"] == report["n_windows"]

    result = invoke("bench", bundle, "--invokes", "50", "--no-tensorflow", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output[result.output.index("[") :])
    assert {row["artifact"] for row in rows} >= {"float32", "int8"}

    result = invoke("batch", bundle, own_folder, "--out", tmp_path / "batch", "--workers", "1")
    assert result.exit_code == 0, result.output
    batch = json.loads((tmp_path / "batch" / "batch-summary.json").read_text())
    assert batch["windows"] > 4 * 80 and batch["labelled_windows"] > 4 * 60


def test_fine_tuning_a_shipped_model_gets_a_new_head(own_folder, tmp_path):
    run = tmp_path / "run"
    result = invoke(
        "train", "--init", "lstm", "--data", own_folder, "--out", run, "--epochs", "3",
        "--freeze-epochs", "2", "--val-subjects", "none", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert config["init"].endswith("lstm") and config["freeze_epochs"] == 2
    assert config["labels"] == list(CLASSES) and config["batch_size"] == 32
    from harlite.shipped import model_path
    from harlite.train.models import load_model

    tuned = load_model(run / "model.keras")
    base = load_model(model_path("lstm") / "model.keras")
    assert tuned.get_layer("logits").get_weights()[0].shape == (32, 3)
    # the feature layers started from the base and trained after the frozen epochs (the final
    # weights are kept without validation subjects): the first LSTM moved, but not far
    moved = tuned.get_layer("lstm_1").get_weights()[0] - base.get_layer("lstm_1").get_weights()[0]
    assert 0 < np.abs(moved).max() < 0.2
    # the base's input normalisation is kept
    for key in ("mean", "variance"):
        assert (
            tuned.get_layer("normalize").get_config()[key]
            == base.get_layer("normalize").get_config()[key]
        )


def test_sensor_logger_exports_in_activity_folders(tmp_path):
    """Phone-app exports dropped into LABEL/ folders: read by the stream's own source."""
    from harlite.cli.stream import DEMO_RECORDING

    sample = DEMO_RECORDING.parent / "sensorlogger-sample.zip"
    for subject in (1, 2):
        (tmp_path / "WALKING").mkdir(exist_ok=True)
        (tmp_path / "WALKING" / f"s{subject:02d}_walk.zip").write_bytes(sample.read_bytes())
        write_recording(tmp_path / "TABLE" / f"s{subject:02d}_desk.csv", [("TABLE", 1000)], subject)
    windows = load_windows(tmp_path, cache_dir=None)
    assert windows.labels == ("TABLE", "WALKING")
    # 20 s at 100 Hz (19.98 s inside the gyroscope's span) → 999 samples at 50 Hz: 14 windows
    assert windows.windows_per_class() == {"TABLE": 2 * 14, "WALKING": 2 * 14}
    assert windows.subjects == [1, 2]


def test_without_subjects_each_recording_is_its_own(tmp_path):
    for name in ("morning", "noon", "evening"):
        write_recording(tmp_path / f"{name}.csv", [("STILL", 700), ("SHAKE", 700)], seed=len(name))
    windows = load_windows(tmp_path, cache_dir=None)
    assert windows.subjects == [1, 2, 3]  # recordings in name order: evening, morning, noon
    info = dataset_info(tmp_path, cache_dir=None)
    assert [r["name"] for r in info.recordings] == ["evening.csv", "morning.csv", "noon.csv"]


def test_leave_subjects_out_folds_choose_the_validation_subjects(own_folder, tmp_path):
    from harlite.train.splits import subject_folds

    result = invoke(
        "train", "--data", own_folder, "--out", tmp_path / "run", "--val-fold", "2/2",
        "--epochs", "1", "--seed", "3", "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    expected = subject_folds([1, 2, 3, 4], 2, seed=3, test_subjects=())[1][1]
    assert config["val_subjects"] == expected and len(expected) == 2
    assert "I/K" in _error(
        "train", "--data", own_folder, "--out", tmp_path / "x", "--val-fold", "2"
    )
    assert "fold 3/2" in _error(
        "train", "--data", own_folder, "--out", tmp_path / "x", "--val-fold", "3/2"
    )


def test_a_short_fine_tuning_run_scales_its_head_alone_epochs_and_says_so():
    from harlite.shipped import model_path
    from harlite.train.config import TrainConfig
    from harlite.train.finetune import fine_tune_config, freeze_note
    from harlite.train.models import get_preset

    base = TrainConfig.load(model_path("lstm") / "training" / "config.json")
    start = get_preset("lstm").config()
    short = fine_tune_config("lstm", base, start, epochs=5, freeze_epochs=None)
    assert short.freeze_epochs == 1  # 10 of 60 scaled: four epochs train every layer
    assert "first 1 of 5 epochs" in freeze_note(short, freeze_given=False)
    full = fine_tune_config("lstm", base, start, epochs=None, freeze_epochs=None)
    assert (full.freeze_epochs, freeze_note(full, freeze_given=False)) == (10, None)
    # the default's recipe for its own data is not carried into fine-tuning on yours
    assert start.balance and start.pocket_mirror and start.thigh_turn_deg
    recipe = (full.balance, full.average_epochs, full.pocket_mirror, full.thigh_turn_deg)
    assert recipe == (0, 0, 0, 0) and full.time_warp == 0
    # rounded half up, at least one head-alone epoch where there are two or more (round()
    # gave 0 of 3 and 2 of 15)
    scaled = {n: fine_tune_config("lstm", base, start, epochs=n, freeze_epochs=None).freeze_epochs
              for n in (1, 2, 3, 9, 15, 200)}  # fmt: skip
    assert scaled == {1: 0, 2: 1, 3: 1, 9: 2, 15: 3, 200: 10}
    one = fine_tune_config("lstm", base, start, epochs=1, freeze_epochs=None)
    assert "from the first epoch" in freeze_note(one, freeze_given=False)
    frozen = fine_tune_config("lstm", base, start, epochs=5, freeze_epochs=8)
    assert frozen.freeze_epochs == 8
    assert "only the classifier head trains" in freeze_note(frozen, freeze_given=True)
