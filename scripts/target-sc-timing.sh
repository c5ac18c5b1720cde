# target-sc-timing.sh - scenario "timing" of scripts/target-test.sh (sourced by it; uses
# pass/fail/want/idf_build/flash_image/boot/ota_keys/ota_status/json and $OUT $LOGS $DUET).
# Run alone: TT_ONLY="timing" scripts/target-test.sh
#
# The loop-timing API on the model (docs/timing.md): the ota firmware (the build sc_ota
# makes, examples/idf/ota + tests/target/sdkconfig.qemu-eth) boots with the counter in
# slot A, which marks every 100 ms tick with a 110 ms period. Over the model's network:
# GET /api/timing twice (count grows; min/mean/max near 100 ms of the model's CCOUNT,
# which runs at 40 MHz: docs/benchmarks.md; misses consistent with the declared period;
# the buckets add up to the count), `duet timing --json` and the text histogram, and
# `duet timing --reset` (refused without the token, honoured with it).
EXTRA_SCENARIOS+=(sc_timing)

TIMING_TICK=4000000 # the counter's 100 ms tick in the model's CCOUNT (40 MHz)

# tm_get FIELDS: a python expression over GET /api/timing (d), e.g. 'd["count"]'
tm_get() { curl -s -m 5 "$URL/api/timing" 2>/dev/null | json "$1"; }

# tm_judge JSON: "" when the figures are plausible for the counter, else what is wrong
tm_judge() {
    python3 -c '
import json, sys
d = json.loads(sys.argv[1]); tick = int(sys.argv[2])
n = d["count"]; lo, hi, mean = d["min_cycles"], d["max_cycles"], d["mean_cycles"]
hz = d["cpu_hz"] or 240000000      # what duet_rt_loop_period_us assumes when unmeasured
period = d["period_cycles"]
buckets = sum(b["count"] for b in d["buckets"])
if not d["available"] or n < 2: print("count %s" % n)
elif period != 110000 * hz // 1000000: print("period_cycles %d, want 110 ms at %d Hz" % (period, hz))
elif not (0.9 * tick <= lo <= mean <= hi <= 1.25 * tick):
    print("min/mean/max %d/%d/%d cycles, want within [0.9, 1.25] x %d" % (lo, mean, hi, tick))
elif not all(lo <= d[k] <= hi for k in ("p50_cycles", "p99_cycles", "p999_cycles")):
    print("percentiles outside [min, max]")
elif buckets != n or d["wrapped"]: print("buckets add up to %d, count %d" % (buckets, n))
elif hi <= period and d["misses"] != 0: print("%d misses, max %d <= period %d" % (d["misses"], hi, period))
elif lo > period and d["misses"] != n: print("%d misses of %d, min %d > period %d" % (d["misses"], n, lo, period))
elif not 0 <= d["misses"] <= n: print("%d misses of %d" % (d["misses"], n))
' "$1" "$TIMING_TICK" 2>&1
}

