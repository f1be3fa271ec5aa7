#!/usr/bin/env bash
# Raspberry Pi installs, proven under emulation (run before each release; too slow for CI).
#
# Builds Debian bookworm arm64 and armhf roots with debootstrap and qemu-user-static, installs
# this commit's wheel in every supported configuration, runs the README's device commands
# (doctor, the demo stream, verify of lstm and cnn, an int8 stream), compares the predictions
# with this machine's, and writes benchmarks/results/pi.md.
#
#   sudo tools/check-pi.sh [WORKDIR]      # default /tmp/harlite-pi; roots are reused
#   CHECK_PI_ONLY=armhf sudo tools/check-pi.sh   # the 32-bit configurations only
#
# Needs root (debootstrap, chroot, binfmt_misc), Debian's qemu-user-static, debootstrap and
# binfmt-support (installed when missing), and the Debian and PyPI mirrors. About 40 minutes
# the first time (the roots), 20 after. Two emulation quirks are handled: qemu 7.2 shows the
# host's x86 /proc/cpuinfo, on which ai-edge-litert's CPU detection crashes (a Raspberry Pi
# cpuinfo is bind-mounted over it), and qemu's default "max" CPU makes numpy 2's float32
# matmul warn (a Cortex-A72 is emulated, the Pi 4's core).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
WORK=${1:-/tmp/harlite-pi}
REPORT=$REPO/benchmarks/results/pi.md
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
export PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive
mkdir -p "$WORK"
log() { printf '\n=== %s\n' "$*"; }

log "host tools"
for tool in debootstrap qemu-aarch64-static update-binfmts; do
  command -v "$tool" > /dev/null || apt-get install -y -q qemu-user-static debootstrap binfmt-support
done
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64
update-binfmts --enable qemu-arm

log "the wheel, and this machine's reference predictions"
rm -rf "$WORK/dist" "$WORK/host" "$WORK/host-tflite" "$WORK/out"
python3 -m venv "$WORK/build-venv"
"$WORK/build-venv/bin/pip" install -q build
"$WORK/build-venv/bin/python" -m build --wheel --outdir "$WORK/dist" . > "$WORK/build.log" 2>&1
WHEEL=$(basename "$WORK"/dist/harlite-*.whl)
python3 -m venv "$WORK/host"
"$WORK/host/bin/pip" install -q "$WORK/dist/$WHEEL"
DEMO=$("$WORK/host/bin/python" -c 'from harlite.cli.stream import DEMO_RECORDING; print(DEMO_RECORDING)')
# References per interpreter: a device is compared with this machine running the same one.
python3 -m venv "$WORK/host-tflite"
"$WORK/host-tflite/bin/pip" install -q "$WORK/dist/$WHEEL[tflite-runtime]"
for backend in ai_edge_litert tflite_runtime; do
  venv=$WORK/host
  [ "$backend" = tflite_runtime ] && venv=$WORK/host-tflite
  mkdir -p "$WORK/out/$backend"
  "$venv/bin/harlite" stream --demo --backend "$backend" --output "$WORK/out/$backend/lstm.jsonl" --quiet
  "$venv/bin/harlite" stream cnn --artifact int8 --backend "$backend" --input "$DEMO" \
    --output "$WORK/out/$backend/cnn-int8.jsonl" --quiet
done

write_cpuinfo() {  # $1: root, $2: arm64|armhf
  local features architecture
  if [ "$2" = arm64 ]; then
    features="fp asimd evtstrm crc32 cpuid"; architecture=8
  else
    features="half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32"
    architecture=7
  fi
  : > "$1/etc/harlite-cpuinfo"
  for cpu in 0 1 2 3; do
    printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: %s\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n' \
      "$cpu" "$features" "$architecture" >> "$1/etc/harlite-cpuinfo"
  done
  printf 'Hardware\t: BCM2835\nRevision\t: c03111\nModel\t\t: Raspberry Pi 4 Model B Rev 1.1\n' >> "$1/etc/harlite-cpuinfo"
}

