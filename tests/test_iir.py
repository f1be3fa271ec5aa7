"""The filter bank without ``import scipy.signal``: scipy's compiled sosfilt kernel loaded on
its own gives ``scipy.signal.sosfilt``'s output bit for bit (and falls back to it), and the
designed coefficients are cached exactly (runtime-only)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from harlite.folders import cache_dir
from harlite.runtime import filter_cache, iir
from harlite.runtime.signal.filter_cache import (
    FILTER_CACHE,
    FilterCoefficients,
    filter_coefficients,
)
from harlite.runtime.signal.preprocessing import FilterDesign, Preprocessor

pytestmark = pytest.mark.runtime

CASES = [
    (sections, channels, length)
    for sections in (1, 2, 4)
    for channels in (1, 3, 6)
    for length in (0, 1, 2, 17, 1000)
]


def random_filter(sections: int, channels: int, seed: int):
    rng = np.random.default_rng(seed)
    sos = signal.butter(2 * sections, rng.uniform(0.05, 0.9), output="sos")
    zi = rng.normal(size=(sections, 2, channels))
    return sos, zi


@pytest.mark.parametrize(("sections", "channels", "length"), CASES)
def test_equals_scipy_sosfilt_bit_for_bit_and_leaves_inputs_alone(sections, channels, length):
    sos, zi = random_filter(sections, channels, seed=sections * 100 + channels * 10 + length)
    x = np.random.default_rng(length).normal(size=(length, channels)) * 3
    x_before, zi_before = x.copy(), zi.copy()
    y, zf = iir.sosfilt(sos, x, zi)
    if length == 0:  # scipy.signal.sosfilt itself fails on no samples: nothing in, no change
        y_ref, zf_ref = x, zi
    else:
        y_ref, zf_ref = signal.sosfilt(sos, x, axis=0, zi=zi)
    assert y.shape == y_ref.shape and zf.shape == zf_ref.shape
    assert np.array_equal(y, y_ref) and np.array_equal(zf, zf_ref)
    assert np.array_equal(x, x_before) and np.array_equal(zi, zi_before)


def test_takes_views_other_dtypes_and_read_only_arrays():
    sos, zi = random_filter(2, 3, seed=1)
    wide = np.asfortranarray(np.random.default_rng(2).normal(size=(500, 7)))
    x = wide[::2, 1:4].astype(np.float32)  # strided, Fortran-ordered, float32
    sos.setflags(write=False)
    zi.setflags(write=False)
    y, zf = iir.sosfilt(sos, x, zi)
    y_ref, zf_ref = signal.sosfilt(sos.copy(), x.astype(np.float64), axis=0, zi=zi)
    assert np.array_equal(y, y_ref) and np.array_equal(zf, zf_ref)


def test_runs_the_compiled_kernel_here():
    assert iir.kernel_in_use() == "compiled kernel"


def test_falls_back_to_scipy_signal_when_the_kernel_is_missing(monkeypatch):
    monkeypatch.setattr(iir, "_FILTER", None)
    monkeypatch.setattr(iir, "_kernel", lambda: None)
    assert iir.kernel_in_use() == "scipy.signal"
    sos, zi = random_filter(2, 6, seed=3)
    x = np.random.default_rng(3).normal(size=(300, 6))
    expected = signal.sosfilt(sos, x, axis=0, zi=zi)
    sos.setflags(write=False)  # as the cached coefficients are
    assert all(np.array_equal(a, b) for a, b in zip(iir.sosfilt(sos, x, zi), expected, strict=True))


@pytest.mark.parametrize(
    "kernel",
    [
        lambda sos, x, zi: None,  # leaves its input as it was
        lambda sos, x, zi: x.__imul__(2),  # some other computation
        lambda sos, x: None,  # another signature
    ],
)
def test_a_kernel_that_does_not_filter_as_sosfilt_does_is_refused(kernel):
    assert not iir._passes_check(kernel)


def test_scipy_signal_imported_after_the_kernel_still_works_and_agrees(tmp_path):
    """In a fresh process: filtering with a cached design imports no scipy.signal; importing
    it afterwards reuses the loaded kernel (Cython refuses to initialise one twice)."""
    probe = """
