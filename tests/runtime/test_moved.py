"""Old import paths of moved modules keep working for a release (harlite/_moved.py): each
gives the very module at its new path, with a DeprecationWarning naming it."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import warnings

import pytest

from harlite._moved import MOVED_MODULES, MOVED_PACKAGES, new_name

pytestmark = pytest.mark.runtime

# The old paths whose new module needs only the core install (the rest need extras).
CORE = sorted(old for old, new in MOVED_MODULES.items() if new.startswith("harlite.runtime"))


@pytest.mark.parametrize("old", CORE)
def test_an_old_path_gives_the_moved_module(old, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)  # imported before: warned then
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED_MODULES[old])
    assert any(MOVED_MODULES[old] in str(w.message) for w in caught)


def test_from_an_old_package_path_a_name_imports():
    # what users wrote: ``from harlite.runtime.bundle import Bundle``
    code = "from harlite.runtime.bundle import Bundle; print(Bundle.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "harlite.runtime.model.bundle"


def test_every_new_path_exists():
    missing = []
    for new in [*MOVED_MODULES.values(), *MOVED_PACKAGES.values()]:
        if importlib.util.find_spec(new) is None:
            missing.append(new)
    assert missing == []


def test_a_moved_packages_submodule_follows_it():
    assert new_name("harlite.benchmark.run") == "harlite.bench.run"
    assert new_name("harlite.runtime.stream") is None  # did not move


ROWS, LINES = "harlite.runtime.rows", "harlite.runtime.io.lines"
# Names that moved between modules, as users imported them from their 0.1 module: (old
# module, name, where the name lives now).
OLD_NAMES = [
    ("harlite.runtime.sensorcsv", "Units", ROWS),
    ("harlite.runtime.sensorcsv", "ParsedRows", ROWS),
    ("harlite.runtime.sensorcsv", "ACC_UNITS", ROWS),
    ("harlite.runtime.sensorcsv", "GYRO_UNITS", ROWS),
    ("harlite.runtime.sensorcsv", "TIME_UNITS", ROWS),
    ("harlite.runtime.sensorcsv", "TOO_LONG", ROWS),
    ("harlite.runtime.sensorcsv", "MAX_LINE_BYTES", LINES),
    ("harlite.runtime.sensorcsv", "LineProblem", LINES),
    ("harlite.runtime.input_options", "LabelMap", ROWS),
    ("harlite.runtime.phone_align", "BACKWARDS_IN_SENSOR", ROWS),
    ("harlite.runtime.push", "OUTSIDE_GYRO", ROWS),
    ("harlite.runtime.windower", "NON_FINITE", ROWS),
    ("harlite.runtime.clock", "BACKWARDS", "harlite.runtime.signal.clock"),
    ("harlite.runtime.session", "classify_recording", "harlite.runtime.run"),
    ("harlite.runtime.session", "Prediction", "harlite.runtime.stream"),
    ("harlite.runtime.session", "LISTED_BAD_ROWS", ROWS),
]


@pytest.mark.parametrize(("old", "name", "now"), OLD_NAMES)
def test_a_name_moved_between_modules_still_imports_from_its_old_one(old, name, now):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        module = importlib.import_module(old)
    assert getattr(module, name, None) is getattr(importlib.import_module(now), name)


def test_a_name_moved_up_out_of_training_imports_only_when_asked():
    # ``evaluate`` left harlite.train.evaluation for harlite.evaluate (above training and
    # conversion): the old name finds it, while importing training alone reaches neither.
    pytest.importorskip("sklearn")
    code = (
        "import sys, warnings\n"
        "import harlite.train.evaluation as old\n"
        "above = ('harlite.convert', 'harlite.evaluate')\n"
        "print(sorted(m for m in sys.modules if m.startswith(above)))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    from harlite.train.evaluation import evaluate\n"
        "import harlite.evaluate\n"
        "print(evaluate is harlite.evaluate.evaluate, [str(w.message) for w in caught])\n"
        "print(hasattr(old, 'no_such_name'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, found, missing = out.stdout.splitlines()
    assert before == "[]"
    assert found.startswith("True") and "moved to harlite.evaluate.evaluate" in found
    assert missing == "False"
