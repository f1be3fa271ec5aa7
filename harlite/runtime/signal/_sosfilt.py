"""Causal IIR filtering with scipy's compiled second-order-section kernel, without paying
for ``import scipy.signal``.

``import scipy.signal`` takes about a second of CPU on a 2-core x86 host (more on a slower
CPU): the package imports every one of its modules, ``scipy.stats`` and ``scipy.interpolate``
among them, and each batch worker and every ``harlite stream`` paid it before its first
sample. The filter bank needs one routine of it: the compiled kernel behind
``scipy.signal.sosfilt``. This module loads that kernel (``scipy/signal/_sosfilt``) on its
own, checks it on a small input against a plain reference, and runs it with the same array
layout that ``scipy.signal.sosfilt`` gives it, so the output is that function's, bit for bit.
The module is registered under its own name, so a later ``import scipy.signal`` reuses it.

The kernel is private to scipy: where it cannot be loaded or does not pass the check (a
scipy that moved or changed it), :func:`sosfilt` calls ``scipy.signal.sosfilt`` itself.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: The kernel's module, as scipy names it.
KERNEL_MODULE = "scipy.signal._sosfilt"

Filter = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
_FILTER: Filter | None = None
_LOADING = threading.Lock()


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Filter each column of ``x`` with the cascaded sections ``sos`` from state ``zi``.

    Equal, bit for bit, to ``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)``.

    Parameters
    ----------
    sos : ndarray, shape (sections, 6)
        Second-order sections (numerator, then denominator coefficients).
    x : ndarray, shape (samples, channels)
        The signal, one channel per column; not modified.
    zi : ndarray, shape (sections, 2, channels)
        The filter state before the first sample; not modified.

    Returns
    -------
    y : ndarray, shape (samples, channels)
        The filtered signal (float64).
    zf : ndarray, shape (sections, 2, channels)
        The state after the last sample, to pass as ``zi`` with the next samples.
    """
    return _filter()(sos, x, zi)


def kernel_in_use() -> str:
    """Which implementation :func:`sosfilt` runs: ``compiled kernel`` or ``scipy.signal``."""
    return "scipy.signal" if _filter() is _with_scipy_signal else "compiled kernel"


def _filter() -> Filter:
    global _FILTER
    with _LOADING:  # one thread loads the extension: a second initialisation would fail
        if _FILTER is None:
            _FILTER = _load()
    return _FILTER


def _load() -> Filter:
    """The direct kernel if it loads and passes the check, else ``scipy.signal.sosfilt``."""
    kernel = _kernel()
    if kernel is not None and _passes_check(kernel):
        return _direct(kernel)
    return _with_scipy_signal


def _kernel() -> Callable | None:
    """scipy's compiled ``_sosfilt`` routine, loaded without the ``scipy.signal`` package."""
    module = sys.modules.get(KERNEL_MODULE)
    if module is None:
        module = _load_extension()
    return getattr(module, "_sosfilt", None)


def _load_extension():
    try:
        spec = importlib.util.find_spec("scipy")
        if spec is None or spec.origin is None:
            return None
        folder = Path(spec.origin).parent / "signal"
        path = next(
            (folder / f"_sosfilt{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES
             if (folder / f"_sosfilt{suffix}").is_file()),
            None,
        )  # fmt: skip
        if path is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(KERNEL_MODULE, str(path))
        module_spec = importlib.util.spec_from_file_location(KERNEL_MODULE, path, loader=loader)
        module = importlib.util.module_from_spec(module_spec)
    except (ImportError, OSError, ValueError, AttributeError):
        return None
    # Registered before it runs, as an import would: scipy.signal, imported later, must find
    # this module rather than initialise the extension a second time (Cython refuses that).
    sys.modules[KERNEL_MODULE] = module
    try:
        loader.exec_module(module)
    except Exception:  # an extension that cannot initialise here: scipy.signal's turn
        del sys.modules[KERNEL_MODULE]
        return None
    return module


def _direct(kernel: Callable) -> Filter:
    def run(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # The layout scipy.signal.sosfilt gives the kernel: one C-contiguous row per channel,
        # state (channels, sections, 2); all copies (the kernel filters in place and takes
        # writable arrays only).
        rows = np.array(np.asarray(x, dtype=np.float64).T, order="C")
        state = np.array(np.moveaxis(np.asarray(zi, dtype=np.float64), (0, 1), (1, 2)), order="C")
        kernel(np.array(sos, dtype=np.float64, order="C"), rows, state)
        return rows.T, np.moveaxis(state, (1, 2), (0, 1))

    return run


def _with_scipy_signal(
    sos: np.ndarray, x: np.ndarray, zi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    from scipy import signal

    # a copy of sos: scipy's kernel takes writable arrays only (cached ones are read-only)
    return signal.sosfilt(np.array(sos, dtype=np.float64), x, axis=0, zi=zi)


def _passes_check(kernel: Callable) -> bool:
    """Whether the kernel, called as :func:`_direct` calls it, filters a small two-section,
    three-channel input as the direct form II transposed recurrence does."""
    rng = np.random.default_rng(0)
    sos = np.array([[0.2, 0.4, 0.2, 1.0, -0.5, 0.25], [1.0, -0.3, 0.1, 1.0, 0.1, -0.2]])
    x, zi = rng.normal(size=(16, 3)), rng.normal(size=(2, 2, 3))
    try:
        y, zf = _direct(kernel)(sos, x, zi)
    except Exception:  # a kernel whose signature changed
        return False
    y_ref, zf_ref = _reference(sos, x, zi)
    return bool(np.allclose(y, y_ref, rtol=1e-12, atol=1e-14)) and bool(
        np.allclose(zf, zf_ref, rtol=1e-12, atol=1e-14)
    )


def _reference(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The recurrence written out, sample by sample (for the check only)."""
    y, z = x.astype(np.float64), zi.astype(np.float64)
    for s, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        for n in range(len(y)):
            inp = y[n].copy()
            y[n] = b0 * inp + z[s, 0]
            z[s, 0] = b1 * inp - a1 * y[n] + z[s, 1]
            z[s, 1] = b2 * inp - a2 * y[n]
    return y, z
