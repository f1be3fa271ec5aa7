"""Shared fixtures: tiny data sets written by the tests, and the real recordings in ../shared."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.builders import write_hapt, write_uci_har

REPO = Path(__file__).resolve().parents[1]
SHARED_HAPT = Path(os.environ.get("HARLITE_SHARED_HAPT", REPO.parent / "shared" / "data" / "hapt"))
SHARED_SPSW = REPO.parent / "shared" / "data" / "sp-sw"
SHARED_DIFRONZO = REPO.parent / "shared" / "data" / "difronzo-pocket"


#: Cases generated per fuzz/property test, reported at the end of the run.
FUZZ_CASES: Counter[str] = Counter()


def count_case(name: str) -> None:
    """Count one generated case of a fuzz test (see pytest_terminal_summary)."""
    FUZZ_CASES[name] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    if FUZZ_CASES:
        terminalreporter.section("fuzz and property cases generated")
        for name, count in sorted(FUZZ_CASES.items()):
            terminalreporter.write_line(f"{count:>6}  {name}")
        terminalreporter.write_line(f"{sum(FUZZ_CASES.values()):>6}  in all")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own window cache, so no test reads another's entries."""
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def shared_hapt() -> Path:
    """The real HAPT recordings of the 21 training subjects (skips when absent)."""
    if not (SHARED_HAPT / "RawData" / "labels.txt").is_file():
        pytest.skip(f"real recordings not found at {SHARED_HAPT} (CI has them in ../shared)")
    return SHARED_HAPT


@pytest.fixture
def shared_spsw() -> Path:
    """The settings file of the real sp-sw trouser-pocket recordings, labelled with the six
    HAR classes (skips when the recordings are absent)."""
    if not (SHARED_SPSW / "DATA" / "executions_info.csv").is_file():
        pytest.skip(f"sp-sw recordings not found at {SHARED_SPSW} (CI has them in ../shared)")
    return REPO / "benchmarks" / "datasets" / "sp-sw-har.toml"


@pytest.fixture
def shared_difronzo() -> Path:
    """The real difronzo-pocket recordings (a Galaxy S8 in a trouser pocket, five
    activities; skips when absent)."""
    if not (SHARED_DIFRONZO / "exp01_user01.csv").is_file():
        pytest.skip(f"difronzo-pocket not found at {SHARED_DIFRONZO} (CI has it in ../shared)")
    return SHARED_DIFRONZO


@pytest.fixture
def tiny_hapt(tmp_path) -> Path:
    """Two subjects, three experiments, segments of basic activities and a transition."""
    return write_hapt(
        tmp_path / "hapt",
        {(1, 1): 1000, (2, 1): 700, (3, 3): 900},
        [
            (1, 1, 5, 100, 499),  # STANDING, 400 samples
            (1, 1, 7, 500, 599),  # STAND_TO_SIT: transitions give no windows
            (1, 1, 4, 600, 999),  # SITTING up to the last sample
            (2, 1, 1, 0, 300),
            (3, 3, 6, 64, 191),  # exactly one grid-aligned window
            (3, 3, 2, 300, 800),
        ],
    )


@pytest.fixture
def tiny_uci(tmp_path):
    """A UCI HAR folder with 5 train and 3 test windows, and the arrays written to it."""
    rng = np.random.default_rng(1)
    arrays = {
        "train": (
            rng.standard_normal((5, 128, 9)),
            np.array([1, 2, 3, 4, 5]),
            np.array([1, 1, 3, 3, 5]),
        ),
        "test": (rng.standard_normal((3, 128, 9)), np.array([6, 6, 1]), np.array([2, 2, 4])),
    }
    return write_uci_har(tmp_path / "uci", arrays), arrays


@pytest.fixture(scope="session")
def small_hapt(tmp_path_factory) -> Path:
    """Subjects 1 and 3 (training), 5 (validation) and 2 (a standard test subject), each
    with 320-sample segments of four activities."""
    experiments, segments = {}, []
    for experiment, user in enumerate((1, 3, 5, 2), start=1):
        experiments[(experiment, user)] = 1400
        for i, activity in enumerate((1, 4, 5, 6)):
            segments.append((experiment, user, activity, 20 + 340 * i, 20 + 340 * i + 319))
    return write_hapt(tmp_path_factory.mktemp("small") / "hapt", experiments, segments)


@pytest.fixture(scope="module")
def lstm_classifier_factory():
    """Makes StreamClassifiers of the shipped lstm bundle with the given settings."""
    from harlite.runtime.stream import StreamClassifier
    from harlite.shipped import model_path

    def make(**kwargs):
        return StreamClassifier(model_path("lstm"), **kwargs)

    return make


@pytest.fixture
def recordings(tmp_path) -> Path:
    """Four labelled canonical CSV recordings of 700–1,300 samples (batch tests)."""
    from tests.cli.test_stream_cli import write_csv

    folder = tmp_path / "recordings"
    folder.mkdir()
    for i, n in enumerate((900, 1300, 700, 1100)):
        write_csv(folder / f"rec{i}.csv", n, seed=i, label="WALKING")
    return folder


@pytest.fixture(scope="session")
def lstm_phone_page(tmp_path_factory) -> Path:
    """`harlite export web lstm`, made once per run (skipped, with the reason, without
    TensorFlow or the WebAssembly toolchain: clang, lld, wasi-libc)."""
    pytest.importorskip("tensorflow")
    from harlite.convert.export_web import export_web, wasm_toolchain
    from harlite.errors import HarliteError

    try:
        wasm_toolchain()
    except HarliteError as missing:
        pytest.skip(str(missing))
    out = tmp_path_factory.mktemp("phone_page")
    export_web(Path(__file__).resolve().parents[1] / "harlite" / "models" / "lstm", out)
    return out
