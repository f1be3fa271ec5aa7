"""The docs show measured figures through tools/figures.py, never retyped: every generated
block is up to date with benchmarks/results/."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.runtime


def figures_module():
    spec = importlib.util.spec_from_file_location("figures", REPO / "tools" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_block_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "figures.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_a_block_is_filled_from_the_results_and_a_stale_one_is_found():
    figures = figures_module()
    text = "intro\n<!-- figures: crossval-unlike -->\nold typed figure\n<!-- /figures -->\nend\n"
    filled = figures.render(text, "doc.md")
    assert "old typed figure" not in filled and filled.startswith("intro\n")
    assert "| model | placement |" in filled and filled.endswith("<!-- /figures -->\nend\n")
    assert figures.render(filled, "doc.md") == filled
    with pytest.raises(SystemExit, match="unknown figures block 'nope'"):
        figures.render("<!-- figures: nope -->\n<!-- /figures -->", "doc.md")


def test_a_typed_figure_is_found_outside_blocks_and_fences_only():
    figures = figures_module()
    text = (
        "harlite is 0.48× the script, 95.2% right, in 7.7 ms and 115 MiB.\n"
        "Goals and rules are not figures: ≤ 0.5× the script, a 4 MiB body, 50% overlap.\n"
        "<!-- figures: speed -->\n0.37× typed in a block\n<!-- /figures -->\n"
        "```bash\nharlite stream --demo   # 1.80× in a code fence\n```\n"
        "  ```\n  indented fence: 22%\n  ```\n"
    )
    assert figures.typed_figures(text) == ["0.48×", "95.2%", "7.7 ms", "115 MiB"]


def test_no_document_types_a_figure():
    figures = figures_module()
    for document in figures.DOCUMENTS:
        if document in figures.PENDING or document.startswith("benchmarks/results/"):
            continue
        typed = figures.typed_figures((REPO / document).read_text())
        assert not typed, f"{document} types {typed}: show them through a figures block"


def test_the_rooms_picture_draws_a_cycle_as_one_box_and_leaves_out_implied_imports():
    figures = figures_module()
    edges = {"cli": {"train", "runtime"}, "train": {"runtime", "convert"},
             "convert": {"train", "runtime"}, "runtime": set()}  # fmt: skip
    picture = figures.rooms_picture(edges)
    assert '["convert ⇄ train"]' in picture and '["train"]' not in picture
    arrows = [line.strip() for line in picture.splitlines() if "-->" in line]
    assert len(arrows) == 2  # cli → box → runtime; cli → runtime is implied
    rooms = figures.room_graph()
    assert {"runtime/signal", "runtime/io", "runtime/model", "cli"} <= set(rooms)
    assert not rooms["runtime/signal"] & {"train", "convert", "cli", "serve", "batch"}


def _model_info(models, name: str, crossval: str | None) -> None:
    folder = models / name / "training"
    folder.mkdir(parents=True)
    validation = {"crossval": crossval} if crossval else {"subjects": [27, 28, 29, 30]}
    (folder / "model-info.json").write_text(json.dumps({"validation": validation}))


def test_the_tables_list_what_the_shipped_models_record(tmp_path):
    figures = figures_module()
    _model_info(tmp_path, "cnn", "crossval_cnn.json")
    _model_info(tmp_path, "lstm", "crossval_lstm-new.json")
    _model_info(tmp_path, "resbilstm", None)  # never cross-validated: left out
    crossvals = figures.shipped_crossvals(tmp_path)
    assert crossvals == {"lstm": "lstm-new", "cnn": "cnn"}  # the default first
    assert list(figures.shown(crossvals).items()) == [
        ("lstm-new", "`lstm` (default)"),
        ("lstm-mirror", "`lstm`, previous default (replaced)"),
        ("lstm-balance1-average", "`lstm`, second pocket default (replaced)"),
        ("lstm", "`lstm`, first pocket default (replaced)"),
        ("lstm-waist-only", "`lstm`, waist-only recipe (replaced)"),
        ("cnn", "`cnn`"),
    ]
    back = figures.shown({"lstm": "lstm"})  # a replaced default shipped again
    assert back["lstm"] == "`lstm` (default)" and next(iter(back)) == "lstm"


def test_two_shipped_models_naming_one_crossval_are_refused(tmp_path):
    figures = figures_module()
    _model_info(tmp_path, "cnn", "crossval_cnn.json")
    _model_info(tmp_path, "lstm", "crossval_cnn.json")
    with pytest.raises(SystemExit, match="same cross-validation"):
        figures.shipped_crossvals(tmp_path)
