#!/bin/sh
# fuzz.sh - `make fuzz`: a longer fuzzing session than the 20 s runs in `make test`.
# Builds build-fuzz/ (clang + libFuzzer + ASan/UBSan) and runs every fuzz_* binary for
# FUZZ_SECONDS (default 300) each on a copy of its seed corpus. Findings (crash-*,
# leak-*, timeout-* files) stay in build-fuzz/fuzz-work/<name>/; exit non-zero on any.
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
SECS=${FUZZ_SECONDS:-300}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DDUET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
MAKEFLAGS=--no-print-directory cmake --build build-fuzz -j"$JOBS"
status=0
for b in build-fuzz/bin/fuzz_*; do
    [ -x "$b" ] || continue
    name=$(basename "$b")
    seeds=fuzz/${name#fuzz_}/corpus
    echo "== $name for ${SECS}s (seeds: $seeds)"
    if ! scripts/run-fuzzer.sh "$(pwd)/$b" "$(pwd)/build-fuzz/fuzz-work/$name" "$SECS" "$(pwd)/$seeds"; then
        echo "== $name FOUND A BUG: see build-fuzz/fuzz-work/$name" >&2
        status=1
    fi
done
exit $status
