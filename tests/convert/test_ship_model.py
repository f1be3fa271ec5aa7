"""tools/ship_model.py --record-crossval: a model shipped before its recipe was
cross-validated gets the held-out people's figures in its model-info, without retraining."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil

import pytest

from harlite.shipped import MODELS_DIR
from tests.conftest import REPO

RESULTS = REPO / "benchmarks" / "results"


@pytest.fixture
def ship_model(tmp_path, monkeypatch):
    """tools/ship_model.py loaded as a module, its models folder a copy of cnn's record."""
    spec = importlib.util.spec_from_file_location("ship_model", REPO / "tools" / "ship_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "cnn" / "training").mkdir(parents=True)
    info = json.loads((MODELS_DIR / "cnn" / "training" / "model-info.json").read_text())
    info.pop("validation_run", None)
    info["validation"] = {"subjects": [27, 28, 29, 30], "accuracy": 0.96}
    (tmp_path / "cnn" / "training" / "model-info.json").write_text(json.dumps(info))
    shutil.copy(MODELS_DIR / "cnn" / "training" / "config.json", tmp_path / "cnn" / "training")
    monkeypatch.setattr(module, "MODELS_DIR", tmp_path)
    return module


def test_recording_a_crossval_keeps_the_validation_run(ship_model, tmp_path):
    results = RESULTS / "crossval_cnn.json"
    info = ship_model.record_crossval("cnn", results)
    cv = json.loads(results.read_text())["float32"]["waist"]["accuracy"]
    assert info["validation"]["crossval"] == "crossval_cnn.json"
    assert info["validation"]["by_placement"]["waist"]["worst"] == cv["worst"]
    assert len(info["validation"]["by_placement"]["waist"]["subjects"]) == 21
    assert info["validation_run"] == {"subjects": [27, 28, 29, 30], "accuracy": 0.96}
    again = ship_model.record_crossval("cnn", results)  # a second recording keeps the run
    assert again["validation_run"] == info["validation_run"]
    written = json.loads((tmp_path / "cnn" / "training" / "model-info.json").read_text())
    assert written == again


def test_another_presets_or_recipes_crossval_is_refused(ship_model, tmp_path):
    with pytest.raises(SystemExit, match="cross-validated 'lstm', not 'cnn'"):
        ship_model.record_crossval("cnn", RESULTS / "crossval_lstm.json")
    mixture = RESULTS / "crossval_cnn-anywhere-balance.json"  # not the waist-only cnn shipped
    with pytest.raises(SystemExit, match=r"another recipe: .*placement_aug"):
        ship_model.record_crossval("cnn", mixture)
    elsewhere = tmp_path / "crossval_cnn.json"
    shutil.copy(RESULTS / "crossval_cnn.json", elsewhere)
    with pytest.raises(SystemExit, match="live in"):
        ship_model.record_crossval("cnn", elsewhere)
    with pytest.raises(SystemExit, match=r"crossval_nope\.json"):
        ship_model.record_crossval("cnn", RESULTS / "crossval_nope.json")


def test_shipping_results_of_another_recipe_than_the_presets_is_refused(ship_model):
    """The previous default's results, made before the preset changed, would train today's
    recipe under their figures: refused before any training."""
    args = argparse.Namespace(preset="lstm", crossval=RESULTS / "crossval_lstm.json")
    with pytest.raises(SystemExit, match=r"another recipe: .*balance"):
        ship_model.ship_crossvalidated(args)


def test_a_model_shipped_by_crossval_gets_only_its_own_results_again(ship_model, tmp_path):
    path = tmp_path / "cnn" / "training" / "model-info.json"
    stale = {"crossval": "crossval_cnn.json", "accuracy": 0.5}  # answered before a rule change
    path.write_text(json.dumps({"epochs": 150, "validation": stale}))
    with pytest.raises(SystemExit, match=r"shipped by cross-validation \(crossval_cnn\.json\)"):
        ship_model.record_crossval("cnn", RESULTS / "crossval_cnn-first-run.json")
    info = ship_model.record_crossval("cnn", RESULTS / "crossval_cnn.json")
    cv = json.loads((RESULTS / "crossval_cnn.json").read_text())["float32"]["waist"]["accuracy"]
    assert info["validation"]["accuracy"] == cv["mean"] != 0.5
    assert "validation_run" not in info and json.loads(path.read_text()) == info


def test_a_final_run_that_fits_its_own_people_worse_than_the_folds_is_not_shipped(ship_model):
    """The default recipe with the time warp, trained once on everyone, read a pocket
    person's standing as sitting: 74% of that person right, who was 94% right held out."""
    held_out = {2004: 0.938, 29: 0.907, 1001: 1.0}
    windows = {2004: 448, 29: 333, 1001: 33, 7: 292}
    bad = {2004: 0.741, 29: 0.805, 1001: 1.0}
    short = ship_model.fit_shortfalls(bad, held_out, windows)
    assert short == {2004: (74.1, 93.8), 29: (80.5, 90.7)}
    # a final run a few points below for every person: kept
    assert ship_model.fit_shortfalls({2004: 0.971, 29: 0.922, 1001: 0.97}, held_out, windows) == {}
    # people the cross-validation did not hold out are not judged
    assert ship_model.fit_shortfalls({7: 0.1}, held_out, windows) == {}


def test_a_few_windows_of_a_small_recording_do_not_refuse_a_final_run(ship_model):
    """3 of 33 windows are 9 points: too few windows to say the run fits that person badly;
    5 of them are enough."""
    held_out, windows = {1001: 1.0}, {1001: 33}
    assert ship_model.fit_shortfalls({1001: 30 / 33}, held_out, windows) == {}
    assert ship_model.fit_shortfalls({1001: 28 / 33}, held_out, windows) == {1001: (84.8, 100.0)}


def test_seeds_are_trained_in_turn_until_a_final_run_fits_its_own_people(
    ship_model, tmp_path, monkeypatch
):
    """Which seed ships is judged on the training people alone: the first run that fits them
    as well as the folds read them held out; the refused ones are kept in the record."""
    trained = []

    def train(config, data, run):
        trained.append(config)
        return argparse.Namespace(interrupted=False)

    monkeypatch.setattr(ship_model, "train", train)
    fits = {3: {2004: (74.1, 93.8)}, 5: {}, 8: {}}
    monkeypatch.setattr(
        ship_model, "final_fit_shortfalls", lambda run, data, results: fits[int(run.name[10:])]
    )
    config = ship_model.TrainConfig(seed=0)
    run, refused = ship_model.fitting_final_run(config, tmp_path, {}, (3, 5, 8), tmp_path)
    assert run == tmp_path / "final-seed5" and refused == {3: {2004: (74.1, 93.8)}}
    assert [c.seed for c in trained] == [3, 5]  # seed 8 never trained
    assert all(c == config.override(seed=c.seed) for c in trained)
    fits[5] = {29: (80.5, 90.7)}
    with pytest.raises(
        SystemExit, match=r"every final run .*seed 3: #2004 74.1% .*; seed 5: #29 80.5%"
    ):
        ship_model.fitting_final_run(config, tmp_path, {}, (3, 5), tmp_path)


def test_seeds_option_is_checked(ship_model):
    assert ship_model.parse_seeds(None, 0) == (0,)
    assert ship_model.parse_seeds("1,2,7", 0) == (1, 2, 7)
    with pytest.raises(SystemExit, match=r"--seeds: comma-separated whole numbers, not '1,x'"):
        ship_model.parse_seeds("1,x", 0)
    with pytest.raises(SystemExit, match="repeats a seed"):
        ship_model.parse_seeds("1,1", 0)
    with pytest.raises(SystemExit, match=r"each seed lies in 0\.\.2\*\*32 - 1, not '0,-1'"):
        ship_model.parse_seeds("0,-1", 0)
    with pytest.raises(SystemExit, match="comma-separated"):
        ship_model.parse_seeds("", 0)


def test_a_setting_older_configs_lack_counts_as_its_default(ship_model):
    """A setting added later was at its default before it existed; a default of None (the
    waist's rotation bound: "as everywhere else") is not the same recipe as 0 (none)."""
    old = {"balance": 0.5}
    assert ship_model.recipe_differences(old, {"balance": 0.5, "time_warp": 0.0}) == {}
    assert ship_model.recipe_differences(old, {"balance": 0.5, "waist_rotation_deg": None}) == {}
    assert ship_model.recipe_differences(old, {"balance": 0.5, "waist_rotation_deg": 0}) == {
        "waist_rotation_deg": (None, 0)
    }


def test_a_kept_final_run_may_have_any_seed_but_must_be_whole_and_of_the_recipe(
    ship_model, tmp_path, monkeypatch
):
    monkeypatch.setattr(ship_model, "final_fit_shortfalls", lambda run, data, results: {})
    config = ship_model.TrainConfig(seed=0, epochs=300, time_warp=0.2)
    run = tmp_path / "run"
    run.mkdir()

    def kept(trained, report):
        trained.save(run / "config.json")
        (run / "report.json").write_text(json.dumps(report))
        return ship_model.kept_final_run(run, config, tmp_path, {})

    whole = {"epochs_run": 300, "interrupted": False}
    assert kept(config.override(seed=4), whole) == run
    with pytest.raises(SystemExit, match="other settings"):
        kept(config.override(time_warp=0.1), whole)
    with pytest.raises(SystemExit, match="stopped before its 300 epochs"):
        kept(config, {"epochs_run": 120, "interrupted": True})


def test_a_final_run_on_other_people_than_the_crossvalidations_is_refused(
    ship_model, tmp_path, monkeypatch
):
    """Trained on HAPT alone, a run would be judged on no pocket person: refused."""
    from harlite.train.evaluation import EvaluationReport

    report = EvaluationReport.__new__(EvaluationReport)
    report.per_subject = {"1": {"accuracy": 1.0, "windows": 300}}
    monkeypatch.setattr(ship_model, "evaluate_keras", lambda model, windows: report)
    monkeypatch.setattr(ship_model, "load_model", lambda path: None)
    monkeypatch.setattr(ship_model, "windows_for_model", lambda data, config: None)
    ship_model.TrainConfig().save(tmp_path / "config.json")
    results = {
        "data": "benchmarks/datasets/anywhere.toml",
        "keras": {"waist": {"people": {"1": 1.0}}, "pocket": {"people": {"1001": 1.0}}},
    }
    with pytest.raises(SystemExit, match=r"none of #1001 .*--data benchmarks/datasets/anywhere"):
        ship_model.final_fit_shortfalls(tmp_path, tmp_path / "hapt", results)
    report.per_subject["1001"] = {"accuracy": 0.5, "windows": 40}
    assert ship_model.final_fit_shortfalls(tmp_path, tmp_path, results) == {1001: (50.0, 100.0)}
