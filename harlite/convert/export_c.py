"""``harlite export c``: a bundle as a dependency-free C99 library and stream program.

The library (``harlite/convert/c``: the stream core, the layer operations, the stream
program and a Makefile) is copied as it is; this module writes what depends on the bundle:
``harlite_config.h`` (window, hop, rate, labels, sizes), ``harlite_model.h`` and
``harlite_model.c`` (the filter sections and their steady-state start, the labels, and the
model's forward pass with its weights as ``const`` arrays). The weights come from the
bundle's Keras model (``model.keras``, so exporting needs the training tools); the
forward pass is planned from its layers (:mod:`harlite.convert.c_layers`) and checked
against the Keras model before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harlite.atomic import write_text_atomic
from harlite.convert.c_emit import c_number, emit_forward, run_plan
from harlite.convert.c_layers import plan_forward
from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle
from harlite.runtime.signal.placement import LYING, MOVING_CLASSES, SEATED, STANDING, STILL_CLASSES
from harlite.runtime.signal.preprocessing import steady_state
from harlite.runtime.spec import N_MODEL_CHANNELS

TEMPLATES = Path(__file__).with_name("c")
#: Files copied from the templates as they are.
LIBRARY_FILES = (
    "harlite.h", "harlite.c", "harlite_ops.h", "harlite_ops.c", "harlite_stream.c", "Makefile",
)  # fmt: skip
WEIGHT_KINDS = ("float32", "int8")
#: Predictions a smoother can average over (harlite_config.smooth_size).
MAX_SMOOTH = 16


@dataclass(frozen=True)
class CExport:
    """What ``harlite export c`` wrote: the folder, its files, and the model's sizes."""

    out_dir: Path
    files: tuple[str, ...]
    preset: str
    weights: str
    weight_bytes: int
    arena_floats: int
    max_abs_diff: float


def checked_out_dir(bundle_dir: str | Path, out_dir: str | Path) -> Path:
    """``out_dir``, unless it is the bundle or inside it (an export never writes there)."""
    out, bundle = Path(out_dir), Path(bundle_dir).resolve()
    if out.resolve() == bundle or bundle in out.resolve().parents:
        raise HarliteError(f"--out {out} is inside the bundle {bundle}: choose another folder")
    return out


def export_c(bundle_dir: str | Path, out_dir: str | Path, weights: str = "float32") -> CExport:
    """Write the C library of ``bundle_dir`` into ``out_dir`` (created; files replaced)."""
    if weights not in WEIGHT_KINDS:
        raise HarliteError(f"--weights must be one of {', '.join(WEIGHT_KINDS)}, not {weights!r}")
    checked_out_dir(bundle_dir, out_dir)
    bundle = Bundle.open(bundle_dir)
    model = _keras_model(bundle)
    plan = plan_forward(model, int8=weights == "int8")
    source, weight_bytes = emit_forward(plan)
    diff = _check_plan(plan, model, bundle)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "harlite_config.h": _config_header(bundle, plan, weights),
        "harlite_model.h": MODEL_HEADER,
        "harlite_model.c": _signal_source(bundle) + source,
    }
    for name, text in texts.items():
        write_text_atomic(out / name, text)
    for name in LIBRARY_FILES:
        write_text_atomic(out / name, (TEMPLATES / name).read_text(encoding="utf-8"))
    return CExport(
        out_dir=out,
        files=tuple(sorted([*texts, *LIBRARY_FILES])),
        preset=str(bundle.manifest.get("model", {}).get("preset", "?")),
        weights=weights,
        weight_bytes=weight_bytes,
        arena_floats=plan.arena_floats,
        max_abs_diff=diff,
    )


def _keras_model(bundle: Bundle):
    """The bundle's Keras model (the training tools are needed to read it)."""
    artifact = next((a for a in bundle.artifacts.values() if a.format == "keras"), None)
    if artifact is None:
        raise HarliteError(f"{bundle.path}: no Keras model (model.keras) to read the weights from")
    path = bundle.checked_file(artifact.name)
    try:
        from harlite.train.models import load_model
    except ImportError as error:
        raise HarliteError(
            f"harlite export c reads the weights from {path.name} with TensorFlow, which is not "
            f"installed ({error.name}): pip install 'harlite[train]'"
        ) from None
    return load_model(path)


#: Largest |Δp| between the planned forward pass (run in numpy) and the Keras model.
PLAN_TOLERANCE = {False: 1e-4, True: 0.1}


def _check_plan(plan, model, bundle: Bundle) -> float:
    """The plan, run in numpy on sample windows, must be the Keras model's computation."""
    from harlite.runtime.model.bundle import sample_windows

    windows = sample_windows(bundle, 16)
    logits = np.asarray(model(windows, training=False), np.float64)
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    got = np.stack([run_plan(plan, w) for w in windows])
    diff = float(np.abs(got - expected).max())
    if diff > PLAN_TOLERANCE[plan.int8]:
        raise HarliteError(
            f"{bundle.path}: the exported forward pass differs from the Keras model by "
            f"{diff:.3g} (a layer harlite export c does not compute as Keras does)"
        )
    return diff


