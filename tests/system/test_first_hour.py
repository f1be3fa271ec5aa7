"""The first hour of a new user (issue 14): clear messages where a traceback or silence was,
shipped model names everywhere a bundle is taken, accuracy figures that say whether the
subjects were in training, progress lines when training is not on a terminal, options
checked before the pipeline's first stage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.shipped import model_path


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# --- item 2: a shipped model has no validation subjects --------------------------------


def test_02_split_val_of_a_model_without_validation_subjects_is_a_clear_error(tiny_hapt):
    result = invoke("evaluate", "lstm", "--data", str(tiny_hapt), "--split", "val")
    assert result.exit_code == 1, result.output
    assert "no validation subjects" in result.output and "--split test" in result.output
    assert "Traceback" not in result.output


# --- item 3: the core install names the extra to install --------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "lstm", "--data", "DATA"],
        ["train", "--data", "DATA", "--out", "OUT"],
        ["convert", "lstm", "--data", "DATA", "--out", "OUT"],
        ["pipeline", "--data", "DATA", "--out", "OUT", "--quick"],
    ],
)
def test_03_missing_training_libraries_name_the_install_command(tiny_hapt, tmp_path, args):
    args = [str(tiny_hapt) if a == "DATA" else str(tmp_path / "o") if a == "OUT" else a
            for a in args]  # fmt: skip
    program = (
        "import sys\n"
        "for name in ('sklearn', 'tensorflow', 'tf_keras', 'matplotlib'):\n"
        "    sys.modules[name] = None  # as on the core install\n"
        "from harlite.cli import main\n"
        f"sys.argv = ['harlite', *{args!r}]\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 1, result.stderr
    assert "pip install 'harlite[train]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o" / "report.md").exists()


# --- item 4: shipped names everywhere a bundle is taken ----------------------------------


def test_04_verify_evaluate_and_convert_take_shipped_model_names(tiny_hapt, tmp_path):
    result = invoke("verify", "lstm")
    assert result.exit_code == 0, result.output
    result = invoke("evaluate", "lstm", "--data", str(tiny_hapt), "--artifact", "float32",
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["model"] == str(model_path("lstm"))
    result = invoke("verify", "no-such-model")
    assert result.exit_code != 0 and "no shipped model 'no-such-model'" in result.output


# --- item 7: every accuracy says whether its subjects were in training ------------------


def test_07_evaluate_says_when_the_subjects_were_in_training(tiny_hapt):
    result = invoke("evaluate", "lstm", "--data", str(tiny_hapt), "--artifact", "float32")
    assert result.exit_code == 0, result.output
    assert "in this model's training data" in result.output
    result = invoke("evaluate", "lstm", "--data", str(tiny_hapt), "--artifact", "float32",
                    "--json")  # fmt: skip
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["subjects_seen_in_training"] == report["subjects"]


def test_07_bench_says_where_its_accuracy_was_measured():
    result = invoke("bench", "lstm", "--invokes", "20", "--no-tensorflow", "--backends",
                    "ai_edge_litert")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "val acc" in result.output and "in this model's training data" in result.output


# --- item 10: training progress when not on a terminal ----------------------------------


def test_10_training_logs_epoch_lines_when_not_on_a_terminal(small_hapt, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["train", "--data", str(small_hapt), "--out", str(tmp_path / "run"), "--epochs", "3",
         "--batch-size", "16", "--val-subjects", "5"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 3 and "val_acc" in lines[-1] and "ETA" in lines[0]


# --- item 11: the pipeline checks its options before any stage ---------------------------


def test_11_a_misspelled_preset_stops_the_pipeline_before_its_first_stage(tiny_hapt, tmp_path):
    out = tmp_path / "pipeline"
    result = invoke("pipeline", "--quick", "--data", str(tiny_hapt), "--out", str(out),
                    "--preset", "lsmt")  # fmt: skip
    assert result.exit_code != 0 and "unknown preset 'lsmt'" in result.output
    assert "[1/6]" not in result.output and not out.exists()
