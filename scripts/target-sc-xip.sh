# target-sc-xip.sh - the XIP scenario of scripts/target-test.sh (sourced by it; adds
# sc_xip to EXTRA_SCENARIOS; uses pass/fail/want/idf_build/flash_image/part_offset/boot/tt
# and $OUT $LOGS $DUET). Run alone: TT_ONLY="xip" scripts/target-test.sh
#
# Firmware tests/target/xipfw (CONFIG_DUET_LOAD_XIP=y, 512 KiB slots) with an XIP
# program in slot A: examples/bigtable when the host tree built it for the ESP32-S3, else
# tests/target/xipcheck.c built here in XIP mode. Core 0 writes NVS, erases and writes
# slot B, and installs another image (the counter, staged in the tt_stage partition) into
# slot B while the program runs from the flash mapping; each check prints the parks and
# the core-0 cycles core 1 was held per operation kind. Passes when every check passes,
# the program's answers stay right (bigtable's are recomputed on the PC), no park needed
# the hardware stall, and core 0 never reset. xip-stall: xipcheck masks its interrupts
# on request, core 0 must stall it in hardware, its answers must stay right.

# The XIP program of the run (XIP_PROG, XIP_IMG): bigtable if the host tree cross-built
# it in XIP mode, else xipcheck.
xip_program() {
    local img=$OUT/host/images/bigtable.esp32s3.img
    if [ -f "$img" ] && python3 -c 'import sys,struct;d=open(sys.argv[1],"rb").read(12);sys.exit(0 if struct.unpack_from("<H",d,10)[0]&1 else 1)' "$img"; then
        XIP_PROG=bigtable
        XIP_IMG=$img
        return 0
    fi
    xipcheck_build
}

# tests/target/xipcheck.c in XIP mode (its own tree; XIP_PROG/XIP_IMG = it).
xipcheck_build() {
    local b=$OUT/xip/xipcheck
    XIP_PROG=xipcheck
    XIP_IMG=$b/xipcheck.esp32s3.img
    cmake -S "$ROOT/sdk/cmake/xtensa" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$ROOT/sdk/cmake/toolchain-xtensa-esp32s3.cmake" \
        -DDUET_ROOT="$ROOT" -DDUET_PROGRAM_NAME=xipcheck -DDUET_PROGRAM_SOURCES="$ROOT/tests/target/xipcheck.c" \
        -DDUET_PROGRAM_MODE=xip >"$LOGS/xip-program.log" 2>&1 &&
        cmake --build "$b" -j"$JOBS" >>"$LOGS/xip-program.log" 2>&1 &&
        "$DUET" pack --chip esp32s3 --name xipcheck --version 1.0.0 "$b/xipcheck.elf" -o "$XIP_IMG" >>"$LOGS/xip-program.log" 2>&1
}

# bigtable's answers: every (block, accumulator) sample the firmware printed, recomputed
# on the PC from the same generated code and tables (examples/bigtable/bigtable.h bt_run).
xip_bigtable_answers() {
    local log=$1 d=$OUT/xip/check gen out
    gen=$(find "$OUT/host" -name bigtable_data.c | head -1)
    mkdir -p "$d"
    printf '%s\n' '#include <stdio.h>' '#include "bigtable.h"' 'int main(void)' '{' \
        '    unsigned b, a, n = 0, bad = 0;' \
        '    while (scanf("%u %x", &b, &a) == 2) {' \
        '        uint32_t want = bt_run(BT_SEED, b);' \
        '        n++;' \
        '        if (want != a) {' \
        '            bad++;' \
        '            printf("block %u: 0x%08x, want 0x%08x; ", b, a, (unsigned)want);' \
        '        }' \
        '    }' \
        '    printf("%u samples, %u wrong", n, bad);' \
        '    return n == 0 || bad != 0;' '}' >"$d/check.c"
    if [ -z "$gen" ] || ! cc -O2 -I"$ROOT/examples/bigtable" "$d/check.c" "$gen" -o "$d/check" 2>"$d/cc.log"; then
        fail xip-answers "cannot build the PC checker (bigtable_data.c: ${gen:-missing}; $d/cc.log)"
        return
    fi
    if out=$(sed -nE 's/.*TT: xip-sample block=([0-9]+) acc=0x([0-9a-f]+).*/\1 \2/p' "$log" | "$d/check"); then
        pass xip-answers "$out (recomputed on the PC)"
    else
        fail xip-answers "$out"
    fi
}

