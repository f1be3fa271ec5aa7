"""What this machine has for harlite's runtime, and which interpreter will run (``harlite
doctor``): platform, userland, numpy, every interpreter with its state, a one-window check of
the shipped ``lstm`` model, and the one install command that fits when something is missing.
"""

from __future__ import annotations

import platform
import struct
import sys
import sysconfig
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harlite import __version__
from harlite.errors import HarliteError
from harlite.runtime.io.csvblock import pandas_reader
from harlite.runtime.model.onnx_model import onnxruntime_version
from harlite.runtime.model.tflite_model import (
    BACKENDS,
    DISTRIBUTIONS,
    _load_interpreter,
    backend_problem,
    installed_version,
)
from harlite.runtime.signal._sosfilt import kernel_in_use
from harlite.runtime.spec import N_MODEL_CHANNELS


@dataclass(frozen=True)
class BackendStatus:
    """One interpreter: its distribution's version (None: not installed) and whether it can
    run here (``ok``, or the reason it cannot)."""

    name: str
    distribution: str
    version: str | None
    status: str


@dataclass
class Diagnosis:
    """The machine as harlite's runtime sees it; :meth:`format` for a person."""

    harlite: str
    python: str
    python_bits: int
    machine: str
    platform_tag: str
    numpy: str
    scipy: str | None
    backends: list[BackendStatus]
    runs: str | None
    check: str
    install: str
    notes: list[str] = field(default_factory=list)
    #: ONNX Runtime (optional; runs bundles' ONNX artefacts) and the CSV reader in use.
    onnxruntime: str = "not installed (optional: pip install 'harlite[onnx]')"
    csv_reader: str = "built-in (optional, faster on large files: pip install 'harlite[fast]')"
    #: What runs the filter bank: scipy's compiled kernel alone, or all of scipy.signal.
    filters: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``harlite doctor --json``)."""
        return asdict(self)

    def format(self) -> str:
        """A few lines for a person."""
        lines = [
            f"harlite {self.harlite} on Python {self.python} ({self.python_bits}-bit), "
            f"machine {self.machine}, wheels for {self.platform_tag}",
            f"numpy {self.numpy}, scipy {self.scipy or 'not installed'}",
            "interpreters (tried in this order):",
        ]
        for backend in self.backends:
            version = backend.version or "not installed"
            lines.append(f"  {backend.name:<15} {version:<14} {backend.status}")
        lines.append(f"will run: {self.runs or 'none'}")
        lines.append(f"onnxruntime: {self.onnxruntime}")
        lines.append(f"csv reader: {self.csv_reader}")
        lines.append(f"filters: {self.filters}")
        lines.append(f"check: {self.check}")
        if self.runs is not None and self.check.startswith("ok"):
            lines.append(f"install here: nothing more ({self.runs} runs and passed the check)")
        else:
            lines.append(f"install here: {self.install}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def install_command(machine: str, bits: int) -> str:
    """The one command that installs harlite's runtime with an interpreter on this machine
    (where the plain install brings one, by its dependency markers, the plain install)."""
    if bits == 64 and (
        machine in ("x86_64", "AMD64") or (machine == "arm64" and sys.platform == "darwin")
    ):
        return "pip install . (from a clone, or the wheel): the plain install brings ai-edge-litert"
    if bits == 32 and machine.lower() in ("aarch64", "armv8l", "armv7l", "arm64"):
        return (
            "sudo apt install python3-numpy python3-scipy && python3 -m venv "
            "--system-site-packages env && env/bin/pip install 'harlite[tflite-runtime]' "
            "(32-bit userland: tflite-runtime 2.14 with Debian's numpy 1)"
        )
    return "pip install 'harlite[litert]'"


def diagnose(check_model: bool = True) -> Diagnosis:
    """Everything ``harlite doctor`` reports; ``check_model`` runs one window of the shipped
    ``lstm`` model through the interpreter that would be chosen."""
    bits = struct.calcsize("P") * 8
    machine = platform.machine()
    backends = [_status(name) for name in BACKENDS]
    runs = next((b.name for b in backends if b.status == "ok"), None)
    notes = []
    if bits == 32 and machine.lower() == "aarch64":
        notes.append(
            "a 64-bit kernel with a 32-bit userland (32-bit Raspberry Pi OS on a Pi 4/5): "
            "ai-edge-litert has no wheel for it; tflite-runtime does"
        )
    usable = [b.name for b in backends if b.status == "ok"]
    if len(usable) > 1:
        notes.append(f"several interpreters are installed: {runs} runs unless --backend says")
    extras = {}
    onnx = onnxruntime_version()
    if onnx is not None:
        extras["onnxruntime"] = f"{onnx} (runs ONNX artefacts: --backend onnxruntime or auto)"
    if pandas_reader() is not None:
        extras["csv_reader"] = f"pandas {installed_version('pandas')} C reader for large blocks"
    return Diagnosis(
        **extras,
        harlite=__version__,
        python=platform.python_version(),
        python_bits=bits,
        machine=machine,
        platform_tag=sysconfig.get_platform(),
        numpy=np.__version__,
        scipy=installed_version("scipy"),
        backends=backends,
        runs=runs,
        filters=_filters(),
        check=_check(runs) if check_model and runs else "not run (no interpreter can run)",
        install=install_command(machine, bits),
        notes=notes,
    )


def _filters() -> str:
    """How the filter bank runs here: each bundle's own coefficients, through scipy's kernel
    loaded alone or, where it cannot be, through ``scipy.signal.sosfilt``."""
    if kernel_in_use() == "compiled kernel":
        return (
            "scipy's compiled sosfilt kernel, loaded alone, with each bundle's own coefficients "
            "(no `import scipy.signal`)"
        )
    return (
        "scipy.signal.sosfilt with each bundle's own coefficients (scipy's kernel could not be "
        "loaded alone: about a second more per process start)"
    )


def _status(name: str) -> BackendStatus:
    distribution = DISTRIBUTIONS[name]
    version = installed_version(distribution)
    problem = backend_problem(name)
    if problem is not None:
        status = problem
    else:
        try:
            _load_interpreter(name)
            status = "ok"
        except Exception as error:  # a broken install says why, whatever it raised
            status = "not installed" if version is None else f"cannot load: {error}"
    return BackendStatus(name, distribution, version, status)


def _check(backend: str) -> str:
    """One window of the shipped lstm through ``backend``."""
    from harlite.runtime.model.bundle import Bundle
    from harlite.shipped import model_path

    try:
        bundle = Bundle.open(model_path("lstm"))
        started = time.perf_counter()
        model = bundle.load_tflite(None, backend=backend)
        window = np.zeros((1, bundle.window, N_MODEL_CHANNELS), np.float32)
        probabilities = model.predict(window)
        seconds = time.perf_counter() - started
    except HarliteError as error:
        return f"FAILED: {error}"
    if not np.isfinite(probabilities).all():
        return "FAILED: non-finite outputs"
    return (
        f"ok: the shipped lstm ran one window on {backend} ({seconds * 1000:.0f} ms with loading)"
    )