make_root() {  # $1: arm64|armhf
  local root=$WORK/$1
  if [ ! -x "$root/usr/bin/python3" ] || [ ! -e "$root/.harlite-root-done" ]; then
    log "debootstrap $SUITE $1 (emulated second stage: slow)"
    rm -rf "$root"
    debootstrap --arch="$1" --variant=minbase \
      --include=python3,python3-venv,python3-pip,ca-certificates,python3-numpy,python3-scipy \
      "$SUITE" "$root" "$MIRROR" > "$WORK/debootstrap-$1.log" 2>&1 \
      || { tail -20 "$WORK/debootstrap-$1.log"; exit 1; }
    touch "$root/.harlite-root-done"
  fi
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # A host behind a TLS-intercepting proxy trusts its CA through this bundle: so must pip.
  cp "${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}" "$root/etc/harlite-ca.crt"
  write_cpuinfo "$root" "$1"
  mkdir -p "$root/work"
  cp "$WORK/dist/$WHEEL" "$root/work/"
}

in_root() {  # $1: root name, then a shell command run inside it
  local root=$WORK/$1
  shift
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mount --bind "$root/etc/harlite-cpuinfo" "$root/proc/cpuinfo"
  local status=0
  QEMU_CPU=$([ "$(basename "$root")" = arm64 ] && echo cortex-a72 || echo cortex-a15) \
    chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CERT=/etc/harlite-ca.crt SSL_CERT_FILE=/etc/harlite-ca.crt \
    ${https_proxy:+https_proxy=$https_proxy} ${http_proxy:+http_proxy=$http_proxy} \
    /bin/bash -c "$*" || status=$?
  umount "$root/proc/cpuinfo"
  umount "$root/proc"
  return $status
}

# A userland reporting another machine than the emulator's: 32-bit Raspberry Pi OS on a
# Pi 4/5 boots a 64-bit kernel (uname -m: aarch64), and linux32 reads armv8l.
uname_shim() {  # $1: venv inside the root, $2: machine to report
  # A .pth file, not sitecustomize.py: Debian's own sitecustomize comes first on the path of
  # a --system-site-packages venv and would hide it.
  local site=$1/lib/python3.11/site-packages
  cat > "$site/_harlite_uname_shim.py" <<PY
import os
_uname = os.uname
def _shimmed():
    u = _uname()
    return os.uname_result((u.sysname, u.nodename, u.release, u.version, "$2"))
os.uname = _shimmed
PY
  echo "import _harlite_uname_shim" > "$site/_harlite_uname_shim.pth"
}

