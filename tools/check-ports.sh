#!/usr/bin/env bash
# Every port of harlite's device runtime against `harlite stream`, window for window.
#
#   tools/check-ports.sh BUNDLE|NAME CSV...     # e.g. tools/check-ports.sh lstm rec.csv
#
# Prints one line per port: `PORT: N/M windows with harlite stream's label`, and exits
# non-zero when a port gives another label (or other windows) anywhere. Ports:
#   jvm        `harlite export android`'s Java class org.harlite.Harlite through JNI, the C core
#              built with the host's cc, run on the JDK (tools/jvm/HarliteReplay.java: each
#              row as a gyroscope and an accelerometer SensorEvent, m/s² and rad/s as floats,
#              ns). Needs a JDK (javac, java, jni.h): Debian's default-jdk-headless, installed
#              with apt when run as root (HARLITE_PORTS_INSTALL=0: never).
#   web        `harlite export web`: the phone page (the C core in WebAssembly, built with
#              clang, lld and wasi-libc) in headless Chromium, each sample through
#              window.harlite.push (tools/web_port.py; needs Debian's chromium and
#              chromium-driver and the selenium package). The apt packages are installed
#              when run as root (HARLITE_PORTS_INSTALL=0: never), else the line says why
#              the port was not run.
#   host-c     `harlite export c` built with the host's cc (needs harlite[train] to export)
#   cortex-m   the same export built for a Cortex-M4F (tools/cortex-m: QEMU's mps2-an386,
#              -mfloat-abi=hard -mfpu=fpv4-sp-d16) and run under qemu-system-arm, the CSV
#              read through semihosting. Needs Debian's gcc-arm-none-eabi,
#              libnewlib-arm-none-eabi and qemu-system-arm: installed with apt when run as root
#              (HARLITE_PORTS_INSTALL=0: never), else the line says the port was not run.
# HARLITE_PORTS="host-c" checks only the ports named.
# harlite stream runs with --backend onnxruntime where the bundle has an ONNX artefact and
# onnxruntime is installed: that backend computes the Keras model, as the C port does (the
# default TFLite backend's fused LSTM kernel differs from it by up to 0.15 on a few windows
# of a stacked LSTM; HARLITE_STREAM_ARGS="" compares with the default backend instead).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 BUNDLE|NAME CSV..." >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUNDLE=$1
shift
PORTS=${HARLITE_PORTS:-web jvm host-c cortex-m}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/harlite-ports.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [ -z "${HARLITE_STREAM_ARGS+set}" ]; then
    HARLITE_STREAM_ARGS=""
    if python -c "import onnxruntime" 2>/dev/null; then HARLITE_STREAM_ARGS="--backend onnxruntime"; fi
