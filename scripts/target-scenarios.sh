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

# judge_counter NAME LOG [tick]: the counter example's run (slot or linked): at least 4
# growing counter values in RUNNING state, core-1 lines with the core1 tag, one boot and no
# panic; with "tick" also core 0's log timestamps (FreeRTOS tick) advancing.
judge_counter() {
    local name=$1 log=$2 counts
    counts=$(values "$log" 'counter=[0-9]+ state=RUNNING' counter)
    if ! increasing 4 <<<"$counts"; then
        fail "$name" "no 4 growing counter values in RUNNING state: $(echo $counts) (log $log)"
    elif ! grep -Eq '^[IWE] \([0-9]+\) core1: ' "$log"; then
        fail "$name" "no core-1 log line with the core1 tag"
    elif [ "${3:-}" = tick ] &&
        ! grep -E 'counter=[0-9]+ state=RUNNING' "$log" | sed -nE 's/^I \(([0-9]+)\).*/\1/p' | increasing 4; then
        fail "$name" "core 0 log timestamps (FreeRTOS tick) not advancing"
    elif [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail "$name" "core 0 reset or panicked"
    else
        pass "$name" "counter $(sed -n '1p;$p' <<<"$counts" | tr '\n' ' ')"
    fi
}

# examples/idf/counter: one `idf.py build` makes both cores' code (duet_core1_program in
# its main/CMakeLists.txt); the merged image of its flasher_args.json is all it needs.
sc_counter() {
    local ex=$ROOT/examples/idf/counter b=$OUT/idf/counter log=$LOGS/counter.log
    idf_build counter "$ex" || { fail counter "idf.py build failed ($LOGS/idf-counter.log)"; return; }
    grep -q '"duet_a"' "$b/flasher_args.json" ||
        { fail counter "flasher_args.json does not write slot A (duet_core1_program)"; return; }
    flash_image "$b" "$OUT/run/counter.bin" || { fail counter "merge_bin failed"; return; }
    boot "$OUT/run/counter.bin" "$log" 120 'counter=[0-9]+ state=RUNNING' 6
    judge_counter counter "$log" tick
    # What the component adds to a firmware (report only): ESP-IDF's per-archive sizes.
    idf.py -C "$ex" -B "$b" -D SDKCONFIG="$b/sdkconfig" size-components >"$LOGS/size-components.txt" 2>&1 &&
        echo "INFO size: $(grep -E 'libduet\.a' "$LOGS/size-components.txt" | tr -d '│' | awk '{print $1": total "$2" B, IRAM "$3", DRAM .bss "$7" .data "$8", flash code "$11", flash rodata "$13}')"
}

sc_linked() {
    local b=$OUT/idf/linked log=$LOGS/linked.log
    idf_build linked "$ROOT/examples/idf/linked" || { fail linked "idf.py build failed ($LOGS/idf-linked.log)"; return; }
    flash_image "$b" "$OUT/run/linked.bin" || { fail linked "merge_bin failed"; return; }
    boot "$OUT/run/linked.bin" "$log" 120 'counter=[0-9]+ state=RUNNING' 5
    judge_counter linked "$log"
}

# The firmware of tests/target/fw, built once, booted with different slot contents.
fw_build() {
    [ -n "${FW_BUILT:-}" ] || { idf_build fw "$ROOT/tests/target/fw" && FW_BUILT=1; }
}

# tt LOG NAME: the "TT NAME PASS|FAIL ..." line of a run, judged (first one if several)
tt() {
    local line
    line=$(grep -E "^I \([0-9]+\) TT: $2 (PASS|FAIL)" "$1" | sed -n "${3:-1}p")
    if [ -z "$line" ]; then
        fail "${4:-$2}" "no result line (log $1)"
    elif [[ "$line" == *" PASS"* ]]; then
        pass "${4:-$2}" "${line#*PASS }"
    else
        fail "${4:-$2}" "${line#*FAIL }"
    fi
}

sc_selftest() {
    local b=$OUT/idf/fw log=$LOGS/selftest.log
    fw_build || { fail selftest "idf.py build failed ($LOGS/idf-fw.log)"; return; }
    local off
    off=$(part_offset "$b" duet_a)
    flash_image "$b" "$OUT/run/selftest.bin" "$off" "$OUT/host/images/selftest.esp32s3.img" ||
        { fail selftest "merge_bin failed"; return; }
    boot "$OUT/run/selftest.bin" "$log" 600 'TT: done'
    tt "$log" running 1 selftest-start
    tt "$log" core1-irq 1 core1-irq
    tt "$log" flash-writes 1 flash-writes
    tt "$log" restart20 1 restart20
    tt "$log" core1-irq 2 core1-irq-after-restarts
    grep -Eo 'TT: rom-ram INFO .*' "$log" | sed 's/^TT: rom-ram INFO/INFO rom-ram:/' 
    if [ "$(boots_in "$log")" -ne 1 ] || ! no_panic "$log"; then
        fail core0-never-reset "core 0 reset or panicked during the checks (log $log)"
    else
        pass core0-never-reset "one boot, no panic"
    fi
}

# Core 0 reset (esp_restart) and panicked while core 1 runs the counter from slot A:
# tests/target/fw's reset suite. Three boots (power-on + 2), the one intended panic.
sc_core0_reset() {
    local b=$OUT/idf/fw log=$LOGS/core0-reset.log
    fw_build || { fail core0-reset "idf.py build failed ($LOGS/idf-fw.log)"; return; }
    flash_image "$b" "$OUT/run/core0-reset.bin" "$(part_offset "$b" duet_a)" "$OUT/host/images/counter.esp32s3.img" ||
        { fail core0-reset "merge_bin failed"; return; }
    boot "$OUT/run/core0-reset.bin" "$log" 300 'TT: done'
    tt "$log" core1-stopped-by-restart 1 core0-restart-stops-core1
    tt "$log" back-after-restart 1 core0-restart-comes-back
    tt "$log" core1-stopped-by-panic 1 core0-panic-stops-core1
    tt "$log" back-after-panic 1 core0-panic-comes-back
    local boots panics
    boots=$(boots_in "$log")
    panics=$(grep -c 'Guru Meditation' "$log")
    if [ "$boots" -ne 3 ] || [ "$panics" -ne 1 ]; then
        fail core0-reset-count "want 3 boots and the 1 intended panic, got $boots boots, $panics panics (log $log)"
    else
        pass core0-reset-count "3 boots (power-on, esp_restart, panic), 1 panic"
    fi
}

# An empty or a corrupted slot: clear log line, core 1 not started, core 0 keeps running.
sc_bad_slot() {
    local name=$1 img=$2 want_err=$3 b=$OUT/idf/fw log=$LOGS/$1.log
    fw_build || { fail "$name" "idf.py build failed ($LOGS/idf-fw.log)"; return; }
    local extra=()
    if [ -n "$img" ]; then extra=("$(part_offset "$b" duet_a)" "$img"); fi
    flash_image "$b" "$OUT/run/$name.bin" "${extra[@]}" || { fail "$name" "merge_bin failed"; return; }
    boot "$OUT/run/$name.bin" "$log" 120 'TT: done'
    local refused alive
    refused=$(grep -Eo 'TT: start-refused .*' "$log" | head -1)
    alive=$(grep -Ec 'TT: alive [0-9]+' "$log")
    if [ -z "$refused" ]; then
        fail "$name" "core 1 was not refused (log $log)"
    elif ! grep -Eq "$want_err" "$log"; then
        fail "$name" "no log line naming the cause ($want_err); got: $refused"
    elif [ "$alive" -lt 6 ] || ! grep -q 'TT: done' "$log"; then
        fail "$name" "core 0 stopped running after the refusal ($alive alive lines)"
    elif grep -Eq 'core1: ' "$log"; then
        fail "$name" "core 1 logged although it must not have started"
    else
        pass "$name" "${refused#TT: }; $alive alive lines"
    fi
}

sc_corrupt_slot() {
    local src=$OUT/host/images/selftest.esp32s3.img dst=$OUT/run/corrupt.img
    cp "$src" "$dst"
    # flip one byte in the middle of the payload (past the header): hash must catch it
    local size
    size=$(stat -c %s "$dst")
    python3 -c 'import sys;p=sys.argv[1];o=int(sys.argv[2]);d=bytearray(open(p,"rb").read());d[o]^=0x5A;open(p,"wb").write(d)' \
        "$dst" $((size / 2))
    sc_bad_slot corrupt-slot "$dst" 'duet: slot A: image refused: image: SHA-256 mismatch'
}

# examples/idf/ota on the model's open_eth NIC, with user-mode networking forwarded to
# loopback. Built with signatures required (a key made for the test, CONFIG_DUET_SIGNING_KEY
# signs slot A's counter in the same idf.py build): the HTTP API answers (status, web
# page), bad uploads are refused while the program keeps running in the same epoch, each
# crash kind ends in a crash record, restarts with backoff and a rollback to slot A, and
# `duet push` of counter v2 swaps it into slot B, confirmed after CONFIG_DUET_CONFIRM_HEARTBEATS.
ota_status() { curl -s -m 5 "$URL/api/status" 2>/dev/null; }
json() { python3 -c 'import json,sys;d=json.load(sys.stdin);print(eval(sys.argv[1],{"d":d}))' "$1" 2>/dev/null; }

# refuse NAME ARGS...: `duet push` must be refused (exit 4) and core 1 keep its epoch
refuse() {
    local name=$1 before after out rc
    shift
    before=$(ota_status | json 'd["epoch"],d["state"]')
    out=$("$DUET" push --url "$URL" --no-progress "$@" 2>&1)
    rc=$?
    sleep 2
    after=$(ota_status | json 'd["epoch"],d["state"]')
    if [ "$rc" -ne 4 ]; then
        fail "refuse-$name" "push exit $rc, not refused: $(echo "$out" | tail -1)"
    elif [ "$before" != "$after" ] || [[ "$after" != *RUNNING* ]]; then
        fail "refuse-$name" "program disturbed: before $before, after $after"
    else
        pass "refuse-$name" "$(echo "$out" | tail -1 | cut -c1-90); still $after"
    fi
}

# The test's signing keys (made once per build tree) and the sdkconfig lines that make
# the ota firmware trust "dev" and refuse anything unsigned.
ota_keys() {
    local k=$OUT/keys
    mkdir -p "$k"
    [ -f "$k/dev.pem" ] || "$DUET" keygen -o "$k/dev.pem" >/dev/null || return 1
    [ -f "$k/forger.pem" ] || "$DUET" keygen -o "$k/forger.pem" >/dev/null || return 1
    { echo "CONFIG_DUET_REQUIRE_SIGNATURE=y"
      echo "CONFIG_DUET_SIGNING_KEY=\"$k/dev.pem\""
      "$DUET" pubkey "$k/dev.pem"; } >"$k/sdkconfig.signing.new"
    # rewritten only when it changes: a newer file makes idf_build start a fresh sdkconfig
    cmp -s "$k/sdkconfig.signing.new" "$k/sdkconfig.signing" || mv "$k/sdkconfig.signing.new" "$k/sdkconfig.signing"
}

# crash_kind KIND REASON PC_FUNCS [REGEX]: push the crash program of that kind (tests/target:
# it faults 300 ms after every start, before it is confirmed) and judge what follows:
# the crash record (reason, PC symbolized by `duet crash --elf` in one of PC_FUNCS, or
# "-" for no PC, and REGEX if given), restarts with a doubling backoff, the crash loop and the rollback to
# slot A, counter running again; core 0 untouched.
crash_kind() {
    local kind=$1 reason=$2 funcs=$3 name=crash-$1
    local elf=$OUT/host/xtensa/crash_$kind/crash_$kind.elf img=$OUT/run/bad/crash_$kind.img
    "$DUET" sign --key "$OUT/keys/dev.pem" "$OUT/host/images/crash_$kind.esp32s3.img" -o "$img" >/dev/null ||
        { fail "$name" "could not sign the crash image"; return; }
    local from st="" out rc i crash
    from=$(wc -l <"$LOG_OTA")
    out=$("$DUET" push --url "$URL" --token "$TOKEN" --no-progress "$img" 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || { fail "$name" "push failed ($rc): $(echo "$out" | tail -1)"; return; }
    # this push's rollback (the status alone still shows the previous one at first)
    for i in $(seq 1 90); do
        tail -n +"$((from + 1))" "$LOG_OTA" | grep -q 'reverting to slot A' && break
        sleep 1
    done
    for i in $(seq 1 30); do
        st=$(ota_status | json 'd["active_slot"],d["state"],d["slots"][1]["status"],d["version"]')
        [[ "$st" == "(0, 'RUNNING', 'BAD', '1."* ]] && break
        sleep 1
    done
    local part
    part=$(tail -n +"$((from + 1))" "$LOG_OTA")
    crash=$("$DUET" crash --url "$URL" --elf "$elf" 2>&1)
    echo "$crash" >"$LOGS/crash-$kind.txt"
    local backoff
    backoff=$(sed -nE 's/.*restarting core 1 in ([0-9]+) ms.*/\1/p' <<<"$part" | tr '\n' ' ')
    if [[ "$st" != "(0, 'RUNNING', 'BAD', '1."* ]]; then
        fail "$name" "no rollback to slot A: (active slot, state, slot B, version) = $st (log $LOG_OTA)"
    elif ! grep -q "reason *:* *$reason\|$reason" <<<"$crash"; then
        fail "$name" "crash record does not name $reason: $(head -3 <<<"$crash" | tr '\n' ' ')"
    elif [ "$funcs" != - ] && ! grep -Eq "pc: *0x[0-9a-f]+ +($funcs)\+" <<<"$crash"; then
        fail "$name" "PC not symbolized into $funcs: $(grep -i 'pc' <<<"$crash" | head -2 | tr '\n' ' ')"
    elif [ -n "${4:-}" ] && ! grep -Eq "$4" <<<"$crash"; then
        fail "$name" "crash record lacks '$4': $(grep -E 'message|exccause' <<<"$crash" | tr '\n' ' ')"
    elif [[ "$backoff" != "100 200 "* ]]; then
        fail "$name" "restart backoff not 100 then 200 ms: '$backoff'"
    elif ! grep -q 'crash loop: 3 crashes' <<<"$part" || ! grep -q 'slot B marked BAD, reverting to slot A' <<<"$part"; then
        fail "$name" "no crash loop + revert in the log"
    else
        pass "$name" "$(grep -E '^crash:|pc:|message:' <<<"$crash" | head -3 | sed 's/  */ /g' | tr '\n' ';') restarts after ${backoff% * }ms, crash loop, back on slot A"
    fi
}

sc_ota() {
    local b=$OUT/idf/ota port=${TT_HTTP_PORT:-18080}
    LOG_OTA=$LOGS/ota.log
    URL=http://127.0.0.1:$port
    TOKEN=target-test-token
    ota_keys || { fail ota "duet keygen failed"; return; }
    idf_build ota "$ROOT/examples/idf/ota" "$ROOT/tests/target/sdkconfig.qemu-eth" "$OUT/keys/sdkconfig.signing" ||
        { fail ota "idf.py build failed ($LOGS/idf-ota.log)"; return; }
    flash_image "$b" "$OUT/run/ota.bin" || { fail ota "merge_bin failed"; return; }
    QEMU_NIC="-nic user,model=open_eth,hostfwd=tcp:127.0.0.1:$port-:80" \
        boot "$OUT/run/ota.bin" "$LOG_OTA" 900 &
    local bp=$!
    local status="" page="" i
    for i in $(seq 1 150); do
        status=$(ota_status) && [[ "$status" == *RUNNING* ]] && break
        sleep 1
    done
    page=$(curl -s -m 5 "$URL/" 2>/dev/null | head -c 4096)
    echo "$status" >"$LOGS/ota-status.json"
    if [[ "$status" != *RUNNING* ]]; then
        fail ota "GET /api/status over the model's network did not report RUNNING (got: ${status:0:120}; log $LOG_OTA)"
    elif [[ "$page" != *"<html"* && "$page" != *"<!doctype"* && "$page" != *"<!DOCTYPE"* ]]; then
        fail ota "GET / did not return the web page"
    else
        pass ota "signed slot A from the same idf.py build RUNNING; GET /api/status and the web page over open_eth"
        local dev=$OUT/keys/dev.pem img=$OUT/run/bad/counter_v2.img bad=$OUT/run/bad
        mkdir -p "$bad"
        local elf=$OUT/host/xtensa/counter_v2/counter_v2.elf
        "$DUET" sign --key "$dev" "$OUT/host/images/counter_v2.esp32s3.img" -o "$img" >/dev/null
        head -c 20000 /dev/urandom >"$bad/garbage.img"
        head -c $(($(stat -c %s "$img") / 2)) "$img" >"$bad/truncated.img"
        # the same program, signed, packed with a wrong header field each (no self-check)
        "$DUET" pack --no-check --sign "$dev" --chip esp32 --version 2.0.0 --security-counter 1 "$elf" -o "$bad/wrong-chip.img" >/dev/null
        "$DUET" pack --no-check --sign "$dev" --abi call0 --version 2.0.0 --security-counter 1 "$elf" -o "$bad/wrong-abi.img" >/dev/null
        "$DUET" pack --sign "$dev" --version 2.0.0 --security-counter 0 "$elf" -o "$bad/downgrade.img" >/dev/null
        { cat "$img"; head -c 80000 /dev/urandom; } >"$bad/oversized.img" # > the 64 KiB slot
        # signatures: none, an untrusted key, and the trusted key's id with a broken signature
        cp "$OUT/host/images/counter_v2.esp32s3.img" "$bad/unsigned.img"
        "$DUET" sign --key "$OUT/keys/forger.pem" "$img" -o "$bad/untrusted-key.img" >/dev/null
        # format 2: the trailer (signature last in it) sits between head and payload
        python3 -c 'import sys,struct
d=bytearray(open(sys.argv[1],"rb").read())
hdr,=struct.unpack_from("<H",d,6);segs=d[30];tlv,=struct.unpack_from("<I",d,40)
head=hdr+16*segs+tlv;tr,=struct.unpack_from("<H",d,head+2)
d[head+tr-1]^=1;open(sys.argv[2],"wb").write(d)' "$img" "$bad/forged-signature.img"
        refuse no-token "$img"
        refuse wrong-token --token wrong-token "$img"
        refuse unsigned --token "$TOKEN" "$bad/unsigned.img"
        refuse untrusted-key --token "$TOKEN" "$bad/untrusted-key.img"
        refuse forged-signature --token "$TOKEN" "$bad/forged-signature.img"
        refuse garbage --token "$TOKEN" "$bad/garbage.img"
        refuse truncated --token "$TOKEN" "$bad/truncated.img"
        refuse wrong-chip --token "$TOKEN" "$bad/wrong-chip.img"
        refuse wrong-abi --token "$TOKEN" "$bad/wrong-abi.img"
        refuse downgrade --token "$TOKEN" "$bad/downgrade.img"
        refuse oversized --token "$TOKEN" "$bad/oversized.img"
        # each fault kind on the real vectors, rolled back to the counter in slot A
        crash_kind load LOAD_STORE 'do_fault|duet_main'
        crash_kind illegal ILLEGAL_INSN 'do_fault|duet_main'
        crash_kind divzero DIV_ZERO 'do_fault|duet_main'
        crash_kind stack STACK_OVERFLOW 'recurse' 'message: +stack overflow: store into the guard \(DBREAK0\)'
        crash_kind hang HANG -
        # a good update: slot B, new epoch, then CONFIRMED
        local out rc st=""
        out=$("$DUET" push --url "$URL" --token "$TOKEN" --no-progress "$img" 2>&1)
        rc=$?
        for i in $(seq 1 60); do
            st=$(ota_status | json 'd["active_slot"],d["version"],d["state"],d["slots"][1]["status"],d["epoch"]')
            [[ "$st" == "(1, '2."*"', 'RUNNING', 'CONFIRMED', "* ]] && break
            sleep 1
        done
        if [ "$rc" -ne 0 ]; then
            fail ota-push "duet push counter v2 failed ($rc): $(echo "$out" | tail -1)"
        elif [[ "$st" != "(1, '2."*"', 'RUNNING', 'CONFIRMED', "* ]]; then
            fail ota-push "after the push: (active slot, version, state, slot B, epoch) = $st"
        else
            pass ota-push "counter v2 hot-swapped into slot B and confirmed: (active slot, version, state, slot B, epoch) = $st"
            # what a user sees: `duet status` and the web page served by the emulated chip
            "$DUET" status --url "$URL" >"$LOGS/ota-duet-status.txt" 2>&1 &&
                echo "INFO duet status: $(grep -Ei 'state|slot' "$LOGS/ota-duet-status.txt" | head -3 | tr -s ' ' | tr '\n' ';')"
            if command -v chromium >/dev/null 2>&1; then
                timeout 60 chromium --headless --no-sandbox --disable-gpu --window-size=1280,1400 \
                    --virtual-time-budget=8000 --screenshot="$LOGS/ota-page.png" "$URL/" >/dev/null 2>&1 &&
                    echo "INFO web page of the emulated chip: $LOGS/ota-page.png"
            fi
        fi
    fi
    touch "$LOG_OTA.stop"
    wait "$bp"
    if [ "$(boots_in "$LOG_OTA")" -ne 1 ] || ! no_panic "$LOG_OTA"; then
        fail ota-core0 "core 0 reset or panicked (log $LOG_OTA)"
    fi
}

run_scenarios() {
    want counter && sc_counter
    want linked && sc_linked
    want ota && sc_ota
    want selftest && sc_selftest
    want core0-reset && sc_core0_reset
    want empty-slot && sc_bad_slot empty-slot "" 'duet: slot A: empty \(no duet image\)'
    want corrupt-slot && sc_corrupt_slot
    local f
    for f in "${EXTRA_SCENARIOS[@]}"; do "$f"; done
    return 0
}
