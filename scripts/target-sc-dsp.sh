# target-sc-dsp.sh - the DSP scenario of scripts/target-test.sh (sourced by it; adds sc_dsp
# to EXTRA_SCENARIOS; uses pass/fail/want/idf_build/flash_image/boot/tt and $OUT $LOGS).
# Run alone: TT_ONLY="dsp" scripts/target-test.sh
#
# examples/idf/dsp: one idf.py build makes both cores' code (the dsp program goes into
# slot A). Core 0 feeds 300 blocks of the generated 48 kHz stereo signal through the
# "audio" channel, core 1 filters them, core 0 compares every answer with the reference
# computed on core 0. Passes when all 300 blocks came back bit-exact, none was lost, and
# core 0 neither reset nor panicked. Reports the kernel's cost on core 1 (the smallest
# CCOUNT difference of one block, times the model's 3.125 instructions per tick).

sc_dsp() {
    want dsp || return 0
    local b=$OUT/idf/dsp log=$LOGS/dsp.log
    idf_build dsp "$ROOT/examples/idf/dsp" || { fail dsp "idf.py build failed ($LOGS/idf-dsp.log)"; return; }
    flash_image "$b" "$OUT/run/dsp.bin" || { fail dsp "merge_bin failed"; return; }
    boot "$OUT/run/dsp.bin" "$log" 300 'TT: done'
    tt "$log" dsp-pipeline 1 dsp
    local t
    t=$(sed -nE 's/.*TT: dsp-pipeline PASS .*c1_min_block_ticks=([0-9]+) samples_per_block=([0-9]+).*/\1 \2/p' "$log" | head -1)
    [ -n "$t" ] && awk -v t="${t% *}" -v n="${t#* }" 'BEGIN { printf "INFO dsp: kernel on core 1, best 64-frame block %d CCOUNT ticks = %.0f instructions = %.1f per sample (x 3.125 per tick, -icount shift=3)\n", t, t * 3.125, t * 3.125 / n }'
    if [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail dsp-core0 "core 0 reset or panicked (log $log)"
    else
        pass dsp-core0 "one boot, no panic"
    fi
}

EXTRA_SCENARIOS+=(sc_dsp)
