"""Cross-validation: folds that spread every placement, figures per person, resuming."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from harlite.errors import HarliteError
from harlite.runtime.spec import ACTIVITY_LABELS
from harlite.train.crossval import plan_folds
from harlite.train.crossval_report import HeldOut, spread, summarize
from harlite.train.windowset import WindowSet


def people_windows(placements: dict[str, list[int]], per_person: int = 4) -> WindowSet:
    subjects = [s for people in placements.values() for s in people for _ in range(per_person)]
    where = [p for p, people in placements.items() for _ in people for _ in range(per_person)]
    n = len(subjects)
    return WindowSet(
        X=np.zeros((n, 2, 9), np.float32),
        y=np.zeros(n, np.int64),
        subject=np.array(subjects),
        experiment=np.zeros(n, np.int64),
        start=np.arange(n),
        placement=np.array(where),
    )


def test_folds_hold_every_person_once_and_spread_each_placement():
    windows = people_windows(
        {"waist": list(range(1, 22)), "pocket": [*range(1001, 1016), *range(2001, 2005)]}
    )
    groups = {int(s): "waist" if s < 1000 else f"pocket{s // 1000}" for s in windows.subjects}
    folds = plan_folds(windows, (1011, 1019), k=4, seed=0, groups=groups)
    held = [s for fold in folds for s in fold.held_out]
    assert sorted(held) == sorted(set(windows.subjects) - {1011, 1019})
    assert max(map(len, (f.held_out for f in folds))) - min(len(f.held_out) for f in folds) <= 1
    for fold in folds:
        assert any(s < 1000 for s in fold.held_out) and any(s > 1000 for s in fold.held_out)
    difronzo = [sum(s > 2000 for s in fold.held_out) for fold in folds]
    assert difronzo == [1, 1, 1, 1]  # four pocket people of one source, one per fold
    assert folds == plan_folds(windows, (1011, 1019), k=4, seed=0, groups=groups)  # seeded
    with pytest.raises(Exception, match="--folds 99"):
        plan_folds(windows, (), k=99, seed=0)


def held_out(y, predicted, subject, placement, gravity=None, swing=1.5) -> HeldOut:
    """Held-out windows; ``swing``: every window's angular rate (rad/s), a thigh's by default."""
    n = len(y)
    probabilities = np.full((n, len(ACTIVITY_LABELS)), 0.01, np.float32)
    probabilities[np.arange(n), predicted] = 0.9
    return HeldOut(
        y=np.array(y),
        probabilities=probabilities,
        subject=np.array(subject),
        experiment=np.ones(n, np.int64),
        start=np.arange(n),
        placement=np.array(placement),
        gravity=np.zeros((n, 3)) if gravity is None else np.array(gravity, float),
        swing=np.full(n, swing),
        labels=ACTIVITY_LABELS,
    )


def test_figures_are_spreads_over_people_with_the_worst_named():
    assert spread({1: 1.0, 2: 0.5, 3: 0.75}) == {
        "people": 3,
        "mean": 0.75,
        "sd": 0.2041,
        "worst": 0.5,
        "worst_person": 2,
    }
    # person 1: 10 WALKING windows, all right; person 2: 10 WALKING, 6 right, and 4 SITTING
    # windows (fewer than 5: no SITTING figure for anyone)
    y = [0] * 10 + [0] * 10 + [3] * 4
    predicted = [0] * 10 + [0] * 6 + [1] * 4 + [3] * 4
    figures = summarize(held_out(y, predicted, [1] * 10 + [2] * 14, ["waist"] * 24))["waist"]
    assert figures["accuracy"]["mean"] == pytest.approx((1.0 + 10 / 14) / 2, abs=1e-4)
    assert figures["accuracy"]["worst_person"] == 2
    walking = figures["classes"]["WALKING"]
    assert (walking["mean"], walking["worst"], walking["pooled"]) == (0.8, 0.6, 0.8)
    assert "SITTING" not in figures["classes"]


def test_the_stream_answer_applies_the_placement_rule_in_time_order():
    walking, lying, sitting = 0, 5, 3
    y = [walking] * 4 + [sitting] * 6
    predicted = [walking] * 4 + [lying] * 6
    gravity = [[0, -1, 0]] * 4 + [[0, 0, -1]] * 6  # a pocket: along y while walking
    held = held_out(y, predicted, [7] * 10, ["pocket"] * 10, gravity)
    before = summarize(held)["pocket"]["classes"]["SITTING"]["mean"]
    after = summarize(held.with_placement_rule())["pocket"]["classes"]["SITTING"]["mean"]
    assert (before, after) == (0.0, 1.0)
    shuffled = held_out(y[::-1], predicted[::-1], [7] * 10, ["pocket"] * 10, gravity[::-1])
    order = np.argsort(-np.arange(10))
    shuffled = HeldOut(**{**shuffled.__dict__, "start": order})  # same windows, stored reversed
    assert summarize(shuffled.with_placement_rule())["pocket"]["classes"]["SITTING"]["mean"] == 1
    still_phone = held_out(y, predicted, [7] * 10, ["pocket"] * 10, gravity, swing=0.3)
    # moving but not swinging as a thigh: no pocket found, the model's answer stands
    assert summarize(still_phone.with_placement_rule())["pocket"]["classes"]["SITTING"]["mean"] == 0


def test_predictions_of_an_older_harlite_are_refused_by_name(tmp_path):
    held = held_out([0, 0], [0, 0], [7, 7], ["pocket"] * 2)
    fold = tmp_path / "fold01"
    fold.mkdir()
    older = {k: v for k, v in held.__dict__.items() if k != "swing"}  # before the swing
    np.savez(fold / "predictions.npz", **older)
    with pytest.raises(HarliteError, match=r"fold01.predictions\.npz: .*older harlite.*swing"):
        HeldOut.load(tmp_path)
    np.savez(fold / "predictions.npz", **held.__dict__)
    assert HeldOut.load(tmp_path).swing.tolist() == [1.5, 1.5]


def test_cli_cross_validation_writes_figures_and_resumes(small_hapt, tmp_path, monkeypatch):
    pytest.importorskip("tf_keras", reason="training needs the [train] extra")
    from harlite.cli import cli

    out = tmp_path / "cv"
    args = ["train", "--preset", "cnn", "--data", str(small_hapt), "--out", str(out)]
    args += ["--epochs", "1", "--batch-size", "16", "--folds", "3", "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["folds_done"] == 3 and set(printed["placements"]) == {"waist"}
    summary = json.loads((out / "cv.json").read_text())
    assert summary["model"]["waist"]["accuracy"]["people"] == 3  # subjects 1, 3, 5; 2 is test
    assert sorted(s for fold in summary["folds"] for s in fold) == [1, 3, 5]
    assert summary["config"]["select"] == "best"  # as asked; every fold kept its last epoch
    assert all(
        json.loads((out / f"fold0{i}" / "config.json").read_text())["select"] == "last"
        for i in (1, 2, 3)
    )
    assert "| waist | 3 |" in (out / "cv.md").read_text()
    stamp = (out / "fold01" / "model.keras").stat().st_mtime_ns
    again = CliRunner().invoke(cli, args)  # resumes: every fold is done, none trains again
    assert again.exit_code == 0 and json.loads(again.output)["folds_done"] == 3
    assert (out / "fold01" / "model.keras").stat().st_mtime_ns == stamp

    def no_session(*args, **kwargs):
        raise AssertionError("a finished cross-validation started (or joined) Ray")

    monkeypatch.setattr("harlite.batch.ray_engine.ray_session", no_session)
    on_ray = CliRunner().invoke(cli, [*args, "--engine", "ray"])  # nothing left to run
    assert on_ray.exit_code == 0, on_ray.output
    plan = json.loads((out / "folds.json").read_text())
    del plan["config"]["average_epochs"]  # planned before that setting existed: its default
    (out / "folds.json").write_text(json.dumps(plan))
    assert CliRunner().invoke(cli, args).exit_code == 0
    other = CliRunner().invoke(cli, [*args[:-1], "--seed", "5", "--quiet"])
    assert other.exit_code != 0 and "other settings" in other.output


def test_the_engines_the_cli_offers_are_the_ones_the_library_runs():
    from harlite.batch.job import ENGINES
    from harlite.cli.options import ENGINE_CHOICE

    assert tuple(ENGINE_CHOICE.choices) == ENGINES
