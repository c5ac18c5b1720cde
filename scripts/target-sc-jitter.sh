# target-sc-jitter.sh - scenario "jitter" of scripts/target-test.sh (sourced by it):
# examples/idf/jitter on the model, the same loop (a) as a duet program on core 1 and (b)
# as a FreeRTOS task pinned to core 1 of a dual-core build, both with core 0 parked
# during the measurement (examples/idf/jitter/sdkconfig.model: the model runs both
# cores in one instruction count, so core 0's instructions would show up on core 1).
# Passes when (a) has no iteration more than 25 % above its minimum and (b) shows the
# interrupts core 1 takes in a FreeRTOS build (iterations over 1.5 x its minimum).
# Draws both histograms into $LOGS/jitter.png (scripts/jitter-plot.py, headless Chromium).
EXTRA_SCENARIOS+=(sc_jitter)

# jit_field LOG MODE KEY: a value of the "JIT MODE summary" line
jit_field() { grep -Eo "JIT $2 summary .*" "$1" | head -1 | sed -nE "s/.* $3=([0-9]+).*/\1/p"; }
# jit_over LOG MODE LIMIT: iterations in buckets whose lower edge exceeds LIMIT
jit_over() {
    grep -Eo "JIT $2 bucket .*" "$1" | sed -nE 's/.*lo=([0-9]+) hi=[0-9]+ n=([0-9]+).*/\1 \2/p' |
        awk -v l="$3" '$1 > l { s += $2 } END { print s + 0 }'
}

# jit_run NAME DIR MODE: build, boot until "JIT MODE end", echo the log path
jit_run() {
    local name=$1 dir=$2 mode=$3 b=$OUT/idf/$1 log=$LOGS/$1.log
    idf_build "$name" "$dir" "$ROOT/examples/idf/jitter/sdkconfig.model" ||
        { fail jitter "idf.py build of $name failed ($LOGS/idf-$name.log)"; return 1; }
    flash_image "$b" "$OUT/run/$name.bin" || { fail jitter "merge_bin of $name failed"; return 1; }
    boot "$OUT/run/$name.bin" "$log" 400 "JIT $mode-live end"
    grep -q "JIT $mode core0 parked=1 covered=1" "$log" ||
        { fail jitter "$name: core 0 not parked through the run (log $log)"; return 1; }
    [ -n "$(jit_field "$log" "$mode" n)" ] || { fail jitter "$name: no summary line (log $log)"; return 1; }
}

sc_jitter() {
    want jitter || return 0
    local ex=$ROOT/examples/idf/jitter la=$LOGS/jitter-duet.log lb=$LOGS/jitter-freertos.log
    jit_run jitter-duet "$ex/duet" duet || return
    jit_run jitter-freertos "$ex/freertos" freertos || return
    local amin amax bmin bmax aover bover
    amin=$(jit_field "$la" duet min) amax=$(jit_field "$la" duet max)
    bmin=$(jit_field "$lb" freertos min) bmax=$(jit_field "$lb" freertos max)
    aover=$(jit_over "$la" duet $((amin * 5 / 4)))
    bover=$(jit_over "$lb" freertos $((bmin * 3 / 2)))
    echo "INFO jitter (a) duet:     $(grep -Eo 'JIT duet summary .*' "$la" | head -1 | cut -d' ' -f4-)"
    echo "INFO jitter (b) freertos: $(grep -Eo 'JIT freertos summary .*' "$lb" | head -1 | cut -d' ' -f4-)"
    if [ "$aover" -ne 0 ]; then
        fail jitter "(a) duet: $aover iterations above 1.25 x min ($amin), max $amax (log $la)"
    elif [ "$bover" -eq 0 ]; then
        fail jitter "(b) freertos: no iteration above 1.5 x min ($bmin): the model showed no interrupt on core 1 (log $lb)"
    else
        pass jitter "(a) duet min $amin max $amax, none above 1.25 x min; (b) FreeRTOS min $bmin max $bmax, $bover iterations above 1.5 x min"
    fi
    if command -v chromium >/dev/null 2>&1 &&
        python3 "$ROOT/scripts/jitter-plot.py" -o "$LOGS/jitter.png" "$la" "$lb" >/dev/null 2>&1; then
        echo "INFO jitter histogram: $LOGS/jitter.png"
    fi
}
