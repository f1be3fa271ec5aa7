"""`harlite pipeline`: the quick run on the real recordings, and a failing stage."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from harlite.cli import cli


def test_quick_pipeline_produces_a_complete_report(shared_hapt, tmp_path):
    out = tmp_path / "pipeline"
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "pipeline", "--quick", "--data", str(shared_hapt),
         "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in ("[1/6] data", "[2/6] train", "[3/6] convert", "[4/6] verify", "[5/6] bench",
                  "[6/6] stream"):  # fmt: skip
        assert stage in result.stderr
    report = (out / "report.md").read_text()
    assert "All stages completed." in report
    sections = ["## Data", "## Training and validation", "## Bundle"]
    sections += ["## Size, latency and accuracy", "## A streamed validation recording"]
    for section in sections:
        assert section in report
    for image in ("run/history.png", "run/confusion.png", "run/per_subject.png",
                  "bench/bench.png", "stream/timeline.png"):  # fmt: skip
        assert f"({image})" in report
        assert (out / image).stat().st_size > 5000
    for artifact in ("keras", "pb", "float32", "dynamic", "int8"):
        assert f"| {artifact} |" in report
    assert "faster than Keras predict_on_batch" in report
    assert (out / "bundle" / "manifest.json").is_file()
    assert (out / "stream" / "predictions.jsonl").read_text().count("\n") > 100


def test_a_failing_stage_is_named_and_earlier_work_kept(tiny_hapt, tmp_path):
    out = tmp_path / "pipeline"
    # The tiny data set has none of the validation subjects 27-30: training cannot start.
    # (A misspelled preset no longer gets this far: it is refused before the first stage.)
    result = CliRunner().invoke(
        cli, ["pipeline", "--quick", "--data", str(tiny_hapt), "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "stage 'train' failed: validation subjects" in result.output
    report = (out / "report.md").read_text()
    assert "Stopped: stage **train** failed" in report
    assert "## Data" in report  # the data stage's figures are kept


def test_a_mixture_file_is_taken_as_data(tiny_hapt, tmp_path):
    """`--data` takes a mixture .toml (the shipped default's data), not only a folder."""
    mixture = tmp_path / "mix.toml"
    mixture.write_text(f'[[parts]]\ndata = "{tiny_hapt}"\nplacement = "waist"\n')
    out = tmp_path / "pipeline"
    result = CliRunner().invoke(
        cli, ["pipeline", "--quick", "--data", str(mixture), "--out", str(out)]
    )
    assert "is a file" not in result.output
    assert "stage 'train' failed" in result.output  # the data stage read it; tiny: no 27-30
    assert "(mixture)" in (out / "report.md").read_text()


def test_the_stream_stage_finds_a_validation_recording_in_a_mixture(
    shared_hapt, shared_spsw, tmp_path
):
    from harlite.pipeline import _recording_to_stream
    from tests.conftest import REPO

    anywhere = REPO / "benchmarks" / "datasets" / "anywhere.toml"
    _, waist, title, _ = _recording_to_stream(anywhere, [27, 1016], tmp_path)
    assert "subject 27" in title and waist.is_file()
    _, pocket, title, rule = _recording_to_stream(anywhere, [1016], tmp_path)
    assert "subject 16" in title and pocket.name.startswith("s16") and rule == "majority"


def test_the_report_says_when_quick_undertrains_and_why_training_trails_validation(tmp_path):
    from types import SimpleNamespace

    from harlite.pipeline import PipelineState, _training_notes
    from harlite.train.models import get_preset

    state = PipelineState(tmp_path, True, "lstm", None)
    state.run_dir.mkdir()
    val = [0.5 + 0.01 * epoch for epoch in range(25)]  # still rising at epoch 25 of 25
    history = {"accuracy": [v - 0.05 for v in val], "val_accuracy": val}
    (state.run_dir / "history.json").write_text(json.dumps(history))
    state.trained = SimpleNamespace(best_epoch=25, epochs_run=25)
    state.config = get_preset("lstm").config()
    rising, trailing = _training_notes(state)
    assert "still rising" in rising and "`--quick` trains 25 epochs" in rising
    assert "below validation accuracy" in trailing and "rotated up to" in trailing
    history = {"accuracy": [0.95] * 25, "val_accuracy": [0.9] * 25}  # flat, training above
    (state.run_dir / "history.json").write_text(json.dumps(history))
    assert _training_notes(state) == []


def test_the_pipelines_bundle_has_every_artefact_convert_makes_by_default():
    from harlite.convert.bundle_writer import DEFAULT_FORMATS
    from harlite.pipeline import FORMATS

    assert set(DEFAULT_FORMATS) <= set(FORMATS)
