"""The `harlite` command: --help everywhere, --version, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from harlite import __version__
from harlite.cli import cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [(), *all_commands(cli)], ids=lambda p: " ".join(p) or "harlite")
def test_help_everywhere(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "harlite.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert __version__ in result.stdout


def test_data_info_json_and_text(tiny_hapt):
    result = CliRunner().invoke(cli, ["data", "info", str(tiny_hapt), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert {"subjects", "experiments", "hours", "windows_per_class"} <= set(info)
    text = CliRunner().invoke(cli, ["data", "info", str(tiny_hapt)])
    assert "experiments  3" in text.output and "STANDING" in text.output


def test_bad_data_gives_a_message_not_a_traceback(tiny_hapt):
    (tiny_hapt / "RawData" / "labels.txt").write_text("1 1 5 100 499\n1 1 77 500 599\n")
    result = CliRunner().invoke(cli, ["data", "info", str(tiny_hapt)])
    assert result.exit_code == 1
    assert "labels.txt, line 2" in result.output and "unknown activity id 77" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
