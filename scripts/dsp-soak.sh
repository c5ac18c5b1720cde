#!/bin/sh
# dsp-soak.sh [SECONDS] - `make dsp-soak`: the dsp pipeline (examples/dsp) in the
# simulator for SECONDS (default 600) of 48 kHz stereo audio, paced in real time (one
# 64-frame block every 1.333 ms), every block checked bit for bit against the PC
# reference. Prints blocks processed / dropped / late / mismatched and the worst block
# latency every 10 s and at the end; exit status 0 only if none was dropped, late or
# mismatched. Not part of `make test` (it takes the whole duration).
#
# Both cores (core 0 = this process, core 1 = the program's child process) run under
# SCHED_FIFO 50 when allowed (root or CAP_SYS_NICE), as an audio path would; neither
# spins, so that costs the machine almost nothing. Otherwise they run as normal tasks
# and the run says so. DSP_SOAK_BUILD_DIR overrides the build tree (default build,
# RelWithDebInfo like `make build`); extra arguments after SECONDS go to dsp_soak
# (--fast, --frames N).
set -eu
cd "$(dirname "$0")/.."
SECONDS_ARG=${1:-600}
[ $# -gt 0 ] && shift
BUILD=${DSP_SOAK_BUILD_DIR:-build}
JOBS=${JOBS:-2}
# Configure every time (cheap): a tree configured before examples/dsp gained the
# dsp_soak target would not know the target otherwise.
if [ -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD" >/dev/null
else
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j"$JOBS" --target dsp_soak >/dev/null
if chrt -f 50 true 2>/dev/null; then
    echo "dsp-soak: both cores under SCHED_FIFO 50"
    exec chrt -f 50 "$BUILD/bin/dsp_soak" --seconds "$SECONDS_ARG" "$@"
fi
echo "dsp-soak: no real-time priority allowed here (needs root or CAP_SYS_NICE): normal scheduling"
exec "$BUILD/bin/dsp_soak" --seconds "$SECONDS_ARG" "$@"
