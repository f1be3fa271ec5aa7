"""The filter bank's coefficients, designed once per filter design and host, then cached.

Designing the two Butterworth low-passes takes ``scipy.signal`` (``butter``, ``sosfilt_zi``),
whose import costs about a second; the coefficients themselves are a few numbers. They are
kept in ``filters.json`` in the user's cache folder, keyed by the design's settings and the
scipy version that designed them, and read back exactly (JSON keeps a float's every bit), so
a process whose design is cached filters without importing ``scipy.signal`` at all.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harlite.folders import read_json_cache, write_json_cache

if TYPE_CHECKING:
    from harlite.runtime.signal.preprocessing import FilterDesign

#: The cache file of designed coefficients.
FILTER_CACHE = "filters.json"


@dataclass(frozen=True)
class FilterCoefficients:
    """Second-order sections of the noise and gravity low-passes, and each one's state in
    steady state for a unit step (``scipy.signal.sosfilt_zi``); arrays are read-only."""

    noise_sos: np.ndarray
    gravity_sos: np.ndarray
    noise_zi: np.ndarray
    gravity_zi: np.ndarray

    def to_dict(self) -> dict[str, list]:
        """Plain JSON lists."""
        return {name: getattr(self, name).tolist() for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Any) -> FilterCoefficients | None:
        """The coefficients in ``data``, or None unless every array is there, finite and
        of a consistent shape (a damaged cache entry is designed again)."""
        try:
            arrays = {
                name: np.array(data[name], dtype=np.float64) for name in cls.__dataclass_fields__
            }
        except (KeyError, TypeError, ValueError):
            return None
        for sos, zi in (("noise_sos", "noise_zi"), ("gravity_sos", "gravity_zi")):
            sections = len(arrays[sos])
            if (
                sections < 1
                or arrays[sos].shape != (sections, 6)
                or arrays[zi].shape != (sections, 2)
            ):
                return None
        if not all(np.isfinite(a).all() for a in arrays.values()):
            return None
        return cls._read_only(**arrays)

    @classmethod
    def _read_only(cls, **arrays: np.ndarray) -> FilterCoefficients:
        for array in arrays.values():
            array.setflags(write=False)
        return cls(**arrays)


@functools.cache
def filter_coefficients(design: FilterDesign) -> FilterCoefficients:
    """The coefficients of ``design``: from this process, the cache, or designed now (and
    cached)."""
    key = _key(design)
    cached = read_json_cache(FILTER_CACHE)
    coefficients = FilterCoefficients.from_dict(cached.get(key))
    if coefficients is None:
        coefficients = design_coefficients(design)
        write_json_cache(FILTER_CACHE, {**cached, key: coefficients.to_dict()})
    return coefficients


def design_coefficients(design: FilterDesign) -> FilterCoefficients:
    """Design the coefficients with ``scipy.signal`` (no cache)."""
    from scipy import signal

    noise_sos, gravity_sos = design.noise_sos(), design.gravity_sos()
    return FilterCoefficients._read_only(
        noise_sos=noise_sos,
        gravity_sos=gravity_sos,
        noise_zi=signal.sosfilt_zi(noise_sos),
        gravity_zi=signal.sosfilt_zi(gravity_sos),
    )


def _key(design: FilterDesign) -> str:
    import scipy  # the package alone: a few milliseconds

    return f"{json.dumps(design.to_dict(), sort_keys=True)}|scipy={scipy.__version__}"
