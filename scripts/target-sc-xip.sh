# target-sc-xip.sh - the XIP scenario of scripts/target-test.sh (sourced by it; adds
# sc_xip to EXTRA_SCENARIOS; uses pass/fail/want/idf_build/flash_image/part_offset/boot/tt
# and $OUT $LOGS $DUET). Run alone: TT_ONLY="xip" scripts/target-test.sh
#
# Firmware tests/target/xipfw (CONFIG_DUET_LOAD_XIP=y, 512 KiB slots) with an XIP
# program in slot A: examples/bigtable when the host tree built it for the ESP32-S3, else
# tests/target/xipcheck.c built here in XIP mode. Core 0 writes NVS, erases and writes
# slot B, and installs another image (the counter, staged in the tt_stage partition) into
# slot B while the program runs from the flash mapping; each check prints the core-1
# cycles parked per operation kind. Passes when every check passes, the program's
# answers stay right (bigtable's are recomputed on the PC), no park needed the hardware
# stall, and core 0 never reset.

# The XIP program of the run (XIP_PROG, XIP_IMG).
xip_program() {
    local img=$OUT/host/images/bigtable.esp32s3.img
    if [ -f "$img" ] && python3 -c 'import sys,struct;d=open(sys.argv[1],"rb").read(12);sys.exit(0 if struct.unpack_from("<H",d,10)[0]&1 else 1)' "$img"; then
        XIP_PROG=bigtable
        XIP_IMG=$img
        return 0
    fi
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
    local b=$OUT/idf/xipfw log=$LOGS/xip.log
    idf_build xipfw "$ROOT/tests/target/xipfw" || { fail xip "idf.py build failed ($LOGS/idf-xipfw.log)"; return; }
    xip_program || { fail xip "XIP program build failed ($LOGS/xip-program.log)"; return; }
    # tt_stage: 4-byte length, then the image the firmware installs into slot B.
    local stage=$OUT/run/xip-stage.bin
    python3 -c 'import sys,struct;d=open(sys.argv[1],"rb").read();open(sys.argv[2],"wb").write(struct.pack("<I",len(d))+d)' \
        "$OUT/host/images/counter.esp32s3.img" "$stage" || { fail xip "staging failed"; return; }
    flash_image "$b" "$OUT/run/xip.bin" "$(part_offset "$b" duet_a)" "$XIP_IMG" "$(part_offset "$b" tt_stage)" "$stage" ||
        { fail xip "merge_bin failed"; return; }
    boot "$OUT/run/xip.bin" "$log" 900 'TT: done'
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
    if [ "$XIP_PROG" = bigtable ]; then xip_bigtable_answers "$log"; fi
    if [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail xip-core0 "core 0 reset or panicked (log $log)"
    else
        pass xip-core0 "one boot, no panic"
    fi
}

EXTRA_SCENARIOS+=(sc_xip)
