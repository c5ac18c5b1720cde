#!/bin/sh
# test_sim_http_refusals.sh BIN_DIR WORK_DIR
#
# Bad uploads over real HTTP to a real duet-sim whose core 1 is a real child process
# running counter v2, with signatures required (--key). Each of these must be refused
# with the right error, and the running program must not notice: same state, slot,
# version and epoch, heartbeat still advancing:
#   no token, wrong token, forged (a flipped payload byte), truncated, unsigned,
#   signed with an untrusted key, downgraded (security counter below the floor),
#   wrong chip (an ESP32-S3 image), oversized, garbage.
# A good signed update is accepted first (so the floor is raised by its confirmation).
set -eu
BIN=$1
W=$2
D=$BIN/duet
rm -rf "$W" && mkdir -p "$W" && cd "$W"

fail() { echo "FAIL: $*"; [ -f sim.log ] && tail -n 30 sim.log; exit 1; }
json() { # json FILE EXPR  (EXPR is JavaScript on the parsed object 'j')
    node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); const v=($2); console.log(v===undefined?'':v)"
}

"$D" keygen -o key.pem >/dev/null
"$D" keygen -o other.pem >/dev/null
pack() { # pack ELF VERSION COUNTER OUT [extra...]
    elf=$1 ver=$2 ctr=$3 out=$4
    shift 4
    "$D" pack --chip host --name counter --version "$ver" --security-counter "$ctr" "$@" "$elf" -o "$out" >/dev/null
}
pack "$BIN/counter" 1.0.0 5 v1.img --sign key.pem
pack "$BIN/counter_v2" 2.0.0 6 v2.img --sign key.pem
pack "$BIN/counter" 1.5.0 5 downgrade.img --sign key.pem
pack "$BIN/counter" 3.0.0 7 unsigned.img
pack "$BIN/counter" 3.0.0 7 otherkey.img --sign other.pem
cp v2.img forged.img
size=$(wc -c < v2.img)
printf '\001' | dd of=forged.img bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c $((size / 2)) v2.img > truncated.img
head -c 4096 /dev/urandom > garbage.img
esp=$(ls "$BIN"/../images/*.esp32s3.img | head -n 1)
"$D" sign --key key.pem "$esp" -o wrongchip.img >/dev/null

"$BIN/duet-sim" --flash flash --port 0 --port-file port --token T --key key.pub.pem \
    --provision v1.img --quiet --status-ms 100000 > sim.log 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "duet-sim did not start"
URL=http://127.0.0.1:$(cat port)

status() { curl -sf "$URL/api/status" > "${1:-st.json}" || fail "GET /api/status"; }
wait_for() { # wait_for EXPR WHAT
    for _ in $(seq 100); do
        status
        [ "$(json st.json "$1")" = true ] && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $2"
}

wait_for "j.state==='RUNNING' && j.version==='1.0.0'" "v1 running"
# The provisioned (confirmed) image sets the anti-rollback floor.
[ "$(json st.json j.min_security_counter)" = 5 ] || fail "provisioning left the floor at $(json st.json j.min_security_counter)"
"$D" push --url "$URL" --token T --no-progress v2.img >/dev/null || fail "good signed update refused"
wait_for "j.state==='RUNNING' && j.version==='2.0.0' && j.slots[1].status==='CONFIRMED'" "v2 confirmed"
wait_for "j.min_security_counter===6" "security floor raised to 6"
status before.json
epoch=$(json before.json j.epoch)
slot=$(json before.json j.active_slot)

# Each refusal: HTTP status and error name from the API, then the program is untouched.
check_untouched() {
    hb0=$(json st.json j.heartbeat)
    sleep 0.3
    status
    [ "$(json st.json j.state)" = RUNNING ] || fail "$1: state $(json st.json j.state)"
    [ "$(json st.json j.version)" = 2.0.0 ] || fail "$1: version changed"
    [ "$(json st.json j.epoch)" = "$epoch" ] || fail "$1: core 1 was restarted"
    [ "$(json st.json j.active_slot)" = "$slot" ] || fail "$1: active slot changed"
    [ "$(json st.json j.min_security_counter)" = 6 ] || fail "$1: security floor changed"
    [ "$(json st.json "j.heartbeat > $hb0")" = true ] || fail "$1: heartbeat stopped"
}
refused() { # refused NAME FILE HTTP_STATUS ERROR_NAME [curl auth args...]
    name=$1 file=$2 want=$3 err=$4
    shift 4
    code=$(curl -s -o reply.json -w '%{http_code}' -X POST "$@" \
        -H 'Content-Type: application/octet-stream' --data-binary @"$file" "$URL/api/image")
    [ "$code" = "$want" ] || fail "$name: HTTP $code, want $want ($(cat reply.json))"
    got=$(json reply.json j.error)
    [ "$got" = "$err" ] || fail "$name: error $got, want $err"
    check_untouched "$name"
    echo "ok: $name refused ($code $err), v2 still running in epoch $epoch"
}
refused "no token" v2.img 401 AUTH
refused "wrong token" v2.img 401 AUTH -H "Authorization: Bearer wrong"
refused "forged" forged.img 422 IMG_BAD_HASH -H "Authorization: Bearer T"
refused "truncated" truncated.img 422 IMG_TRUNCATED -H "Authorization: Bearer T"
refused "unsigned" unsigned.img 422 IMG_NO_SIG -H "Authorization: Bearer T"
refused "untrusted key" otherkey.img 422 IMG_UNKNOWN_KEY -H "Authorization: Bearer T"
refused "downgrade" downgrade.img 422 IMG_DOWNGRADE -H "Authorization: Bearer T"
refused "wrong chip" wrongchip.img 422 IMG_WRONG_CHIP -H "Authorization: Bearer T"
refused "garbage" garbage.img 422 IMG_BAD_MAGIC -H "Authorization: Bearer T"
head -c $((5 * 1024 * 1024)) /dev/zero > oversized.img
refused "oversized" oversized.img 413 IMG_TOO_BIG -H "Authorization: Bearer T"

# The CLI reports a refusal with its documented exit code (4 = refused by the device).
set +e
"$D" push --url "$URL" --token T --no-progress forged.img > push.out 2>&1
rc=$?
set -e
[ $rc = 4 ] || fail "duet push of a forged image exited $rc, want 4"
check_untouched "duet push forged"
echo "all bad uploads refused; the running program was never disturbed"