ROWS=()
run_configuration() {  # $1: root, $2: name, $3: venv options, $4: pip target, $5: machine shim
  # or "", $6: a command run in the venv before the install (e.g. a newer pip), or ""
  local root=$1 name=$2
  local slug
  slug=$(printf '%s' "$2" | tr -c 'A-Za-z0-9' '-' | tr -s '-')
  local venv=/work/venv-$slug out=/work/out-$slug
  log "$root: $name"
  rm -rf "$WORK/$root$venv" "$WORK/$root$out"
  mkdir -p "$WORK/$root$out"
  in_root "$root" "python3 -m venv $3 $venv"
  [ -n "$5" ] && uname_shim "$WORK/$root$venv" "$5"
  local install=ok command="pip install '$WHEEL$4'"
  [ -n "${6:-}" ] && command="$6 && $command"
  in_root "$root" "cd $venv/bin && ./${6:-}${6:+ && ./}pip install -q '/work/$WHEEL$4'" \
    > "$WORK/$root$out/install.log" 2>&1 \
    || install="FAILED: $(grep -m1 -E 'ERROR|error' "$WORK/$root$out/install.log" || tail -1 "$WORK/$root$out/install.log")"
  if [ "$install" != ok ]; then
    ROWS+=("| $name | \`$command\`${3:+ (venv $3)} | $install | | | |")
    return
  fi
  local demo
  demo=$(in_root "$root" "$venv/bin/python -c 'from harlite.cli.stream import DEMO_RECORDING; print(DEMO_RECORDING)'")
  in_root "$root" "set -e; cd $out
    $venv/bin/harlite --version
    $venv/bin/harlite doctor | tee doctor.txt
    $venv/bin/harlite stream --demo --output lstm.jsonl --quiet
    $venv/bin/harlite verify lstm
    $venv/bin/harlite verify cnn
    $venv/bin/harlite stream cnn --artifact int8 --input $demo --output cnn-int8.jsonl --quiet" \
    > "$WORK/$root$out/commands.log" 2>&1 || true
  local result versions backend
  backend=$(sed -n 's/^will run: //p' "$WORK/$root$out/doctor.txt" 2>/dev/null || true)
  result=$("$WORK/host/bin/python" - "$WORK/out/${backend:-ai_edge_litert}" "$WORK/$root$out" <<'PY'
import json, sys
from pathlib import Path
host, here = Path(sys.argv[1]), Path(sys.argv[2])
parts = []
for name, tolerance in (("lstm.jsonl", 1e-3), ("cnn-int8.jsonl", 0.1)):
    if not (here / name).is_file():
        parts.append(f"{name}: FAILED (see commands.log)")
        continue
    a = [json.loads(l) for l in (host / name).read_text().splitlines()]
    b = [json.loads(l) for l in (here / name).read_text().splitlines()]
    equal = sum(x["label"] == y["label"] for x, y in zip(a, b))
    delta = max(abs(x["probabilities"][k] - y["probabilities"][k]) for x, y in zip(a, b) for k in x["probabilities"])
    ok = len(a) == len(b) == equal and delta <= tolerance
    parts.append(f"{name}: labels equal in {equal} of {len(b)} windows, max |Δp| {delta:.1e} ({'ok' if ok else 'FAILED'})")
print("; ".join(parts))
PY
)
  versions=$(grep -E "^numpy|will run|wheels for" "$WORK/$root$out/doctor.txt" 2>/dev/null | tr '\n' ' ' || true)
  local verify
  verify=$(grep -c " ok " "$WORK/$root$out/commands.log" || true)
  ROWS+=("| $name | \`$command\`${3:+ (venv $3)} | ok | $versions | $verify artefacts verified ok | $result |")
}

if [ "${CHECK_PI_ONLY:-}" != armhf ]; then
make_root arm64
run_configuration arm64 "Raspberry Pi OS 64-bit / Debian arm64" "" "[litert]" ""
run_configuration arm64 "arm64 with Debian's numpy 1.24" "--system-site-packages" "[tflite-runtime]" ""
fi
make_root armhf
run_configuration armhf "32-bit Raspberry Pi OS, Pi 2/3 (armv7l)" "--system-site-packages" "" ""
run_configuration armhf "32-bit Raspberry Pi OS on a Pi 4/5 (aarch64 kernel)" "--system-site-packages" "[tflite-runtime]" aarch64
run_configuration armhf "32-bit userland under linux32 (armv8l)" "--system-site-packages" "" armv8l \
  "pip install -q -U pip"

log "report"
{
  echo "# Raspberry Pi installs under emulation"
  echo
  echo "\`tools/check-pi.sh\` on $(date -u +%Y-%m-%d), commit $(git -C "$REPO" rev-parse --short HEAD),"
  echo "Debian $SUITE roots (debootstrap) under qemu-user $(qemu-aarch64-static --version | head -1 | awk '{print $3}')"
  echo "emulating a Cortex-A72 (arm64) and a Cortex-A15 (armhf). Predictions on the shipped demo"
  echo "recording are compared with this x86_64 machine's running the same interpreter"
  echo "(ai-edge-litert or tflite-runtime 2.14): pass when every label is equal and the largest"
  echo "probability difference is within 1e-3 (float32 \`lstm\`) or 0.1 (\`cnn\` int8, whose"
  echo "integer kernels round differently on Arm and x86); the measured figures are given."
  echo
  echo "| configuration | install | result | versions (harlite doctor) | verify | predictions vs x86_64 |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Not verifiable here: piwheels (Raspberry Pi OS's own index, not reachable from this"
  echo "machine), real Pi hardware (its CPU features, timing), and Raspberry Pi OS's own"
  echo "images (Debian $SUITE roots stand in for them: the same distribution, packages and glibc)."
} > "$REPORT"
cat "$REPORT"