fi
ARM_TOOLS="arm-none-eabi-gcc qemu-system-arm"
arm_tools_missing() {
    local tool
    for tool in $ARM_TOOLS; do command -v "$tool" >/dev/null || return 0; done
    [ -n "$(arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 \
        -print-file-name=librdimon.a | grep /)" ] || return 0
    return 1
}
install_arm_tools() {  # as tools/check-pi.sh does: apt when root
    arm_tools_missing || return 0
    if [ "$(id -u)" -ne 0 ] || [ "${HARLITE_PORTS_INSTALL:-1}" = 0 ]; then return 1; fi
    echo "installing gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q gcc-arm-none-eabi \
        libnewlib-arm-none-eabi qemu-system-arm >&2 || return 1
    ! arm_tools_missing
}
java_home() {  # the JDK of the javac on PATH, with its JNI headers
    local home
    command -v javac >/dev/null && command -v java >/dev/null || return 1
    home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    [ -f "$home/include/jni.h" ] && echo "$home"
}
install_jdk() {
    java_home >/dev/null && return 0
    if [ "$(id -u)" -ne 0 ] || [ "${HARLITE_PORTS_INSTALL:-1}" = 0 ]; then return 1; fi
    echo "installing default-jdk-headless with apt" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q default-jdk-headless >&2 || return 1
    java_home >/dev/null
}
WEB_PACKAGES="clang lld wasi-libc libclang-rt-dev-wasm32 chromium chromium-driver"
web_missing() {  # why the web port cannot run here (nothing: it can)
    python -c 'from harlite.convert.export_web import wasm_toolchain; wasm_toolchain()' 2>&1 \
        | tail -1 | grep . && return 0
    python "$HERE/web_port.py" --check 2>&1 | grep -v '^ready$' | grep .
}
install_web_tools() {  # as for the Arm tools: apt when root
    [ -z "$(web_missing)" ] && return 0
    if [ "$(id -u)" -ne 0 ] || [ "${HARLITE_PORTS_INSTALL:-1}" = 0 ]; then return 1; fi
    echo "installing $WEB_PACKAGES with apt" >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $WEB_PACKAGES >&2 || return 1
    [ -z "$(web_missing)" ]
}
build_jvm() {  # harlite export android, its JNI library and Java classes for this host
    local jdk
    jdk=$(java_home)
    harlite export android "$BUNDLE" --out "$WORK/android" 2>"$WORK/android.log" \
        || { cat "$WORK/android.log" >&2; return 1; }
    mkdir -p "$WORK/jvm"
    cc -std=c99 -O2 -fPIC -shared -I"$jdk/include" -I"$jdk/include/linux" \
        -o "$WORK/jvm/libharlite_jni.so" "$WORK"/android/src/main/cpp/*.c -lm >&2 || return 1
    javac --release 8 -d "$WORK/jvm/classes" "$WORK"/android/src/main/java/org/harlite/*.java \
        "$HERE/jvm/HarliteReplay.java" >&2
}

case " $PORTS " in  # the C ports' export (the jvm port makes its own)
    *" host-c "* | *" cortex-m "*) harlite export c "$BUNDLE" --out "$WORK/export" 2>"$WORK/export.log" \
        || { cat "$WORK/export.log" >&2; exit 1; } ;;
esac
ready=""
declare -A notes total same
for port in $PORTS; do
    case $port in
        host-c) make -s -C "$WORK/export" >&2 && ready="$ready host-c" ;;
        web)
            if ! install_web_tools; then
                notes[web]="web: not run ($(web_missing | head -1))"
                continue
            fi
            harlite export web "$BUNDLE" --out "$WORK/web" 2>"$WORK/web.log" \
                || { cat "$WORK/web.log" >&2; exit 1; }
            ready="$ready web" ;;
        jvm)
            if ! install_jdk; then
                notes[jvm]="jvm: not run (needs a JDK with javac and jni.h: apt-get install"
                notes[jvm]+=" default-jdk-headless, or run as root)"
                continue
            fi
            build_jvm || exit 1
            ready="$ready jvm" ;;
        cortex-m)
            if ! install_arm_tools; then
                notes[cortex-m]="cortex-m: not run (needs $ARM_TOOLS and newlib: apt-get install"
                notes[cortex-m]+=" gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm, or run as root)"
                continue
            fi
            make -s -C "$HERE/cortex-m" HARLITE="$WORK/export" OUT="$WORK/cortex-m" \
                "$WORK/cortex-m/harlite_stream.elf" >"$WORK/cortex-m.log" 2>&1 \
                || { cat "$WORK/cortex-m.log" >&2; exit 1; }
            ready="$ready cortex-m" ;;
        *) echo "unknown port $port (web, jvm, host-c, cortex-m)" >&2; exit 2 ;;
    esac
done

run_port() {  # $1 port, $2 plain CSV file -> JSON lines on stdout
    case $1 in
        host-c) "$WORK/export/harlite_stream" <"$2" 2>"$WORK/port.log" ;;
        web) python "$HERE/web_port.py" "$WORK/web" "$2" 2>"$WORK/port.log" ;;
        jvm) java -Djava.library.path="$WORK/jvm" -cp "$WORK/jvm/classes" HarliteReplay \
            <"$2" 2>"$WORK/port.log" ;;
        cortex-m) qemu-system-arm -machine mps2-an386 -nographic -monitor none -serial none \
            -semihosting-config enable=on,target=native -kernel "$WORK/cortex-m/harlite_stream.elf" \
            -append "$2" 2>"$WORK/port.log" ;;
    esac
}

status=0
for csv in "$@"; do
    # shellcheck disable=SC2086
    harlite stream "$BUNDLE" $HARLITE_STREAM_ARGS --input "$csv" --quiet >"$WORK/python.jsonl"
    case "$csv" in  # a plain copy without spaces in its name: semihosting's command line
        *.gz) gzip -dc "$csv" >"$WORK/input.csv" ;;
        *) cp "$csv" "$WORK/input.csv" ;;
    esac
    for port in $ready; do
        run_port "$port" "$WORK/input.csv" >"$WORK/port.jsonl" || { cat "$WORK/port.log" >&2; exit 1; }
        read -r n m < <(python - "$WORK/python.jsonl" "$WORK/port.jsonl" <<'PY'
import json, sys
python = [json.loads(line) for line in open(sys.argv[1])]
port = [json.loads(line) for line in open(sys.argv[2])]
same = sum(
    a["label"] == b["label"]
    and abs(a["start_time"] - b["start_time"]) < 2e-6
    and abs(a["end_time"] - b["end_time"]) < 2e-6
    for a, b in zip(python, port)
)
print(same, max(len(python), len(port)))
PY
)
        total[$port]=$(( ${total[$port]:-0} + m ))
        same[$port]=$(( ${same[$port]:-0} + n ))
        [ "$n" -eq "$m" ] || { echo "$port: $csv: $n/$m windows agree" >&2; status=1; }
    done
done
for port in $PORTS; do
    if [ -n "${notes[$port]:-}" ]; then echo "${notes[$port]}"; continue; fi
    echo "$port: ${same[$port]}/${total[$port]} windows with harlite stream's label"
done
exit $status
