"""The exported C library on a Cortex-M4F, under emulation: flash, RAM, stack, instructions.

For each preset and weight kind, ``harlite export c`` is built by ``tools/cortex-m`` for
QEMU's mps2-an386 (Cortex-M4F, ``-mfloat-abi=hard -mfpu=fpv4-sp-d16``, ``-std=c99`` and
tools/cortex-m's default ``CFLAGS``, the export's own flags less ``-march=native``) as the
stdio-free bench program, which pushes a real recording through
``harlite_push`` sample by sample (read through semihosting) and prints each window's label.

- **flash**: ``.text + .rodata + .ARM.exidx + .init_array + .data`` (the initial values) of
  the linked image (``arm-none-eabi-size -A``): the library, libm, libgcc's double routines,
  newlib's string functions, the startup code and the small bench loop;
- **RAM**: ``.data + .bss`` of the image (static), and the stack's high-water mark (the stack
  is painted at reset and scanned at the end); the library's own share is given beside it;
- **instructions per window**: QEMU runs with ``-icount shift=0`` (its clock advances 1 ns
  per instruction executed), the program reads SysTick (25 MHz) around each push and each
  forward pass, and converts ticks with a calibration loop of known length (40 instructions
  per tick). The time at 64 MHz assumes one instruction per cycle: a lower bound for a real
  Cortex-M4 (a load takes 2 cycles, VDIV 14, flash above ~30 MHz adds wait states unless an
  accelerator or cache hides them).

Labels are compared with the host C build of the same export (the board's stream program
prints the host program's lines byte for byte: tests/convert/test_export_c_cortex_m.py) and with
``harlite stream --backend onnxruntime``. Writes ``benchmarks/results/mcu.json`` with
``--save`` and fills the generated tables (``python tools/figures.py``: mcu.md, deploy.md).

    python benchmarks/bench_mcu.py --save        # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import save  # noqa: E402

BOARD = REPO / "tools" / "cortex-m"
DEMO = REPO / "harlite" / "demo" / "exp54_user27.csv.gz"
QEMU = [
    "qemu-system-arm", "-machine", "mps2-an386", "-nographic", "-monitor", "none",
    "-serial", "none", "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
]  # fmt: skip
CLOCK_HZ = 64e6
#: The part the issue targets, and its goals for lstm (bytes, seconds).
PART = {"flash_bytes": 256 * 1024, "ram_bytes": 64 * 1024}
GOALS = {
    "lstm_seconds_per_window": 0.100,
    "lstm_ram_bytes": 64 * 1024,
    "lstm_flash_bytes_float32": 256 * 1024,
    "lstm_flash_bytes_int8": 64 * 1024,
}
FLASH_SECTIONS = (".text", ".rodata", ".ARM.exidx", ".init_array", ".data")
PRESETS = ("lstm", "cnn", "resbilstm")
WEIGHTS = ("float32", "int8")


@dataclass
class Row:
    """One build's figures."""

    preset: str
    weights: str
    cflags: str
    flash_bytes: int
    ram_static_bytes: int
    stack_bytes: int
    ram_bytes: int
    library_flash_bytes: int
    library_ram_bytes: int
    weight_bytes: int
    arena_bytes: int
    windows: int
    model_instructions: float
    model_instructions_max: float
    stream_instructions: float
    instructions_per_window: float
    ms_per_window_64mhz: float
    fits_part: bool
    labels_as_host: float
    labels_as_stream: float


def sections(path: Path) -> dict[str, int]:
    """Section sizes (bytes) from ``arm-none-eabi-size -A``."""
    out = subprocess.run(
        ["arm-none-eabi-size", "-A", "-d", path], capture_output=True, text=True, check=True
    ).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def library_sizes(objects: list[Path]) -> tuple[int, int]:
    """Flash (code, constants) and static RAM of the library's own objects."""
    flash = ram = 0
    for path in objects:
        for name, size in sections(path).items():
            if name.startswith((".text", ".rodata")):
                flash += size
            elif name.startswith((".data", ".bss")):
                ram += size
    return flash, ram


def build(bundle: Path, weights: str, out: Path, cflags: str) -> tuple[Path, object]:
    """Export, build for the host and the board; the export's figures."""
    from harlite.convert.export_c import export_c

    export = export_c(bundle, out, weights)
    subprocess.run(["make", "-s", "-C", out], check=True, capture_output=True)
    subprocess.run(
        ["make", "-s", "-C", BOARD, f"HARLITE={out}", f"OUT={out / 'cm'}", f"CFLAGS={cflags}"],
        check=True,
        capture_output=True,
    )
    return out / "cm", export


def run_board(elf: Path, samples: Path) -> tuple[list[str], dict]:
    """The bench program under qemu: each window's label, and the summary."""
    done = subprocess.run(
        [*QEMU, "-kernel", elf, "-append", str(samples)], capture_output=True, timeout=1800
    )
    if done.returncode != 0:
        raise SystemExit(f"{elf}: exit {done.returncode}: {done.stderr.decode()[-2000:]}")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return [line["label"] for line in lines[:-1]], lines[-1]


def host_labels(program: Path, csv: Path) -> list[str]:
    with csv.open("rb") as handle:
        out = subprocess.run([program], stdin=handle, capture_output=True, check=True).stdout
    return [json.loads(line)["label"] for line in out.splitlines()]


def stream_labels(bundle: Path, csv: Path) -> list[str]:
    """``harlite stream --backend onnxruntime``'s labels (the Keras model's computation)."""
    from harlite.runtime.stream import StreamClassifier

    rows = np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7))
    classifier = StreamClassifier(bundle, backend="onnxruntime")
    predictions = classifier.push(rows) + classifier.flush()
    return [p.to_dict(classifier.labels)["label"] for p in predictions]


