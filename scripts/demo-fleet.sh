#!/bin/sh
# demo-fleet.sh - `make demo-fleet`: a simulated device pulls a new core-1 program from a
# local HTTPS server after an MQTT message (docs/fleet.md).
#   1. a test CA, nginx over TLS and mosquitto start on 127.0.0.1 (nothing else)
#   2. `duet publish` puts counter v1 + its signed manifest into the web root
#   3. duet-sim boots v1 (signatures required), polls the manifest (current), connects
#      to the broker
#   4. `duet publish` v2; an MQTT "check" message -> the device pulls, verifies and runs v2
#   5. the retained status topic, as a dashboard sees it
# Usage: scripts/demo-fleet.sh [BUILD_DIR]   (default build/)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${BUILD:-$ROOT/build}}
BIN=$BUILD/bin
for t in nginx mosquitto mosquitto_pub mosquitto_sub openssl; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] ||
        { echo "demo-fleet: $t missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x "$BIN/duet-sim" ] && [ -x "$BIN/duet" ] || { echo "demo-fleet: run 'make build' first" >&2; exit 1; }

WORK=$(mktemp -d /tmp/duet-fleet-demo.XXXXXX)
cd "$WORK"
. "$ROOT/tests/fleet/fleet_lib.sh"
trap 'fleet_cleanup; rm -rf "$WORK"' EXIT INT TERM
if [ -t 1 ]; then B=$(printf '\033[1m'); N=$(printf '\033[0m'); else B=; N=; fi
banner() { printf '\n%s======== %s ========%s\n' "$B" "$*" "$N"; }
say() { printf '%s>>> %s%s\n' "$B" "$*" "$N"; }

banner "1. servers on loopback: nginx (HTTPS, test CA) and mosquitto"
fleet_tls "$WORK"
fleet_nginx "$WORK"
fleet_mosquitto "$WORK"
say "https://127.0.0.1:$HTTPS_PORT/ serves $WORK/www; MQTT on 127.0.0.1:$MQTT_PORT"

banner "2. publish counter v1"
"$BIN/duet" keygen -o key.pem >/dev/null
"$BIN/duet" pack --chip host --name counter --version 1.0.0 --security-counter 1 --sign key.pem "$BIN/counter" -o v1.img >/dev/null
"$BIN/duet" pack --chip host --name counter --version 2.0.0 --security-counter 2 --sign key.pem "$BIN/counter_v2" -o v2.img >/dev/null
mkdir -p www/fleet
say "duet publish v1.img --key key.pem -o www/fleet"
"$BIN/duet" publish v1.img --key key.pem -o www/fleet | sed 's/^/    /'

banner "3. a device boots v1 and listens on MQTT"
"$BIN/duet-sim" --flash dev.flash --no-http --key key.pub.pem --provision v1.img --status-ms 0 \
    --device-id demo-1 --fleet-ca ca.crt --fleet-period-ms 0 \
    --fleet-manifest "https://127.0.0.1:$HTTPS_PORT/fleet/counter.json" \
    --mqtt "127.0.0.1:$MQTT_PORT" --mqtt-status-ms 1000 > sim.log 2>&1 &
SIM=$!
FLEET_PIDS="$FLEET_PIDS $SIM"
tail -n +1 -f --pid="$SIM" sim.log | sed -u 's/^/    sim | /' &
FLEET_PIDS="$FLEET_PIDS $!"
fleet_wait sim.log "mqtt: connected" 10 || { echo "demo-fleet: the device did not connect" >&2; exit 1; }
fleet_wait sim.log "is the running release" 10 || { echo "demo-fleet: no first check" >&2; exit 1; }
sleep 1

banner "4. publish counter v2, then: mosquitto_pub -t duet/demo-1/check"
sleep 1 # a new second: the manifest's ETag (mtime-size) changes
"$BIN/duet" publish v2.img --key key.pem -o www/fleet | sed 's/^/    /'
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t duet/demo-1/check -m now -q 1
fleet_wait sim.log "fleet: installed counter 2.0.0" 30 || { echo "demo-fleet: no update" >&2; exit 1; }
sleep 2

banner "5. the retained status topic duet/demo-1/status (what a dashboard sees)"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t duet/demo-1/status -C 1 -W 5 > status.json
if command -v node >/dev/null 2>&1; then
    node -e "const j=JSON.parse(require('fs').readFileSync('status.json','utf8'));
      console.log('    device %s online=%s: %s v%s, slot %s; fleet: %s, sequence %d, %d checks',
        j.device, j.online, j.status.name, j.status.version, j.status.active_slot,
        j.fleet.last_action, j.fleet.sequence, j.fleet.checks)"
else
    sed 's/^/    /' status.json
fi
banner "done"