sc_timing() {
    want timing || return 0
    local b=$OUT/idf/ota port=${TT_TIMING_PORT:-18082} log=$LOGS/timing.log flash=$OUT/run/timing.bin
    URL=http://127.0.0.1:$port
    TOKEN=target-test-token
    # The ota firmware: sc_ota's build when it ran in this invocation, else built here the
    # same way. A fresh flash image from it, so no push of sc_ota's carries over.
    if [ -z "${LOG_OTA:-}" ] || [ ! -f "$b/flasher_args.json" ]; then
        ota_keys || { fail timing "duet keygen failed"; return; }
        idf_build ota "$ROOT/examples/idf/ota" "$ROOT/tests/target/sdkconfig.qemu-eth" "$OUT/keys/sdkconfig.signing" ||
            { fail timing "idf.py build of the ota firmware failed ($LOGS/idf-ota.log)"; return; }
    fi
    flash_image "$b" "$flash" || { fail timing "merge_bin failed"; return; }
    QEMU_NIC="-nic user,model=open_eth,hostfwd=tcp:127.0.0.1:$port-:80" boot "$flash" "$log" 600 &
    local bp=$! status="" j1="" j2="" n1=0 n2=0 why
    for _ in $(seq 1 150); do
        status=$(ota_status) && [[ "$status" == *RUNNING* ]] && break
        sleep 1
    done
    for _ in $(seq 1 60); do # a few intervals first
        j1=$(curl -s -m 5 "$URL/api/timing" 2>/dev/null)
        n1=$(json 'd["count"]' <<<"$j1")
        [ "${n1:-0}" -ge 3 ] 2>/dev/null && break
        sleep 1
    done
    sleep 3
    j2=$(curl -s -m 5 "$URL/api/timing" 2>/dev/null)
    n2=$(json 'd["count"]' <<<"$j2")
    echo "$j2" >"$LOGS/timing.json"
    if [[ "$status" != *RUNNING* ]]; then
        fail timing "GET /api/status did not report RUNNING (got: ${status:0:120}; log $log)"
    elif ! [ "${n1:-0}" -ge 3 ] 2>/dev/null; then
        fail timing "GET /api/timing: fewer than 3 intervals after 60 s (got: ${j1:0:160})"
    elif ! [ "${n2:-0}" -gt "$n1" ] 2>/dev/null; then
        fail timing "count did not grow: $n1 then ${n2:-?} (${j2:0:160})"
    elif why=$(tm_judge "$j2" || echo "unreadable answer"); [ -n "$why" ]; then
        fail timing "GET /api/timing: $why ($LOGS/timing.json)"
    else
        pass timing "count $n1 -> $n2, $(json '"min %d mean %d max %d p99 %d cycles, period %d, misses %d" % (d["min_cycles"], d["mean_cycles"], d["max_cycles"], d["p99_cycles"], d["period_cycles"], d["misses"])' <<<"$j2")"
        sc_timing_cli "$n2"
    fi
    touch "$log.stop"
    wait "$bp"
    if [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail timing-core0 "core 0 reset or panicked (log $log)"
    fi
}

# sc_timing_cli COUNT: `duet timing` against the chip (JSON, text, reset), COUNT = the
# last count seen
sc_timing_cli() {
    local before=$1 out rc n after="" pend=""
    out=$("$DUET" timing --url "$URL" --json 2>&1)
    n=$(json 'd["count"]' <<<"$out")
    if ! [ "${n:-0}" -ge "$before" ] 2>/dev/null || [ -n "$(tm_judge "$out" || echo bad)" ]; then
        fail timing-cli "duet timing --json: ${out:0:160}"
        return
    fi
    out=$("$DUET" timing --url "$URL" 2>&1)
    echo "$out" >"$LOGS/timing.txt"
    if ! grep -Eq '^intervals  [0-9]+   period [0-9.]+ (us|cyc)   misses [0-9]+' <<<"$out" ||
        ! grep -Eq '^min [0-9.]+ (us|cyc)   mean [0-9.]+ (us|cyc)' <<<"$out" ||
        ! grep -Eq '^\[ *[0-9.]+, *[0-9.]+\) +[0-9]+ #+$' <<<"$out"; then
        fail timing-cli "duet timing text histogram: $(tr '\n' ';' <<<"$out" | cut -c1-200) ($LOGS/timing.txt)"
        return
    fi
    pass timing-cli "duet timing --json and the text histogram: $(grep -E '^min' "$LOGS/timing.txt")"
    out=$("$DUET" timing --url "$URL" --reset 2>&1)
    rc=$?
    if [ "$rc" -ne 4 ]; then
        fail timing-reset "reset without the token not refused (exit $rc: $(tail -1 <<<"$out"))"
        return
    fi
    before=$(tm_get 'd["count"]')
    out=$("$DUET" timing --url "$URL" --reset --token "$TOKEN" 2>&1)
    rc=$?
    for _ in $(seq 1 30); do # core 1 honours it at its next mark (100 ms of model time)
        pend=$(tm_get 'd["reset_pending"]')
        [ "$pend" = False ] && break
        sleep 1
    done
    after=$(tm_get 'd["count"]')
    if [ "$rc" -ne 0 ] || [[ "$out" != *"reset requested"* ]]; then
        fail timing-reset "duet timing --reset --token failed ($rc): $(tail -1 <<<"$out")"
    elif [ "$pend" != False ] || ! [ "${after:-x}" -lt "${before:-0}" ] 2>/dev/null; then
        fail timing-reset "not cleared: count $before -> ${after:-?}, reset_pending ${pend:-?}"
    else
        pass timing-reset "refused without the token; with it count $before -> $after, reset_pending false"
    fi
}
