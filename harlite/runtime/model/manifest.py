"""Reading and checking a bundle's ``manifest.json`` before anything trusts it.

The text is bounded before it is parsed (size, nesting depth, digits of a number, no NaN or
Infinity), then every field a device relies on is checked for its type and range: a
manifest is data from wherever the bundle came from, and a wrong value must be a clear error
naming the field, never a traceback, a huge allocation or silently wrong predictions.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import PurePosixPath
from typing import Any

from harlite.errors import HarliteError
from harlite.runtime.signal.preprocessing import FilterDesign, FilterSections

SCHEMA_VERSION = 1

#: Limits on the text, checked before parsing.
MAX_MANIFEST_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 40

#: Ranges of the values a device relies on.
MAX_SAMPLE_RATE_HZ = 10_000.0
MAX_WINDOW = 100_000
MAX_LABELS = 1_000
MAX_MEDIAN_KERNEL = 99
MAX_FILTER_ORDER = 10

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BundleError(HarliteError):
    """A bundle that is missing, damaged, or newer than this harlite understands."""


def parse_manifest(text: str, where: str) -> dict[str, Any]:
    """Parse manifest text within the limits above; a BundleError says which one failed."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{where}: larger than {MAX_MANIFEST_BYTES} bytes (not a manifest)")
    depth = _nesting_depth(text)
    if depth > MAX_DEPTH:
        raise BundleError(f"{where}: nested {depth} levels deep (at most {MAX_DEPTH})")

    def bounded_number(kind):
        def parse(token: str):
            if len(token.lstrip("-").replace(".", "").split("e")[0].split("E")[0]) > (
                MAX_NUMBER_DIGITS
            ):
                raise BundleError(
                    f"{where}: a number with more than {MAX_NUMBER_DIGITS} digits ({token[:20]}…)"
                )
            return kind(token)

        return parse

    def refuse_constant(token: str):
        raise BundleError(f"{where}: {token} is not a valid number in a manifest")

    try:
        manifest = json.loads(
            text,
            parse_int=bounded_number(int),
            parse_float=bounded_number(float),
            parse_constant=refuse_constant,
        )
    except json.JSONDecodeError as error:
        raise BundleError(f"{where}: not valid JSON: {error}") from None
    validate_manifest(manifest, where)
    return manifest


def _nesting_depth(text: str) -> int:
    """The deepest nesting of brackets outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _require(data: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise BundleError(f"{where}: field {key!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise BundleError(f"{where}: field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _number(data: dict, key: str, where: str, low: float, high: float, integer=False):
    """A number in [low, high] (an int where ``integer``)."""
    value = _require(data, key, int if integer else (int, float), where)
    if not (math.isfinite(value) and low <= value <= high):
        raise BundleError(f"{where}: field {key!r} must lie in {low:g}..{high:g}, not {value}")
    return value


def _plain_file_name(value: str, field: str, where: str) -> None:
    """A file name inside the bundle folder: no folders, no way out of it."""
    if not value or PurePosixPath(value).name != value or value in (".", "..") or "\\" in value:
        raise BundleError(
            f"{where}: {field} must be a plain file name in the bundle, not {value!r}"
        )


def validate_manifest(manifest: Any, where: str) -> None:
    """Check the schema version and the type and range of every field a device relies on."""
    if not isinstance(manifest, dict):
        raise BundleError(f"{where}: not a JSON object")
    version = _require(manifest, "schema_version", int, where)
    if version > SCHEMA_VERSION:
        raise BundleError(
            f"{where}: schema version {version} is newer than this harlite understands "
            f"({SCHEMA_VERSION}); upgrade harlite"
        )
    if version < 1:
        raise BundleError(f"{where}: invalid schema version {version}")
    labels = _require(manifest, "labels", list, where)
    if not 1 <= len(labels) <= MAX_LABELS or not all(isinstance(x, str) and x for x in labels):
        raise BundleError(f"{where}: field 'labels' must be a list of 1–{MAX_LABELS} names")
    if len(set(labels)) != len(labels):
        raise BundleError(f"{where}: field 'labels' names a class twice")
    _check_input(_require(manifest, "input", dict, where), f"{where}: input")
    design = design_of(_require(manifest, "preprocessing", dict, where), where)
    stated = manifest["input"]["sample_rate_hz"]
    if design.sample_rate_hz != stated:
        raise BundleError(
            f"{where}: input.sample_rate_hz ({stated}) differs from "
            f"preprocessing.design.sample_rate_hz ({design.sample_rate_hz})"
        )
    evaluation = _require(manifest, "evaluation", dict, where)
    reference = _require(evaluation, "reference_windows", str, f"{where}: evaluation")
    _plain_file_name(reference, "evaluation.reference_windows", where)
    _check_artifacts(_require(manifest, "artifacts", dict, where), where)
    default = _require(manifest, "default_artifact", str, where)
    if default not in manifest["artifacts"]:
        raise BundleError(f"{where}: default_artifact {default!r} is not among the artifacts")
    if "training_domain" in manifest:
        _check_domain(manifest["training_domain"], f"{where}: training_domain")


def _check_domain(domain: Any, where: str) -> None:
    """``training_domain`` (optional: bundles made before it have none)."""
    if not isinstance(domain, dict):
        raise BundleError(f"{where}: not a JSON object")
    directions = _require(domain, "gravity_directions", dict, where)
    for level, vectors in directions.items():
        if (
            not isinstance(vectors, list)
            or len(vectors) > 4096
            or not all(
                isinstance(v, list)
                and len(v) == 3
                and all(isinstance(c, (int, float)) and -1.001 <= c <= 1.001 for c in v)
                for v in vectors
            )
        ):
            raise BundleError(f"{where}: gravity_directions.{level} must be a list of unit vectors")
    _number(domain, "max_angle_deg", where, 0, 180)
    for key in ("input_rates_hz", "acc_magnitude_g"):
        values = domain.get(key, [])
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and 0 <= v <= 1e4 for v in values
        ):
            raise BundleError(f"{where}: {key} must be a list of numbers")


def _check_input(signal: dict, where: str) -> None:
    _number(signal, "sample_rate_hz", where, 1e-3, MAX_SAMPLE_RATE_HZ)
    window = _number(signal, "window", where, 1, MAX_WINDOW, integer=True)
    _number(signal, "hop", where, 1, window, integer=True)


def design_of(preprocessing: dict, where: str) -> FilterDesign:
    """The checked ``preprocessing`` section: its design, filtering with its own sections."""
    design = _check_design(
        _require(preprocessing, "design", dict, f"{where}: preprocessing"),
        f"{where}: preprocessing.design",
    )
    sections = {
        key: _check_sections(preprocessing, key, design.order, f"{where}: preprocessing")
        for key in ("noise_sos", "gravity_sos")
    }
    try:
        return design.with_sections(FilterSections(sections["noise_sos"], sections["gravity_sos"]))
    except ValueError as error:  # a0, finiteness, stability: FilterSections' own checks
        raise BundleError(f"{where}: preprocessing.{error}") from None


def _check_sections(preprocessing: dict, key: str, order: int, where: str) -> list:
    """``preprocessing.noise_sos`` or ``gravity_sos``: rows of 6 finite numbers, one row per
    second-order section of a filter of the design's order."""
    rows = _require(preprocessing, key, list, where)
    sections = (order + 1) // 2
    if len(rows) != sections or not all(
        isinstance(row, list) and len(row) == 6 and all(_is_float(v) for v in row) for row in rows
    ):
        raise BundleError(
            f"{where}: field {key!r} must be {sections} rows of 6 numbers "
            f"(the sections of an order-{order} filter)"
        )
    return rows


