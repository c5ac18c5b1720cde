# target-lib.sh - what the target scripts share (sourced by scripts/target-test.sh and
# scripts/target-bench.sh after they set ROOT): the tool check, the out-of-tree builds
# (host tree with the ESP32-S3 cross compiler, idf.py projects), flash images and a boot
# of Espressif's QEMU esp32s3 model with the serial log in a file.
#
# Uses the tools, never builds them. Needs on PATH: idf.py (ESP-IDF v5.3-v5.5, IDF_PATH
# set), xtensa-esp32s3-elf-gcc, esptool.py or esptool, qemu-system-xtensa with the
# esp32s3 machine. Without them target_check_tools names what is missing and exits 2.
OUT=${TT_OUT:-$ROOT/build-target}
LOGS=$OUT/logs
JOBS=${JOBS:-$(nproc)}
# -icount shift=3: 8 ns of virtual time per instruction (a 125 MIPS core), the same
# instruction stream on every run; sleep=off lets idle periods pass at once.
QEMU_ICOUNT=${QEMU_ICOUNT:-shift=3,sleep=off}

# ---- tools -------------------------------------------------------------------------------
target_check_tools() {
    missing=()
    command -v idf.py >/dev/null 2>&1 || missing+=("idf.py (ESP-IDF v5.3-v5.5: source its export.sh)")
    [ -n "${IDF_PATH:-}" ] && [ -f "${IDF_PATH:-/nonexistent}/tools/cmake/project.cmake" ] ||
        missing+=("IDF_PATH (the ESP-IDF tree idf.py belongs to)")
    command -v xtensa-esp32s3-elf-gcc >/dev/null 2>&1 || missing+=("xtensa-esp32s3-elf-gcc (ESP-IDF's esp32s3 GCC)")
    if command -v esptool.py >/dev/null 2>&1; then ESPTOOL=esptool.py
    elif command -v esptool >/dev/null 2>&1; then ESPTOOL=esptool
    else missing+=("esptool.py or esptool"); fi
    if ! command -v qemu-system-xtensa >/dev/null 2>&1; then
        missing+=("qemu-system-xtensa (Espressif's QEMU fork)")
    elif ! qemu-system-xtensa -M help 2>/dev/null | grep -q '^esp32s3 '; then
        missing+=("qemu-system-xtensa with the esp32s3 machine (this one has none: Espressif's fork needed)")
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        echo "target-test: missing tools, nothing was run:" >&2
        for m in "${missing[@]}"; do echo "  - $m" >&2; done
        echo "0 passed, 1 failed"
        exit 2
    fi
    mkdir -p "$LOGS"
    IDF_VER=$(cd "$IDF_PATH" && (git describe --tags 2>/dev/null || cat version.txt 2>/dev/null || idf.py --version 2>/dev/null) | head -1)
    echo "target-test: ESP-IDF ${IDF_VER:-?} ($IDF_PATH)"
    echo "target-test: $(xtensa-esp32s3-elf-gcc --version | head -1)"
    echo "target-test: $(qemu-system-xtensa --version | head -1)"
}

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS $1${2:+: $2}"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1: $2"; }
want() { [ -z "${TT_ONLY:-}" ] || [[ " $TT_ONLY " == *" $1 "* ]]; }

# ---- builds ------------------------------------------------------------------------------
# Host tree with the real cross compiler: the duet CLI and every core-1 example as
# images/<name>.esp32s3.img (windowed ABI).
build_host() {
    cmake -S "$ROOT" -B "$OUT/host" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUET_XTENSA_TOOLCHAIN=esp32s3 \
        >"$LOGS/host-configure.log" 2>&1 &&
        cmake --build "$OUT/host" -j"$JOBS" >"$LOGS/host-build.log" 2>&1
}

