"""The filter bank without ``import scipy.signal``: scipy's compiled sosfilt kernel loaded on
its own (``harlite.runtime.signal._sosfilt``) gives ``scipy.signal.sosfilt``'s output bit for
bit, and falls back to it where the kernel is missing or differs (runtime-only; CI also runs
this file on the newest scipy)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import signal

from harlite.runtime.signal import _sosfilt

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
    y, zf = _sosfilt.sosfilt(sos, x, zi)
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
    y, zf = _sosfilt.sosfilt(sos, x, zi)
    y_ref, zf_ref = signal.sosfilt(sos.copy(), x.astype(np.float64), axis=0, zi=zi)
    assert np.array_equal(y, y_ref) and np.array_equal(zf, zf_ref)


def test_runs_the_compiled_kernel_here():
    assert _sosfilt.kernel_in_use() == "compiled kernel"


def test_falls_back_to_scipy_signal_when_the_kernel_is_missing(monkeypatch):
    monkeypatch.setattr(_sosfilt, "_FILTER", None)
    monkeypatch.setattr(_sosfilt, "_kernel", lambda: None)
    assert _sosfilt.kernel_in_use() == "scipy.signal"
    sos, zi = random_filter(2, 6, seed=3)
    x = np.random.default_rng(3).normal(size=(300, 6))
    expected = signal.sosfilt(sos, x, axis=0, zi=zi)
    sos.setflags(write=False)  # as the cached coefficients are
    assert all(
        np.array_equal(a, b) for a, b in zip(_sosfilt.sosfilt(sos, x, zi), expected, strict=True)
    )


@pytest.mark.parametrize(
    "kernel",
    [
        lambda sos, x, zi: None,  # leaves its input as it was
        lambda sos, x, zi: x.__imul__(2),  # some other computation
        lambda sos, x: None,  # another signature
    ],
)
def test_a_kernel_that_does_not_filter_as_sosfilt_does_is_refused(kernel):
    assert not _sosfilt._passes_check(kernel)


def test_scipy_signal_imported_after_the_kernel_still_works_and_agrees():
    """In a fresh process: filtering with given sections imports no scipy.signal; importing
    it afterwards reuses the loaded kernel (Cython refuses to initialise one twice), and its
    sosfilt gives what the kernel gave."""
    probe = """
import sys
import numpy as np
from harlite.runtime.signal._sosfilt import kernel_in_use, sosfilt
sos = np.array([[0.2, 0.4, 0.2, 1.0, -0.5, 0.25], [1.0, -0.3, 0.1, 1.0, 0.1, -0.2]])
x = np.random.default_rng(5).normal(size=(2000, 6))
y, zf = sosfilt(sos, x, np.zeros((2, 2, 6)))
loaded = "scipy.signal" in sys.modules
from scipy import signal
y_ref, zf_ref = signal.sosfilt(sos, x, axis=0, zi=np.zeros((2, 2, 6)))
print(loaded, kernel_in_use(), np.array_equal(y, y_ref) and np.array_equal(zf, zf_ref))
"""
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "compiled", "kernel", "True"]
