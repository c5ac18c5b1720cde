#!/usr/bin/env bash
# target-test.sh - duet on the emulated ESP32-S3: build the ESP-IDF examples and the core-1
# programs with the real ESP32-S3 tools, boot them on Espressif's QEMU model
# (-M esp32s3, -icount) and judge each scenario from the serial output.
#
# Uses the tools, never builds them. Needs on PATH: idf.py (ESP-IDF v5.3-v5.5, IDF_PATH
# set), xtensa-esp32s3-elf-gcc, esptool.py or esptool, qemu-system-xtensa with the
# esp32s3 machine. Without them it names what is missing and exits 2.
#
#   scripts/target-test.sh            every scenario
#   TT_ONLY="counter linked" ...      a subset (scenario names as printed)
#   TT_KEEP=1                         keep the QEMU flash images (build-target/run/)
#
# Output: build-target/ (out of the source tree); one PASS/FAIL line per scenario, the
# serial log of each in build-target/logs/, and last one line "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/scripts/target-lib.sh"
target_check_tools

. "$ROOT/scripts/target-scenarios.sh"
# One file per feature adds its scenarios: scripts/target-sc-<feature>.sh appends a
# function name to EXTRA_SCENARIOS; run_scenarios calls each after the core ones.
EXTRA_SCENARIOS=()
for f in "$ROOT"/scripts/target-sc-*.sh; do [ -e "$f" ] && . "$f"; done

echo "target-test: building the duet CLI and the core-1 programs (windowed ABI)"
if ! build_host; then
    fail build-core1 "host/cross build failed (see $LOGS/host-build.log)"
    tail -20 "$LOGS/host-build.log"
    echo "$PASSED passed, $FAILED failed"
    exit 1
fi
pass build-core1 "$(ls "$OUT/host/images/"*.esp32s3.img | wc -l) images"
DUET=$OUT/host/bin/duet
mkdir -p "$OUT/run"

run_scenarios

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
