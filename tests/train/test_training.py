"""Training and evaluation on tiny data: artefacts, reproducibility, model selection."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tf_keras", reason="training needs the [train] extra (tensorflow, tf-keras)")

from harlite.cli import cli
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train import trainer
from harlite.train.evaluation import evaluate_predictions
from harlite.train.models import PRESETS, build_model, get_preset
from harlite.train.trainer import train
from harlite.train.windowset import WindowSet


def tiny_config(preset="lstm", **overrides):
    settings = {"epochs": 3, "batch_size": 16, "val_subjects": (5,), "seed": 1}
    return get_preset(preset).config(**{**settings, **overrides})


def test_training_writes_every_artefact(small_hapt, tmp_path):
    result = train(tiny_config(), small_hapt, tmp_path / "run")
    run = tmp_path / "run"
    for name in (
        "model.keras",
        "config.json",
        "history.json",
        "history.png",
        "report.json",
        "report.txt",
        "confusion.png",
    ):
        assert (run / name).stat().st_size > 0, name
    history = json.loads((run / "history.json").read_text())
    assert len(history["loss"]) == len(history["val_accuracy"]) == 3 == result.epochs_run
    report = json.loads((run / "report.json").read_text())
    assert report["subjects"] == [5] and report["n_windows"] == result.report.n_windows
    assert json.loads((run / "config.json").read_text())["preset"] == "lstm"


def test_a_fixed_seed_reproduces(small_hapt, tmp_path):
    a = train(tiny_config(epochs=2), small_hapt, tmp_path / "a")
    b = train(tiny_config(epochs=2), small_hapt, tmp_path / "b")
    c = train(tiny_config(epochs=2, seed=2), small_hapt, tmp_path / "c")
    history = [json.loads((r.run_dir / "history.json").read_text())["loss"] for r in (a, b, c)]
    assert history[0] == history[1]
    assert history[0] != history[2]
    wa = trainer.load_model(a.run_dir / "model.keras").get_weights()
    wb = trainer.load_model(b.run_dir / "model.keras").get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb, strict=True))


def test_selection_reads_validation_subjects_only(small_hapt, tmp_path, monkeypatch):
    seen = {}
    real_dataset = trainer.training_dataset

    def spy(windows, config):
        seen["train"] = windows.subjects
        return real_dataset(windows, config)

    monkeypatch.setattr(trainer, "training_dataset", spy)
    result = train(tiny_config(epochs=4, select="best"), small_hapt, tmp_path / "run")
    assert seen["train"] == [1, 3]  # test subject 2 and validation subject 5 never trained on
    assert result.report.subjects == [5]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    scores = list(zip(history["val_accuracy"], [-v for v in history["val_loss"]], strict=True))
    assert result.best_epoch == 1 + max(range(len(scores)), key=scores.__getitem__)
    with pytest.raises(Exception, match="test subjects"):
        train(tiny_config(val_subjects=(2,)), small_hapt, tmp_path / "bad")


def test_ctrl_c_keeps_the_best_checkpoint_usable(small_hapt, tmp_path, monkeypatch):
    real = trainer._RunRecorder.on_epoch_end

    def interrupt_after_two(self, epoch, logs=None):
        real(self, epoch, logs)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(trainer._RunRecorder, "on_epoch_end", interrupt_after_two)
    result = train(tiny_config(epochs=10), small_hapt, tmp_path / "run")
    assert result.interrupted and result.epochs_run == 2
    model = trainer.load_model(tmp_path / "run" / "model.keras")
    assert model.predict(np.zeros((1, 128, 9), np.float32), verbose=0).shape == (1, 6)
    assert (tmp_path / "run" / "report.json").is_file()


@pytest.mark.parametrize("preset", ["lstm", "resbilstm", "cnnlstm"])
def test_unrolled_graph_matches_the_looped_one(preset):
    config = tiny_config(preset)
    mean, variance = np.full(9, 0.1, np.float32), np.full(9, 2.0, np.float32)
    looped = build_model(config, mean, variance, unroll=False)
    unrolled = build_model(config, mean, variance, unroll=True)
    unrolled.set_weights(looped.get_weights())
    x = np.random.default_rng(0).standard_normal((8, 128, 9)).astype(np.float32)
    np.testing.assert_allclose(looped(x).numpy(), unrolled(x).numpy(), atol=1e-5, rtol=0)
    ops = {op.type for op in _graph_ops(unrolled)}
    assert not ops & {"While", "StatelessWhile", "TensorListReserve"}


def _graph_ops(model):
    import tensorflow as tf

    fn = tf.function(model).get_concrete_function(tf.TensorSpec((1, 128, 9), tf.float32))
    return fn.graph.get_operations()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_builds_and_takes_raw_windows(preset):
    model = build_model(tiny_config(preset), np.zeros(9, np.float32), np.ones(9, np.float32))
    assert model.input_shape == (None, 128, 9) and model.output_shape == (None, 6)


def test_evaluation_figures_match_a_case_worked_by_hand():
    y_true = np.array([0, 0, 0, 1, 1, 3, 3, 4, 4, 4])
    y_pred = np.array([0, 0, 1, 1, 1, 4, 3, 4, 4, 3])
    subjects = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
    report = evaluate_predictions(y_true, y_pred, subjects, ACTIVITY_LABELS).to_dict()
    assert report["accuracy"] == pytest.approx(7 / 10)
    # recall: WALKING 2/3, UPSTAIRS 2/2, SITTING 1/2, STANDING 2/3
    assert report["per_class"]["WALKING"]["recall"] == pytest.approx(2 / 3)
    assert report["per_class"]["WALKING_UPSTAIRS"]["precision"] == pytest.approx(2 / 3)
    assert report["sitting_standing"] == {
        "sitting_recall": 0.5,
        "standing_recall": 2 / 3,
        "sitting_as_standing": 1,
        "standing_as_sitting": 1,
    }
    # weighted F1 = Σ support·F1 / n; F1: W 0.8, U 0.8, SIT 0.5, STAND 2/3
    assert report["f1_weighted"] == pytest.approx((3 * 0.8 + 2 * 0.8 + 2 * 0.5 + 3 * 2 / 3) / 10)
    assert report["per_subject"] == {
        "1": {"accuracy": 0.8, "windows": 5},
        "2": {"accuracy": 0.6, "windows": 5},
    }
    assert report["confusion_matrix"][0] == [2, 1, 0, 0, 0, 0]
    assert report["n_windows"] == 10


def test_cli_train_and_evaluate(small_hapt, tmp_path):
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(
        cli,
        [
            "train",
            "--preset",
            "cnn",
            "--data",
            str(small_hapt),
            "--out",
            str(run),
            "--epochs",
            "2",
            "--batch-size",
            "16",
            "--val-subjects",
            "5",
            "--seed",
            "3",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert (config["epochs"], config["batch_size"], config["seed"]) == (2, 16, 3)

    result = runner.invoke(
        cli,
        [
            "evaluate",
            str(run),
            "--data",
            str(small_hapt),
            "--json",
            "--subjects",
            "1,3",
            "--out",
            str(tmp_path / "eval"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    for key in (
        "accuracy",
        "f1_weighted",
        "n_windows",
        "per_class",
        "per_subject",
        "confusion_matrix",
    ):
        assert key in report
    assert set(report["per_subject"]) == {"1", "3"}
    assert (tmp_path / "eval" / "confusion.png").is_file()

    val = runner.invoke(
        cli, ["evaluate", str(run / "model.keras"), "--data", str(small_hapt), "--split", "val"]
    )
    assert val.exit_code == 0 and "SITTING recall" in val.output
    every = runner.invoke(cli, ["evaluate", str(run), "--data", str(small_hapt), "--json"])
    assert set(json.loads(every.output.strip().splitlines()[-1])["per_subject"]) == {
        "1",
        "2",
        "3",
        "5",
    }
    missing = runner.invoke(
        cli, ["evaluate", str(run), "--data", str(small_hapt), "--subjects", "9"]
    )
    assert missing.exit_code == 1 and "no windows of subjects 9" in missing.output


def test_training_without_validation_subjects_keeps_the_final_epoch(small_hapt, tmp_path):
    runner = CliRunner()
    run = tmp_path / "run"
    result = runner.invoke(
        cli,
        [
            "train",
            "--data",
            str(small_hapt),
            "--out",
            str(run),
            "--epochs",
            "2",
            "--batch-size",
            "32",
            "--val-subjects",
            "none",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((run / "report.json").read_text())
    assert report["split"] == "train" and report["subjects"] == [1, 3, 5]  # never test subject 2
    assert report["best_epoch"] == report["epochs_run"] == 2
    assert "val_accuracy" not in json.loads((run / "history.json").read_text())


def groups_of_windows(y: list[int], placement: list[str]) -> WindowSet:
    """Empty windows of these classes and placements."""
    n = len(y)
    zeros = np.zeros(n, np.int64)
    return WindowSet(
        X=np.zeros((n, 128, 9), np.float32),
        y=np.array(y),
        subject=zeros,
        experiment=zeros,
        start=zeros,
        placement=np.array(placement),
    )


def test_int8_calibration_samples_every_group_alike():
    """A rare (placement, class) group is as much in int8's calibration as a common one."""
    windows = groups_of_windows([0] * 90 + [1] * 6 + [2] * 4, ["waist"] * 96 + ["pocket"] * 4)
    rng = np.random.default_rng(0)
    chosen = windows.spread_sample(12, rng)
    assert len(set(chosen.tolist())) == 12
    assert np.bincount(windows.y[chosen]).tolist() == [4, 4, 4]
    chosen = windows.spread_sample(16, rng)  # the pocket's 4 are all there is of it
    assert np.bincount(windows.y[chosen]).tolist() == [6, 6, 4]
    assert len(windows.spread_sample(500, rng)) == 100


