#!/bin/sh
# test.sh - build the three host configurations and run every test in one ctest run:
#   build-tsan  clang + ThreadSanitizer: the concurrency tests
#   build-fuzz  clang + libFuzzer/ASan/UBSan: the fuzz targets
#   build-test  gcc + ASan/UBSan: everything else; its ctest also runs the TSan
#               binaries and bounded fuzz runs, so the last line is one summary.
set -eu
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
ROOT=$(pwd)
cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DDUET_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-tsan -j"$JOBS"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DDUET_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$JOBS"
cmake -S . -B build-test -DDUET_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
      -DDUET_TSAN_DIR="$ROOT/build-tsan" -DDUET_FUZZ_DIR="$ROOT/build-fuzz" >/dev/null
cmake --build build-test -j"$JOBS"
cd build-test
ctest --output-on-failure -j"$JOBS" ${CTEST_ARGS:-}
