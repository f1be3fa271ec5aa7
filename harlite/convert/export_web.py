"""``harlite export web``: a bundle as a static page that classifies on the phone.

The page is ``harlite export c``'s C core (the same generated files, unchanged) with a thin
face for JavaScript (``web/harlite_web.c``), built to WebAssembly by clang for ``wasm32``
(wasm-ld links it, wasi-libc gives ``acos`` and ``expf``; the module imports nothing), and
the page's script, markup and style from ``web/``. The module is also written into
``harlite-model.js`` as base64, so the page loads nothing by ``fetch`` and runs from a file
saved on the phone; ``harlite-phone.html`` is the whole page in one file for that.
Served over https, ``sw.js`` keeps the page's files so that it opens offline from the home
screen.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harlite.atomic import atomic_file, write_text_atomic
from harlite.convert.export_c import checked_out_dir, export_c
from harlite.errors import HarliteError
from harlite.runtime.model.bundle import Bundle

WEB = Path(__file__).with_name("web")
#: The page's own files, copied as they are.
PAGE_FILES = ("index.html", "harlite.js", "phone.js", "style.css", "sw.js")
#: What to install where the WebAssembly toolchain is missing (Debian, Ubuntu).
TOOLCHAIN_PACKAGES = "clang lld wasi-libc libclang-rt-dev-wasm32"
TARGET = "wasm32-wasi"
#: clang's flags: no entry point (a library), every float operation IEEE as in the C core.
CFLAGS = ("-O3", "-std=c99", "-Wall", "-Wextra", "-nostartfiles", "-Wl,--no-entry")
#: The libraries the link needs, and the Debian package of each.
WASM_LIBRARIES = (
    ("libc.a", "wasi-libc"),
    ("libclang_rt.builtins-wasm32.a", "libclang-rt-dev-wasm32"),
)
#: Seconds clang may take (about two here).
BUILD_TIMEOUT_S = 300


@dataclass(frozen=True)
class WebExport:
    """What ``harlite export web`` wrote: the folder, its files and the module's size."""

    out_dir: Path
    files: tuple[str, ...]
    preset: str
    wasm_bytes: int
    max_abs_diff: float


def wasm_toolchain() -> str:
    """The clang that builds for wasm32 with wasi-libc; a clear error naming the packages
    to install when it, wasm-ld, wasi-libc or the wasm32 builtins are missing."""
    clang = shutil.which("clang")
    missing = [] if clang else ["clang"]
    if shutil.which("wasm-ld") is None:
        missing.append("wasm-ld (lld)")
    if clang:
        for library, package in WASM_LIBRARIES:
            found = _print_file_name(clang, library)
            if not Path(found).is_absolute() or not Path(found).is_file():
                missing.append(f"{library} ({package})")
    if missing:
        raise HarliteError(
            f"harlite export web builds WebAssembly with clang for {TARGET}, which needs "
            f"{', '.join(missing)}: apt-get install {TOOLCHAIN_PACKAGES}"
        )
    return clang


def _print_file_name(clang: str, name: str) -> str:
    builtins = name.startswith("libclang_rt")
    flag = "-print-libgcc-file-name" if builtins else f"-print-file-name={name}"
    try:
        done = subprocess.run([clang, f"--target={TARGET}", flag], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def export_web(bundle_dir: str | Path, out_dir: str | Path, weights: str = "float32") -> WebExport:
    """Write the phone page of ``bundle_dir`` into ``out_dir`` (created; files replaced)."""
    out = checked_out_dir(bundle_dir, out_dir)
    clang = wasm_toolchain()
    bundle = Bundle.open(bundle_dir)
    with tempfile.TemporaryDirectory(prefix="harlite-web-") as work:
        core = export_c(bundle_dir, Path(work) / "c", weights)
        shutil.copy(WEB / "harlite_web.c", core.out_dir / "harlite_web.c")
        wasm = build_wasm(clang, core.out_dir)
    model = model_info(bundle, weights, wasm)
    texts = {name: (WEB / name).read_text(encoding="utf-8") for name in PAGE_FILES}
    texts["harlite-model.js"] = model_script(model, wasm)
    texts["harlite-phone.html"] = single_file(texts)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_file(out / "harlite.wasm") as handle:
        handle.write(wasm)
    for name, text in texts.items():
        write_text_atomic(out / name, text)
    return WebExport(
        out_dir=out,
        files=tuple(sorted([*texts, "harlite.wasm"])),
        preset=core.preset,
        wasm_bytes=len(wasm),
        max_abs_diff=core.max_abs_diff,
    )


def build_wasm(clang: str, c_dir: Path) -> bytes:
    """The C core in ``c_dir`` (with ``harlite_web.c``) as one WebAssembly module."""
    sources = ["harlite_web.c", "harlite.c", "harlite_ops.c", "harlite_model.c"]
    command = [clang, f"--target={TARGET}", *CFLAGS, "-o", "harlite.wasm", *sources, "-lm"]
    try:
        done = subprocess.run(command, cwd=c_dir, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise HarliteError(f"clang did not finish within {BUILD_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise HarliteError(
            f"clang could not build the WebAssembly module ({' '.join(command[1:])}):\n"
            + done.stderr.strip()[-2000:]
        )
    return (c_dir / "harlite.wasm").read_bytes()


def model_info(bundle: Bundle, weights: str, wasm: bytes) -> dict:
    """What the page shows of the model, and the module's hash (its cache key)."""
    return {
        "name": bundle.path.name,
        "preset": str(bundle.manifest.get("model", {}).get("preset", "")),
        "weights": weights,
        "labels": list(bundle.labels),
        "rate_hz": float(bundle.sample_rate_hz),
        "window": int(bundle.window),
        "hop": int(bundle.hop),
        "wasm_sha256": hashlib.sha256(wasm).hexdigest(),
    }


def model_script(model: dict, wasm: bytes) -> str:
    """``harlite-model.js``: the model's description and its module (base64), as data."""
    encoded = base64.b64encode(wasm).decode("ascii")
    return (
        "// Generated by `harlite export web`: the model and its WebAssembly module.\n"
        '"use strict";\n'
        f"window.HARLITE_MODEL = {json.dumps(model, sort_keys=True)};\n"
        f'window.HARLITE_WASM = "{encoded}";\n'
    )


def single_file(texts: dict[str, str]) -> str:
    """The page with its style and scripts inline: one file to save on the phone."""
    page = texts["index.html"]
    page = page.replace(
        '<link rel="stylesheet" href="style.css">', f"<style>\n{texts['style.css']}</style>"
    )
    for name in ("harlite-model.js", "harlite.js", "phone.js"):
        tag = f'<script src="{name}"></script>'
        if tag not in page:
            raise HarliteError(f"web/index.html does not load {name} as {tag}")
        body = texts[name].replace("</script", "<\\/script")
        page = page.replace(tag, f"<script>\n{body}</script>")
    return page