sc_xip() {
    want xip || return 0
    local log=$LOGS/xip.log
    idf_build xipfw "$ROOT/tests/target/xipfw" || { fail xip "idf.py build failed ($LOGS/idf-xipfw.log)"; return; }
    xip_program || { fail xip "XIP program build failed ($LOGS/xip-program.log)"; return; }
    xip_boot "$log" || return
    echo "INFO xip: program $XIP_PROG ($(stat -c %s "$XIP_IMG") B image); $(grep -Eo 'duet: XIP: slot .*' "$log" | head -1)"
    tt "$log" xip-start 1 xip-start
    tt "$log" xip-results 1 xip-results
    tt "$log" xip-nvs 1 xip-nvs
    tt "$log" xip-erase 1 xip-erase
    tt "$log" xip-write 1 xip-write
    tt "$log" xip-ota 1 xip-ota
    grep -Eo 'TT: xip-ota-info .*' "$log" | sed 's/^TT: xip-ota-info/INFO xip-ota:/'
    tt "$log" xip-lockout 1 xip-lockout
    tt "$log" xip-restart 1 xip-restart
    if [ "$XIP_PROG" = bigtable ]; then
        xip_bigtable_answers "$log"
        # The hardware-stall fallback needs a program that masks interrupts on request:
        # xipcheck, in a second boot.
        local log2=$LOGS/xip-stall.log
        xipcheck_build || { fail xip-stall "xipcheck build failed ($LOGS/xip-program.log)"; return; }
        xip_boot "$log2" || return
        tt "$log2" xip-stall 1 xip-stall
        xip_core0 "$log2"
    else
        tt "$log" xip-stall 1 xip-stall
    fi
    xip_core0 "$log"
    xip_refuse_range
}

# A program linked for another XIP address than this firmware's window: refused by the
# verifier with its own error, core 1 not started, core 0 fine.
xip_refuse_range() {
    local b=$OUT/xip/xipbad log=$LOGS/xip-refuse-range.log line
    cmake -S "$ROOT/sdk/cmake/xtensa" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$ROOT/sdk/cmake/toolchain-xtensa-esp32s3.cmake" \
        -DDUET_ROOT="$ROOT" -DDUET_PROGRAM_NAME=xipcheck -DDUET_PROGRAM_SOURCES="$ROOT/tests/target/xipcheck.c" \
        -DDUET_PROGRAM_MODE=xip -DDUET_XIP_VADDR=0x42800000 >"$LOGS/xip-bad.log" 2>&1 &&
        cmake --build "$b" -j"$JOBS" >>"$LOGS/xip-bad.log" 2>&1 &&
        "$DUET" pack --no-check --chip esp32s3 --name xipcheck --version 1.0.0 "$b/xipcheck.elf" -o "$b/bad.img" >>"$LOGS/xip-bad.log" 2>&1 ||
        { fail xip-refuse-range "build failed ($LOGS/xip-bad.log)"; return; }
    XIP_IMG=$b/bad.img
    xip_boot "$log" || return
    line=$(grep -Eo "duet: slot A: image refused: .*" "$log" | head -1)
    if [[ "$line" != *"XIP mapping outside the firmware's XIP range"* ]]; then
        fail xip-refuse-range "no refusal naming the XIP range (got: ${line:-none}; log $log)"
    elif grep -Eq 'core1: ' "$log" || ! grep -q 'TT: done' "$log" || ! no_panic "$log"; then
        fail xip-refuse-range "core 1 started or core 0 did not finish cleanly (log $log)"
    else
        pass xip-refuse-range "linked at 0x42800000, firmware window 0x43000000: ${line#duet: }"
    fi
}

# boot the firmware with $XIP_IMG in slot A and the counter staged for the install
xip_boot() {
    local b=$OUT/idf/xipfw stage=$OUT/run/xip-stage.bin
    # tt_stage: 4-byte length, then the image the firmware installs into slot B.
    python3 -c 'import sys,struct;d=open(sys.argv[1],"rb").read();open(sys.argv[2],"wb").write(struct.pack("<I",len(d))+d)' \
        "$OUT/host/images/counter.esp32s3.img" "$stage" || { fail xip "staging failed"; return 1; }
    flash_image "$b" "$OUT/run/xip.bin" "$(part_offset "$b" duet_a)" "$XIP_IMG" "$(part_offset "$b" tt_stage)" "$stage" ||
        { fail xip "merge_bin failed"; return 1; }
    boot "$OUT/run/xip.bin" "$1" 900 'TT: done'
}

xip_core0() {
    if [ "$(boots_in "$1")" -ne 1 ] || ! no_panic "$1"; then
        fail xip-core0 "core 0 reset or panicked (log $1)"
    else
        pass xip-core0 "one boot, no panic ($(basename "$1"))"
    fi
}

EXTRA_SCENARIOS+=(sc_xip)
