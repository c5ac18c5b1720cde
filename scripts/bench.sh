#!/bin/sh
# bench.sh - build a Release tree in build-bench/ and run every benchmark binary.
#
# A benchmark is any executable named bench_* in build-bench/bin (add one with
# add_executable(bench_<thing> ...) in bench/<thing>/CMakeLists.txt; nothing to change
# here). Each prints its own table and "RATIO <name> <value>" lines; this script prints
# them as they come and repeats all RATIO lines at the end for scripts.
# Arguments are passed to every benchmark (e.g. the repetition count).
# Results and how to read them: docs/benchmarks.md.
# BENCH_BUILD_DIR overrides the build directory (default build-bench).
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
BUILD=${BENCH_BUILD_DIR:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$JOBS"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
found=0
for b in "$BUILD"/bin/bench_*; do
    [ -x "$b" ] || continue
    found=1
    echo
    echo "== $(basename "$b")"
    "$b" "$@" | tee -a "$log"
done
if [ "$found" = 0 ]; then
    echo "no benchmark binaries (bench_*) in $BUILD/bin" >&2
    exit 1
fi
echo
echo "== summary (duet/reference; throughput >= 1.0 and latency <= 1.0 are the targets)"
grep '^RATIO ' "$log" || true
