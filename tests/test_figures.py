"""The docs show measured figures through tools/figures.py, never retyped: every generated
block is up to date with benchmarks/results/."""

from __future__ import annotations

import importlib.util
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