def share_equal(a: list[str], b: list[str]) -> float:
    if len(a) != len(b):
        return 0.0
    return float(np.mean([x == y for x, y in zip(a, b, strict=True)]))


def measure(preset: str, weights: str, cflags: str, work: Path, csv: Path, samples: Path,
            reference: list[str]) -> Row:  # fmt: skip
    """One preset and weight kind on the board."""
    bundle = REPO / "harlite" / "models" / preset
    cm, export = build(bundle, weights, work / f"{preset}-{weights}-{len(cflags)}", cflags)
    labels, s = run_board(cm / "harlite_bench.elf", samples)
    per_tick = s["calibration_instructions"] / s["calibration_ticks"]
    image = sections(cm / "harlite_bench.elf")
    flash = sum(image.get(name, 0) for name in FLASH_SECTIONS)
    ram_static = image.get(".data", 0) + image.get(".bss", 0)
    lib_flash, lib_ram = library_sizes(
        [cm / f"{n}.o" for n in ("harlite", "harlite_ops", "harlite_model")]
    )
    model = s["model_ticks"] * per_tick / s["windows"]
    total = s["push_ticks"] * per_tick / s["windows"]
    ram = ram_static + s["stack_used"]
    return Row(
        preset=preset,
        weights=weights,
        cflags=cflags,
        flash_bytes=flash,
        ram_static_bytes=ram_static,
        stack_bytes=s["stack_used"],
        ram_bytes=ram,
        library_flash_bytes=lib_flash,
        library_ram_bytes=lib_ram,
        weight_bytes=export.weight_bytes,
        arena_bytes=export.arena_floats * 4,
        windows=s["windows"],
        model_instructions=model,
        model_instructions_max=s["model_max_ticks"] * per_tick,
        stream_instructions=total - model,
        instructions_per_window=total,
        ms_per_window_64mhz=1e3 * total / CLOCK_HZ,
        fits_part=flash <= PART["flash_bytes"] and ram <= PART["ram_bytes"],
        labels_as_host=share_equal(labels, host_labels(cm.parent / "harlite_stream", csv)),
        labels_as_stream=share_equal(labels, reference),
    )


#: tools/cortex-m's default CFLAGS (one source: read from its Makefile).
DEFAULT_CFLAGS = next(
    line.split("?=", 1)[1].strip()
    for line in (BOARD / "Makefile").read_text().splitlines()
    if line.startswith("CFLAGS ?=")
)
#: Extra builds of lstm, a measure of what flags buy: the former -O2 (no fused multiply-adds),
#: -O3 without VFMA, and the filter bank in float (HARLITE_FLOAT_FILTERS: off by default,
#: it moves probabilities by up to 1.6e-4).
VARIANTS = (
    ("lstm", "float32", "-O2"),
    ("lstm", "float32", "-O3 -fno-trapping-math"),
    ("lstm", "float32", f"{DEFAULT_CFLAGS} -DHARLITE_FLOAT_FILTERS=1"),
)


def goals(rows: list[Row]) -> dict:
    """The issue's goals for lstm (default flags), each with its margin."""
    by_weights = {r.weights: r for r in rows if r.preset == "lstm" and r.cflags == DEFAULT_CFLAGS}
    out = {}
    for weights, row in by_weights.items():
        out[weights] = {
            "ms_per_window_64mhz": [
                row.ms_per_window_64mhz,
                1e3 * GOALS["lstm_seconds_per_window"],
            ],
            "ram_bytes": [row.ram_bytes, GOALS["lstm_ram_bytes"]],
            "flash_bytes": [row.flash_bytes, GOALS[f"lstm_flash_bytes_{weights}"]],
        }
    return out


def versions() -> dict[str, str]:
    def first_line(*command: str) -> str:
        return subprocess.run(command, capture_output=True, text=True).stdout.splitlines()[0]

    return {
        "gcc": first_line("arm-none-eabi-gcc", "--version"),
        "qemu": first_line("qemu-system-arm", "--version"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", type=Path, default=DEMO, help="CSV (.gz) to stream")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--save", action="store_true", help="write results/mcu.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="harlite-mcu-") as tmp:
        work = Path(tmp)
        csv = work / "recording.csv"
        raw = args.recording.read_bytes()
        csv.write_bytes(gzip.decompress(raw) if args.recording.suffix == ".gz" else raw)
        samples = work / "recording.f64"
        np.genfromtxt(csv, delimiter=",", skip_header=1, usecols=range(7)).astype("<f8").tofile(
            samples
        )
        rows = []
        builds = [(p, w, DEFAULT_CFLAGS) for p in args.presets for w in WEIGHTS]
        builds += [v for v in VARIANTS if v[0] in args.presets]
        references = {}
        for preset, weights, cflags in builds:
            if preset not in references:
                references[preset] = stream_labels(REPO / "harlite" / "models" / preset, csv)
            row = measure(preset, weights, cflags, work, csv, samples, references[preset])
            print(json.dumps(asdict(row)), flush=True)
            rows.append(row)
    figures = {
        "board": "QEMU mps2-an386 (Cortex-M4F), -mcpu=cortex-m4 -mthumb -mfloat-abi=hard "
        "-mfpu=fpv4-sp-d16 -std=c99",
        "recording": args.recording.name,
        "clock_hz": CLOCK_HZ,
        "part": PART,
        "goals": goals(rows),
        "rows": [asdict(r) for r in rows],
        "versions": versions(),
        "command": "python benchmarks/bench_mcu.py --save",
    }
    if args.save:
        print(f"wrote {save('mcu', figures)}")
        subprocess.run([sys.executable, REPO / "tools" / "figures.py"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
