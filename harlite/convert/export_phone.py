"""``harlite export android`` and ``harlite export ios``: the C core of ``harlite export c``
laid out as an app developer adds it to a phone app.

Both take the core's library sources (:func:`harlite.convert.export_c.export_c`, not its
stream program or Makefile) and ``harlite/convert/phone``: ``harlite_phone.c`` (Android's two
sensors paired as the runtime pairs them, :mod:`harlite.runtime.io.phone_align`; iOS's
acceleration sign turned to Android's, which the models use) and the platform's binding.

- Android: a library module: ``build.gradle``, ``src/main/AndroidManifest.xml``,
  ``src/main/cpp`` (the core, ``harlite_jni.c``, ``CMakeLists.txt``) and
  ``src/main/java/org/harlite`` (``Harlite``, ``Prediction``, ``Stats``).
- iOS: a Swift package: ``Package.swift``, ``Sources/HarliteCore`` (a C target, its public
  headers and module map in ``include/``) and ``Sources/Harlite/Harlite.swift``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from harlite.atomic import write_text_atomic
from harlite.convert.export_c import CExport, checked_out_dir, export_c

PHONE = Path(__file__).with_name("phone")
#: The core's files an app needs (the export's stream program and Makefile are left out).
CORE_SOURCES = ("harlite.c", "harlite_ops.c", "harlite_model.c")
CORE_PUBLIC_HEADERS = ("harlite.h", "harlite_config.h")
CORE_PRIVATE_HEADERS = ("harlite_model.h", "harlite_ops.h")
JAVA_CLASSES = ("Harlite.java", "Prediction.java", "Stats.java")


@dataclass(frozen=True)
class PhoneExport:
    """What ``harlite export android|ios`` wrote: the folder, its files, and the core's export."""

    out_dir: Path
    platform: str
    files: tuple[str, ...]
    core: CExport


def export_android(
    bundle_dir: str | Path, out_dir: str | Path, weights: str = "float32"
) -> PhoneExport:
    """Write an Android library module of ``bundle_dir`` into ``out_dir``."""
    cpp, java = "src/main/cpp", "src/main/java/org/harlite"
    layout = {
        "build.gradle": PHONE / "android" / "build.gradle",
        "README.md": PHONE / "android" / "README.md",
        "src/main/AndroidManifest.xml": PHONE / "android" / "AndroidManifest.xml",
        f"{cpp}/CMakeLists.txt": PHONE / "android" / "CMakeLists.txt",
        f"{cpp}/harlite_jni.c": PHONE / "android" / "harlite_jni.c",
        f"{cpp}/harlite_phone.c": PHONE / "harlite_phone.c",
        f"{cpp}/harlite_phone.h": PHONE / "harlite_phone.h",
    }
    layout |= {
        f"{java}/{name}": PHONE / "android" / "org" / "harlite" / name for name in JAVA_CLASSES
    }
    core_layout = {
        name: cpp for name in (*CORE_SOURCES, *CORE_PUBLIC_HEADERS, *CORE_PRIVATE_HEADERS)
    }
    return _export("android", bundle_dir, out_dir, weights, layout, core_layout)


def export_ios(
    bundle_dir: str | Path, out_dir: str | Path, weights: str = "float32"
) -> PhoneExport:
    """Write a Swift package of ``bundle_dir`` into ``out_dir``."""
    core = "Sources/HarliteCore"
    layout = {
        "Package.swift": PHONE / "ios" / "Package.swift",
        "README.md": PHONE / "ios" / "README.md",
        "Sources/Harlite/Harlite.swift": PHONE / "ios" / "Harlite.swift",
        f"{core}/include/module.modulemap": PHONE / "ios" / "module.modulemap",
        f"{core}/include/harlite_phone.h": PHONE / "harlite_phone.h",
        f"{core}/harlite_phone.c": PHONE / "harlite_phone.c",
    }
    core_layout = {name: core for name in (*CORE_SOURCES, *CORE_PRIVATE_HEADERS)}
    core_layout |= {name: f"{core}/include" for name in CORE_PUBLIC_HEADERS}
    return _export("ios", bundle_dir, out_dir, weights, layout, core_layout)


def _export(
    platform: str,
    bundle_dir: str | Path,
    out_dir: str | Path,
    weights: str,
    layout: dict[str, Path],
    core_layout: dict[str, str],
) -> PhoneExport:
    """The core exported to a scratch folder, then every file written to its place."""
    out = checked_out_dir(bundle_dir, out_dir)
    with tempfile.TemporaryDirectory(prefix="harlite-core-") as scratch:
        core = export_c(bundle_dir, scratch, weights)
        texts = {
            f"{folder}/{name}": (Path(scratch) / name).read_text(encoding="utf-8")
            for name, folder in core_layout.items()
        }
    texts |= {name: source.read_text(encoding="utf-8") for name, source in layout.items()}
    for name, text in texts.items():
        write_text_atomic(out / name, text)
    return PhoneExport(out, platform, tuple(sorted(texts)), core)
