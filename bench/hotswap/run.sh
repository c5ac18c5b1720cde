#!/bin/sh
# run.sh BUILD_DIR [RUNS] - hot-swap benchmark in the simulator (called by scripts/bench.sh).
# Prints the per-run times and one machine-readable summary line (hotswap_median_us=...).
set -eu
BUILD=${1:?usage: run.sh BUILD_DIR [RUNS]}
cmake --build "$BUILD" --target bench_hotswap >/dev/null
exec "$BUILD/bin/bench_hotswap" "${2:-25}"
