#!/bin/sh
# cli_timing.sh - `duet timing` against a real simulator running the counter example
# (which marks every 100 ms tick): the text histogram, --json, --watch --count, and
# --reset (refused without the token, honoured with it).
#   cli_timing.sh DUET DUET_SIM COUNTER_IMG WORKDIR
set -eu
duet=$1 sim=$2 img=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
"$sim" --flash "$work/flash" --port 0 --port-file "$work/port" --token T \
       --provision "$img" --status-ms 0 >"$work/sim.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
fail() { echo "cli_timing: FAIL: $*"; cat "$work/sim.log"; exit 1; }
for i in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$work/port")
# wait for at least 5 intervals
for i in $(seq 100); do
    n=$("$duet" timing --url "$url" --json | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
    [ "${n:-0}" -ge 5 ] && break
    sleep 0.1
done
[ "${n:-0}" -ge 5 ] || fail "no intervals after 10 s"

out=$("$duet" timing --url "$url")
echo "$out"
echo "$out" | grep -Eq '^intervals  [0-9]+   period 110000.000 us   misses [0-9]+' || fail "summary line"
echo "$out" | grep -Eq '^min [0-9]+\.[0-9]{3} us   mean [0-9]+\.[0-9]{3} us' || fail "min/mean line"
echo "$out" | grep -Eq '^\[ +[0-9.]+, +[0-9.]+\) +[0-9]+ #+$' || fail "no histogram row"

json=$("$duet" timing --url "$url" --json)
echo "$json" | grep -q '"available":true' || fail "json: available"
echo "$json" | grep -q '"buckets":\[{"i":' || fail "json: buckets"

w=$("$duet" timing --url "$url" --watch 0.2 --count 2)
[ "$(echo "$w" | grep -c '^loop timing')" = 2 ] || fail "--watch --count 2 did not print twice"

if "$duet" timing --url "$url" --reset 2>"$work/err"; then fail "reset without token accepted"; fi
grep -q 401 "$work/err" || fail "reset without token: $(cat "$work/err")"
"$duet" timing --url "$url" --reset --token T | grep -q 'reset requested' || fail "reset"
sleep 0.3 # one tick: core 1 honours it
n2=$("$duet" timing --url "$url" --json | sed -n 's/.*"count":\([0-9]*\).*/\1/p')
[ "$n2" -lt "$n" ] || fail "count did not drop after the reset ($n -> $n2)"
echo "cli_timing: ok (count $n, after reset $n2)"