def test_balance_weighs_rare_groups_up(small_hapt, tmp_path):
    from harlite.train.augment import balance_weights

    windows = groups_of_windows([0, 0, 0, 1], ["waist", "waist", "waist", "pocket"])
    assert balance_weights(windows, 0.0).tolist() == [1, 1, 1, 1]
    weights = balance_weights(windows, 1.0)  # every group alike: 3 × w = 1 × w'
    assert weights.mean() == pytest.approx(1.0)
    assert weights[3] == pytest.approx(3 * weights[0])
    result = train(tiny_config(epochs=1, balance=0.5), small_hapt, tmp_path / "run")
    assert (result.run_dir / "model.keras").is_file()


def test_average_epochs_keeps_the_mean_of_the_late_weights(small_hapt, tmp_path):
    from harlite.train.models import load_model
    from harlite.train.trainer import _LateWeights

    late = _LateWeights(2)
    for value in (9.0, 1.0, 3.0):  # the first is dropped: only the last two count
        late.add([np.array([value, value + 1], np.float32), np.array(int(value))])
    weights, count = late.mean()
    assert weights.tolist() == [2.0, 3.0] and weights.dtype == np.float32 and count == 3
    assert late.count == 2
    runs = {
        n: train(
            tiny_config(epochs=2, select="last", average_epochs=n), small_hapt, tmp_path / f"{n}"
        )
        for n in (0, 1, 2, 5)
    }
    kept = {n: load_model(r.run_dir / "model.keras").get_weights() for n, r in runs.items()}
    for a, b in zip(kept[0], kept[1], strict=True):  # the mean of the last epoch alone
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(kept[0], kept[2], strict=True))
    for a, b in zip(kept[2], kept[5], strict=True):  # more than ran: every epoch run
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="average_epochs must be 0 or more"):
        tiny_config(epochs=2, average_epochs=-1)