def _is_float(value: Any) -> bool:
    """A JSON number that is a finite float (a bool is not; nor is an int beyond float's range)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _check_design(design: dict, where: str) -> FilterDesign:
    rate = _number(design, "sample_rate_hz", where, 1e-3, MAX_SAMPLE_RATE_HZ)
    kernel = _number(design, "median_kernel", where, 1, MAX_MEDIAN_KERNEL, integer=True)
    if kernel % 2 == 0:
        raise BundleError(f"{where}: field 'median_kernel' must be odd, not {kernel}")
    _number(design, "order", where, 1, MAX_FILTER_ORDER, integer=True)
    for key in ("noise_cutoff_hz", "gravity_cutoff_hz"):
        cutoff = _number(design, key, where, 0, rate / 2)
        if cutoff in (0, rate / 2):
            raise BundleError(f"{where}: field {key!r} must lie strictly inside 0..{rate / 2:g}")
    try:
        return FilterDesign.from_dict(design)
    except (TypeError, ValueError) as error:
        raise BundleError(f"{where}: {error}") from None


def _check_artifacts(artifacts: dict, where: str) -> None:
    if not artifacts:
        raise BundleError(f"{where}: field 'artifacts' is empty")
    for name, artifact in artifacts.items():
        here = f"{where}: artifacts.{name}"
        for key, kind in (("file", str), ("sha256", str), ("size", int), ("format", str)):
            _require(artifact, key, kind, here)
        _plain_file_name(artifact["file"], f"artifacts.{name}.file", where)
        if artifact["size"] < 0:
            raise BundleError(f"{here}: field 'size' must not be negative")
        if not _SHA256.match(artifact["sha256"]):
            raise BundleError(f"{here}: field 'sha256' must be 64 hexadecimal digits")
        normalization = artifact.get("input_normalization")
        if normalization is not None:
            _check_normalization(normalization, f"{here}.input_normalization")


def _check_normalization(normalization: Any, where: str) -> None:
    """(x - mean) / std per channel: two lists of finite numbers, std > 0."""
    mean = _require(normalization, "mean", list, where)
    std = _require(normalization, "std", list, where)
    for key, values in (("mean", mean), ("std", std)):
        if not values or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise BundleError(f"{where}: field {key!r} must be a list of finite numbers")
    if len(mean) != len(std):
        raise BundleError(f"{where}: field 'mean' has {len(mean)} values, 'std' {len(std)}")
    if min(std) <= 0:
        raise BundleError(f"{where}: field 'std' must be positive (a zero std divides by zero)")