def _config_header(bundle: Bundle, plan, weights: str) -> str:
    labels = bundle.labels
    sections = bundle.design.sections()
    applies = all(name in labels for name in (*STILL_CLASSES, *MOVING_CLASSES))
    lines = [
        "/* Generated by `harlite export c`: the bundle's settings. */",
        "#ifndef HARLITE_CONFIG_H",
        "#define HARLITE_CONFIG_H",
        f'#define HARLITE_PRESET "{_c_text(str(bundle.manifest["model"].get("preset", "")))}"',
        f'#define HARLITE_WEIGHTS "{weights}"',
        f"#define HARLITE_INT8_WEIGHTS {int(weights == 'int8')}",
        f"#define HARLITE_RATE_HZ {float(bundle.sample_rate_hz)!r}  /* model samples per second */",
        f"#define HARLITE_WINDOW {bundle.window}  /* samples per window */",
        f"#define HARLITE_HOP {bundle.hop}  /* samples between windows */",
        f"#define HARLITE_CHANNELS {N_MODEL_CHANNELS}",
        f"#define HARLITE_N_LABELS {len(labels)}",
        f"#define HARLITE_MEDIAN {bundle.design.median_kernel}",
        f"#define HARLITE_NOISE_SECTIONS {len(sections.noise_sos)}",
        f"#define HARLITE_GRAVITY_SECTIONS {len(sections.gravity_sos)}",
        f"#define HARLITE_MAX_SMOOTH {MAX_SMOOTH}",
        f"#define HARLITE_PLACEMENT_APPLIES {int(applies)}",
        f"#define HARLITE_SEATED {labels.index(SEATED) if applies else -1}",
        f"#define HARLITE_STANDING {labels.index(STANDING) if applies else -1}",
        f"#define HARLITE_LYING {labels.index(LYING) if applies else -1}",
        f"#define HL_MAX_WIDTH {plan.max_width}",
        f"#define HL_MAX_UNITS {max(plan.max_units, 1)}",
        f"#define HL_ARENA_FLOATS {plan.arena_floats}",
        "#endif",
        "",
    ]
    return "\n".join(lines)


MODEL_HEADER = """/* Generated by `harlite export c`: what the stream core needs from the bundle. */
#ifndef HARLITE_MODEL_H
#define HARLITE_MODEL_H
#include <stdint.h>
#include "harlite_config.h"
extern const char *const hl_labels[HARLITE_N_LABELS];
extern const uint8_t hl_moving[HARLITE_N_LABELS];
#ifndef HARLITE_FLOAT_FILTERS
#define HARLITE_FLOAT_FILTERS 0  /* 1: median and noise filter in float (an FPU without double) */
#endif
#if HARLITE_FLOAT_FILTERS
typedef float hl_real;
#else
typedef double hl_real;
#endif
extern const hl_real hl_noise_sos[HARLITE_NOISE_SECTIONS][6];
extern const hl_real hl_noise_zi[HARLITE_NOISE_SECTIONS][2];
extern const double hl_gravity_sos[HARLITE_GRAVITY_SECTIONS][6];
extern const double hl_gravity_zi[HARLITE_GRAVITY_SECTIONS][2];
#endif
"""


def _signal_source(bundle: Bundle) -> str:
    """The labels and the filter bank's coefficients, exactly as the Python runtime uses them:
    the manifest's sections and their closed-form steady state."""
    sections = bundle.design.sections()
    arrays = {
        "noise_sos": sections.noise_sos,
        "noise_zi": steady_state(sections.noise_sos),
        "gravity_sos": sections.gravity_sos,
        "gravity_zi": steady_state(sections.gravity_sos),
    }
    labels = ", ".join(f'"{_c_text(name)}"' for name in bundle.labels)
    moving = ", ".join(str(int(name in MOVING_CLASSES)) for name in bundle.labels)
    parts = [
        "/* Generated by `harlite export c`: the labels, filters and model of the bundle. */",
        "#include <stdint.h>",
        '#include "harlite.h"',
        '#include "harlite_model.h"',
        '#include "harlite_ops.h"',
        "",
        f"const char *const hl_labels[HARLITE_N_LABELS] = {{{labels}}};",
        f"const uint8_t hl_moving[HARLITE_N_LABELS] = {{{moving}}};",
    ]
    for name, array in arrays.items():
        rows = ", ".join("{" + ", ".join(map(c_number, row)) + "}" for row in array)
        dims = "HARLITE_NOISE_SECTIONS" if name.startswith("noise") else "HARLITE_GRAVITY_SECTIONS"
        kind = "hl_real" if name.startswith("noise") else "double"
        parts.append(f"const {kind} hl_{name}[{dims}][{array.shape[1]}] = {{{rows}}};")
    return "\n".join(parts) + "\n\n"


def _c_text(text: str) -> str:
    """Text for a C string literal (quotes, backslashes and control characters escaped)."""
    return "".join(
        f"\\{c}" if c in '"\\' else (f"\\{ord(c):03o}" if ord(c) < 32 or ord(c) == 127 else c)
        for c in text
    )
