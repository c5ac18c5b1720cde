#!/bin/sh
# demo.sh - `make demo`: a scripted simulator session a newcomer can watch.
#
# Real processes and real HTTP: duet-sim runs the portable supervisor with core 1 = a
# child process; images are uploaded with `duet push` (curl if the CLI is missing).
#   1. boot counter v1 from slot A, the shared counter counting live
#   2. push counter v2 over HTTP: hot swap into slot B, the count continues (by 10s)
#   3. push a bad update (crash-demo v3): crash capture, automatic restarts
#   4. crash loop -> automatic rollback to the last good program (counter v2)
#   5. the crash record over HTTP, symbolized with the program's ELF (`duet crash`)
# Usage: scripts/demo.sh [BUILD_DIR]   (default build/; `make demo` builds it first)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-$ROOT/build}}
BIN=$BUILD/bin
IMG=$BUILD/images
for f in "$BIN/duet-sim" "$IMG/counter.img" "$IMG/counter_v2.img" "$IMG/crash_demo.img"; do
    if [ ! -e "$f" ]; then
        echo "demo: $f is missing; run 'make build' first" >&2
        exit 1
    fi
done
command -v curl >/dev/null 2>&1 || { echo "demo: needs curl" >&2; exit 1; }

WORK=$(mktemp -d /tmp/duet-demo.XXXXXX)
TOKEN=demo-$$
SIM_PID=
TAIL_PID=
cleanup() {
    [ -n "$TAIL_PID" ] && kill "$TAIL_PID" 2>/dev/null || true
    [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then B=$(printf '\033[1m'); N=$(printf '\033[0m'); else B=; N=; fi
banner() { printf '\n%s======== %s ========%s\n' "$B" "$*" "$N"; }
say() { printf '%s>>> %s%s\n' "$B" "$*" "$N"; }

# JSON field from /api/status (flat string/number fields only; enough for a demo).
status() { curl -s "$URL/api/status"; }
field() { # first occurrence of "NAME": string or number (GNU sed)
    sed -n -e "s/\"$1\":/\n/" -e "T" -e "s/^[^\n]*\n//" -e "tx" -e ":x" \
        -e "s/^\"\([^\"]*\)\".*/\1/p" -e "t" -e "s/^\([^,}]*\).*/\1/p" | head -n 1
}
show_status() {
    s=$(status)
    printf '    status: state=%s slot=%s program=%s v%s epoch=%s heartbeat=%s restarts=%s crashes=%s\n' \
        "$(echo "$s" | field state)" "$(echo "$s" | field active_slot)" \
        "$(echo "$s" | field name)" "$(echo "$s" | field version)" "$(echo "$s" | field epoch)" \
        "$(echo "$s" | field heartbeat)" "$(echo "$s" | field restarts)" "$(echo "$s" | field crashes)"
}
push() {
    if [ -x "$BIN/duet" ]; then
        say "duet push $(basename "$1")"
        "$BIN/duet" push --url "$URL" --token "$TOKEN" --no-progress "$1"
    else
        say "curl -X POST $URL/api/image (Authorization: Bearer ...)"
        curl -s -X POST -H "Authorization: Bearer $TOKEN" --data-binary @"$1" "$URL/api/image"
        echo
    fi
}
wait_at_least() { # wait_at_least SECONDS FIELD NUMBER
    i=0
    while [ $i -lt $(($1 * 10)) ]; do
        v=$(status | field "$2")
        [ -n "$v" ] && [ "$v" -ge "$3" ] 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "demo: timed out waiting for $2 >= $3" >&2
    return 1
}
wait_for() { # wait_for SECONDS FIELD VALUE
    i=0
    while [ $i -lt $(($1 * 10)) ]; do
        [ "$(status | field "$2")" = "$3" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    echo "demo: timed out waiting for $2=$3" >&2
    return 1
}

banner "duet simulator demo"
echo "core 0 = this PC running the portable supervisor (duet-sim); core 1 = a child process"
echo "running the program from the image's verified bytes. Simulator output is prefixed 'sim |'."
"$BIN/duet-sim" --flash "$WORK/flash" --port 0 --port-file "$WORK/port" --token "$TOKEN" \
    --provision "$IMG/counter.img" --status-ms 1000 >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
i=0
while [ ! -s "$WORK/port" ]; do
    sleep 0.05
    i=$((i + 1))
    if [ $i -gt 200 ] || ! kill -0 "$SIM_PID" 2>/dev/null; then
        cat "$WORK/sim.log" >&2
        echo "demo: duet-sim did not start" >&2
        exit 1
    fi
done
URL=http://127.0.0.1:$(cat "$WORK/port")
# tail ends with duet-sim (--pid); TAIL_PID is sed's, which holds our stdout.
tail -n +1 -f --pid="$SIM_PID" "$WORK/sim.log" | sed -u 's/^/    sim | /' &
TAIL_PID=$!

banner "1. boot counter v1 from slot A"
wait_for 5 state RUNNING
sleep 3
show_status

banner "2. hot swap: push counter v2 over HTTP"
push "$IMG/counter_v2.img"
wait_for 5 version 2.0.0
wait_for 5 state RUNNING
sleep 3
show_status
say "v2 counts by 10, continuing from v1's count; slot B is CONFIRMED after 5 heartbeats"

banner "3. a bad update: push crash-demo v3 (crashes 0.3 s after every start)"
push "$IMG/crash_demo.img"
say "watch: crash captured -> RECOVERING -> restarted with backoff ..."
wait_at_least 20 crashes 3


banner "4. crash loop -> automatic rollback to the last good program"
wait_for 5 active_slot 1
wait_for 5 state RUNNING
sleep 1
show_status
say "slot A (crash-demo) is marked BAD; core 1 runs counter v2 from slot B again"

banner "5. the crash record (GET /api/crash)"
crash=$(curl -s "$URL/api/crash")
echo "    $(echo "$crash" | field summary)"
if [ -x "$BIN/duet" ]; then
    say "duet crash --url ... --elf $BIN/crash_demo   (symbolized with the program's ELF)"
    "$BIN/duet" crash --url "$URL" --elf "$BIN/crash_demo" 2>&1 | sed 's/^/    /' || true
fi
sleep 1

kill "$TAIL_PID" 2>/dev/null || true
TAIL_PID=
banner "summary"
s=$(status)
cat <<SUMMARY
    1. counter v1 booted from slot A, shared counter counting       ok
    2. counter v2 pushed over HTTP and hot-swapped into slot B       ok
    3. crash-demo v3 pushed: crashes captured, automatic restarts    ok ($(echo "$s" | field crashes) crashes)
    4. crash loop -> rolled back to counter v2 (slot B)              $(echo "$s" | field state), v$(echo "$s" | field version)
    HTTP API: $URL (token $TOKEN) - the web page is at $URL/
SUMMARY
