#!/bin/sh
# flash_sim_boot.sh - `duet flash` into a simulator flash file, then a real duet-sim
# boots it: checks the documented slot-journal outcomes (docs/cli.md, duet flash)
# with real processes, not just the bytes in the file.
#   flash_sim_boot.sh DUET DUET_SIM COUNTER_V1_IMG COUNTER_V2_IMG WORKDIR
set -eu
duet=$1 sim=$2 v1=$3 v2=$4 work=$5
rm -rf "$work"
mkdir -p "$work"

# Run the simulator for 2 s (no HTTP) and check the last RUNNING status line.
expect() {
  "$sim" --flash "$work/duet-sim.flash" --no-http --duration 2 --status-ms 250 \
    >"$work/sim.out" 2>&1 || { echo "FAIL: $3: duet-sim failed"; cat "$work/sim.out"; exit 1; }
  line=$(grep "status: RUNNING" "$work/sim.out" | tail -n 1)
  case "$line" in
    *"slot $1  counter v$2"*) echo "ok: $3 -> slot $1 runs v$2" ;;
    *) echo "FAIL: $3: expected slot $1 running v$2, got: '$line'"; cat "$work/sim.out"; exit 1 ;;
  esac
}
fl() { "$duet" flash --sim-dir "$work" "$@" >"$work/flash.out" 2>&1 || { cat "$work/flash.out"; exit 1; }; }

fl --slot a "$v1"
expect A 1.0.0 "blank flash file, slot a written"
fl --slot b "$v2"
expect A 1.0.0 "slot b written, journal unchanged (A active)"
fl --slot a "$v2"
expect A 2.0.0 "active slot a rewritten"
fl --slot b --erase-state "$v1"
grep -q "adopted first" "$work/flash.out" || { echo "FAIL: no adoption warning"; cat "$work/flash.out"; exit 1; }
expect A 2.0.0 "slot b + --erase-state while slot a verifies (A adopted first)"
echo "flash_sim_boot: all passed"
