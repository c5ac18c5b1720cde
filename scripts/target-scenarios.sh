# target-scenarios.sh - the scenarios of scripts/target-test.sh (sourced by it: uses its
# helpers pass/fail/want/idf_build/flash_image/part_offset/boot and $OUT $LOGS $DUET).
# Each scenario builds what it needs, boots the model and judges the serial log.

# No reset of core 0 after start-up: the ROM prints "rst:" once per boot.
boots_in() { grep -c '^rst:' "$1"; }
no_panic() { ! grep -Eq 'Guru Meditation|abort\(\) was called|Backtrace:' "$1"; }

# values of "key=N" on the lines matching a pattern, one per line
values() { grep -E "$2" "$1" | sed -nE "s/.*[ ]$3=([0-9]+).*/\1/p"; }

# strictly increasing list of at least N numbers on stdin
increasing() {
    awk -v n="$1" 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1; c++ } END { exit !(c >= n && !bad) }'
}

sc_counter() {
    local ex=$ROOT/examples/idf/counter b=$OUT/idf/counter log=$LOGS/counter.log
    idf_build counter "$ex" || { fail counter "idf.py build failed ($LOGS/idf-counter.log)"; return; }
    local off
    off=$(part_offset "$b" duet_a)
    [ -n "$off" ] || { fail counter "no duet_a partition in the build's table"; return; }
    flash_image "$b" "$OUT/run/counter.bin" "$off" "$OUT/host/images/counter.esp32s3.img" ||
        { fail counter "merge_bin failed"; return; }
    boot "$OUT/run/counter.bin" "$log" 120 'counter=[0-9]+ state=RUNNING' 6
    local n
    n=$(values "$log" 'counter=[0-9]+ state=RUNNING' counter | wc -l)
    if [ "$n" -lt 4 ]; then
        fail counter "fewer than 4 RUNNING counter lines ($n; log $log)"
    elif ! values "$log" 'counter=[0-9]+ state=RUNNING' counter | increasing 4; then
        fail counter "counter not growing: $(values "$log" 'state=RUNNING' counter | tr '\n' ' ')"
    elif ! grep -Eq '^[IWE] \([0-9]+\) core1: ' "$log"; then
        fail counter "no core-1 log line with the core1 tag"
    elif ! grep -E 'counter=[0-9]+ state=RUNNING' "$log" | sed -nE 's/^I \(([0-9]+)\).*/\1/p' | increasing 4; then
        fail counter "core 0 log timestamps (FreeRTOS tick) not advancing"
    elif [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail counter "core 0 reset or panicked"
    else
        pass counter "counter $(values "$log" 'state=RUNNING' counter | sed -n '1p;$p' | tr '\n' ' ')"
    fi
}

run_scenarios() {
    want counter && sc_counter
    return 0
}
