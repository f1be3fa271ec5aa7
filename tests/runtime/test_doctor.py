"""harlite.runtime.doctor and the interpreter choice when a backend cannot run here."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from harlite.cli import cli
from harlite.errors import HarliteError
from harlite.runtime.doctor import diagnose, install_command
from harlite.runtime.model import tflite_model as interpreter

pytestmark = pytest.mark.runtime


def test_doctor_names_the_interpreter_that_runs_and_checks_it():
    diagnosis = diagnose()
    assert diagnosis.runs in interpreter.available_backends()
    assert diagnosis.check.startswith("ok: the shipped lstm ran one window on")
    assert [b.name for b in diagnosis.backends] == list(interpreter.BACKENDS)
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["runs"] == diagnosis.runs
    assert diagnosis.filters.startswith("scipy's compiled sosfilt kernel")
    assert "filters: scipy's compiled sosfilt kernel" in diagnosis.format()
    # everything works here: nothing to install (not an extra the plain install has)
    assert f"install here: nothing more ({diagnosis.runs} runs" in diagnosis.format()


@pytest.mark.parametrize(
    ("machine", "bits", "extra"),
    [
        ("x86_64", 64, "pip install . "),  # the plain install brings ai-edge-litert there
        ("AMD64", 64, "pip install . "),
        ("aarch64", 64, "harlite[litert]"),
        ("aarch64", 32, "harlite[tflite-runtime]"),  # 32-bit Pi OS on a 64-bit kernel
        ("armv8l", 32, "harlite[tflite-runtime]"),
        ("armv7l", 32, "harlite[tflite-runtime]"),
    ],
)
def test_the_install_command_fits_the_userland(machine, bits, extra):
    command = install_command(machine, bits)
    assert extra in command
    assert ("--system-site-packages" in command) == (bits == 32)


def _numpy2_with_tflite_runtime(monkeypatch):
    """tflite-runtime 2.14 installed beside numpy 2 (what an uncapped armv7l install gets)."""
    real = interpreter.installed_version
    monkeypatch.setattr(
        interpreter,
        "installed_version",
        lambda name: "2.14.0" if name == "tflite-runtime" else real(name),
    )
    monkeypatch.setattr(interpreter.np, "__version__", "2.1.0")


def test_tflite_runtime_with_numpy_2_is_named_with_its_fix(monkeypatch):
    others = [name for name in interpreter.available_backends() if name != "tflite_runtime"]
    _numpy2_with_tflite_runtime(monkeypatch)
    problem = interpreter.backend_problem("tflite_runtime")
    assert "built for numpy 1" in problem and "pip install 'numpy<2'" in problem
    with pytest.raises(HarliteError, match="built for numpy 1"):
        interpreter.interpreter_class("tflite_runtime")
    # chosen automatically, it is skipped for the next interpreter that can run, if any
    assert "tflite_runtime" not in interpreter.available_backends()
    if others:
        assert interpreter.interpreter_class(None)[0] == others[0]
    else:  # an install with tflite-runtime alone: the error names the problem and the fix
        with pytest.raises(HarliteError, match="built for numpy 1"):
            interpreter.interpreter_class(None)
    status = {b.name: b.status for b in diagnose(check_model=False).backends}
    assert "built for numpy 1" in status["tflite_runtime"]


def test_no_interpreter_at_all_names_the_install_command(monkeypatch):
    def missing(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(interpreter, "_load_interpreter", missing)
    monkeypatch.setattr(interpreter, "installed_version", lambda name: None)
    with pytest.raises(HarliteError, match=r"none is installed.*harlite\[litert\]"):
        interpreter.interpreter_class(None)
