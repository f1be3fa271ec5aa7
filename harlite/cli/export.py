"""``harlite export``: a bundle for places the Python runtime does not go."""

from __future__ import annotations

from pathlib import Path

import click

from harlite.cli.options import echo_err, export_options


@click.group()
def export() -> None:
    """Export a bundle's model with its signal path for other platforms."""


@export.command("c")
@export_options(
    "the C library, stream program and Makefile",
    "Weights as float32, or int8 with a float scale per output channel (arithmetic in "
    "float, like the dynamic artefact; about a quarter of the flash).",
)
def export_c_command(bundle: Path, out_dir: Path, weights: str) -> None:
    """BUNDLE (a bundle folder or a shipped model's name) as a dependency-free C99 library:
    the stream core of `harlite stream` (resampling, filters, windows, gaps, placement,
    smoothing) and the model's forward pass, weights as const arrays; `make -C OUT` builds
    a stream program reading a sensor CSV on stdin. Reads model.keras: needs
    'harlite[train]'."""
    from harlite.convert.export_c import export_c

    result = export_c(bundle, out_dir, weights)
    echo_err(
        f"wrote {result.out_dir} ({result.preset}, {result.weights} weights: "
        f"{result.weight_bytes / 1024:.1f} KiB, arena {result.arena_floats * 4 / 1024:.1f} KiB; "
        f"forward pass within {result.max_abs_diff:.1g} of the Keras model); "
        f"build with: make -C {result.out_dir}"
    )


@export.command("web")
@export_options(
    "the page (index.html, scripts, style, harlite.wasm)",
    "Weights as float32, or int8 with a float scale per output channel.",
)
def export_web_command(bundle: Path, out_dir: Path, weights: str) -> None:
    """BUNDLE (a bundle folder or a shipped model's name) as a static page that classifies
    on the phone: the C core of `harlite export c` built to WebAssembly (clang, lld and
    wasi-libc), reading the phone's motion sensors in its browser; nothing is fetched from
    the network. Open OUT/index.html over https, or save OUT/harlite-phone.html on the
    phone (docs/phone-page.md). Reads model.keras: needs 'harlite[train]'."""
    from harlite.convert.export_web import export_web

    result = export_web(bundle, out_dir, weights)
    echo_err(
        f"wrote {result.out_dir} ({result.preset}, {result.wasm_bytes / 1024:.0f} KiB of "
        f"WebAssembly; forward pass within {result.max_abs_diff:.1g} of the Keras model): "
        f"open {result.out_dir / 'index.html'} over https, or save harlite-phone.html on "
        "the phone"
    )


def _add_phone_commands() -> None:
    from harlite.cli.export_phone import android, ios

    export.add_command(android)
    export.add_command(ios)


_add_phone_commands()