# idf_build NAME DIR [extra sdkconfig.defaults files...]: idf.py build out of tree.
idf_build() {
    local name=$1 dir=$2
    shift 2
    local defaults="$dir/sdkconfig.defaults"
    for f in "$@"; do defaults="$defaults;$f"; done
    local b="$OUT/idf/$name"
    mkdir -p "$b"
    # An existing sdkconfig wins over SDKCONFIG_DEFAULTS (and idf.py rewrites it on every
    # build): start from the defaults again whenever their list or content changed, so
    # a scenario never runs with stale options.
    local list stamp
    IFS=';' read -ra list <<<"$defaults"
    stamp=$( { echo "$defaults"; cat "${list[@]}"; } | sha256sum | cut -c1-64)
    if [ "$(cat "$b/defaults.stamp" 2>/dev/null)" != "$stamp" ]; then
        rm -f "$b/sdkconfig"
        echo "$stamp" >"$b/defaults.stamp"
    fi
    idf.py -C "$dir" -B "$b" -D SDKCONFIG="$b/sdkconfig" -D SDKCONFIG_DEFAULTS="$defaults" \
        "${IDF_EXTRA_ARGS[@]}" build >"$LOGS/idf-$name.log" 2>&1
}
IDF_EXTRA_ARGS=()

# flash_image BUILD OUTFILE [OFFSET FILE ...]: merged 4 MB flash of an IDF build (+ extra files)
flash_image() {
    local b=$1 out=$2
    shift 2
    local args
    args=$(cd "$b" && python3 -c 'import json;d=json.load(open("flasher_args.json"));print(" ".join(f"{k} {v}" for k,v in d["flash_files"].items()))')
    # shellcheck disable=SC2086
    (cd "$b" && $ESPTOOL --chip esp32s3 merge_bin --fill-flash-size 4MB -o "$out" $args "$@" >/dev/null)
}

# part_offset BUILD NAME: offset of a partition of an IDF build (from its partition table)
part_offset() {
    python3 "$IDF_PATH/components/partition_table/gen_esp32part.py" "$1/partition_table/partition-table.bin" 2>/dev/null |
        awk -F, -v n="$2" '$1==n {print $4}'
}

# boot FLASH LOG SECONDS [UNTIL_REGEX [COUNT]]: run the model, serial output to LOG; stops
# early once COUNT (default 1) lines match UNTIL_REGEX or the file LOG.stop exists. NIC: QEMU_NIC (open_eth, user net).
boot() {
    local flash=$1 log=$2 secs=$3 until=${4:-} count=${5:-1}
    local efuse="$OUT/run/efuse.bin"
    head -c 1024 /dev/zero >"$efuse"
    : >"$log"
    rm -f "$log.stop"
    # Serial goes to a file, not stdio, so the model needs no open stdin.
    timeout -k 5 "$secs" qemu-system-xtensa -nographic -M esp32s3 -m 4M \
        -icount "$QEMU_ICOUNT" \
        -drive file="$flash",if=mtd,format=raw \
        -drive file="$efuse",if=none,format=raw,id=efuse \
        -global driver=nvram.esp32s3.efuse,property=drive,value=efuse \
        -global driver=timer.esp32s3.timg,property=wdt_disable,value=true \
        ${QEMU_NIC:-} -serial file:"$log" -monitor none </dev/null >"$log.qemu" 2>&1 &
    local qpid=$!
    while kill -0 "$qpid" 2>/dev/null; do
        if [ -e "$log.stop" ] || { [ -n "$until" ] && [ "$(grep -Ec "$until" "$log" 2>/dev/null)" -ge "$count" ]; }; then
            sleep 1 # let the line after it reach the log
            kill "$qpid" 2>/dev/null
            break
        fi
        sleep 1
    done
    wait "$qpid" 2>/dev/null
    # Judge plain text: ESP-IDF colours its log lines by default in some versions
    # (CONFIG_LOG_COLORS), and the serial line ends are CR LF.
    sed -i 's/\x1b\[[0-9;]*m//g; s/\r$//' "$log"
    return 0
}