import sys
import numpy as np
from harlite.runtime.signal.preprocessing import Preprocessor
from harlite.runtime.signal._sosfilt import kernel_in_use
x = np.random.default_rng(5).normal(size=(2000, 6))
out = Preprocessor().process(x)
loaded = "scipy.signal" in sys.modules
from scipy import signal
sos = signal.butter(3, 0.3, output="sos")
y, _ = signal.sosfilt(sos, x, axis=0, zi=np.zeros((2, 2, 6)))
print(loaded, kernel_in_use(), float(out.sum()), float(y.sum()))
"""
    env = {"HARLITE_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (run.stdout.split() for run in runs)
    assert first[0] == "True"  # designed now: scipy.signal imported for butter
    assert second[:2] == ["False", "compiled"]  # cached: no scipy.signal until asked for
    assert first[2:] == second[2:]  # the same output either way


@pytest.fixture
def fresh_coefficients(tmp_path, monkeypatch):
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path))
    filter_coefficients.cache_clear()
    yield tmp_path / FILTER_CACHE
    filter_coefficients.cache_clear()


def test_cached_coefficients_equal_the_designed_ones_exactly(fresh_coefficients):
    design = FilterDesign(gravity_cutoff_hz=0.25, order=4)
    designed = filter_cache.design_coefficients(design)
    first = filter_coefficients(design)
    assert fresh_coefficients.is_file()
    filter_coefficients.cache_clear()
    read_back = filter_coefficients(design)
    for name in ("noise_sos", "gravity_sos", "noise_zi", "gravity_zi"):
        for got in (first, read_back):
            assert np.array_equal(getattr(got, name), getattr(designed, name))
            assert not getattr(got, name).flags.writeable
    assert np.array_equal(designed.noise_zi, signal.sosfilt_zi(designed.noise_sos))


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        "[]",
        "WRONG_SHAPE",
        "NAN",
    ],
)
def test_a_damaged_cache_is_designed_again_and_mended(fresh_coefficients, damage):
    design = FilterDesign()
    good = filter_coefficients(design)
    key = next(iter(json.loads(fresh_coefficients.read_text())))
    entry = good.to_dict()
    if damage == "WRONG_SHAPE":
        entry["noise_zi"] = [[0.0, 1.0, 2.0]]
        damage = json.dumps({key: entry})
    elif damage == "NAN":
        entry["gravity_sos"][0][0] = float("nan")
        damage = json.dumps({key: entry})  # NaN: not strict JSON, read back by json.loads
    fresh_coefficients.write_text(damage)
    filter_coefficients.cache_clear()
    again = filter_coefficients(design)
    assert np.array_equal(again.gravity_sos, good.gravity_sos)
    assert np.array_equal(again.noise_zi, good.noise_zi)
    assert FilterCoefficients.from_dict(json.loads(fresh_coefficients.read_text())[key])


def test_an_unwritable_cache_folder_costs_time_not_results(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(blocker / "cache"))
    filter_coefficients.cache_clear()
    try:
        x = np.random.default_rng(7).normal(size=(400, 6))
        out = Preprocessor().process(x)
    finally:
        filter_coefficients.cache_clear()
    monkeypatch.setenv("HARLITE_CACHE_DIR", str(tmp_path / "ok"))
    assert np.array_equal(out, Preprocessor().process(x))
    assert cache_dir() == tmp_path / "ok"


def test_the_cache_key_names_the_design_and_the_scipy_version(fresh_coefficients):
    filter_coefficients(FilterDesign())
    filter_coefficients(FilterDesign(noise_cutoff_hz=15.0))
    keys = list(json.loads(fresh_coefficients.read_text()))
    assert len(keys) == 2
    import scipy

    assert all(key.endswith(f"|scipy={scipy.__version__}") for key in keys)
