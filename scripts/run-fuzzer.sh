#!/bin/sh
# run-fuzzer.sh BINARY WORKDIR SECONDS [SEED_CORPUS_DIR]
# Runs a libFuzzer binary for a bounded time on a copy of its seed corpus.
# Exits non-zero (and keeps the crashing input in WORKDIR) if the fuzzer finds a bug.
set -eu
bin=$1 work=$2 secs=$3 seeds=${4:-}
rm -rf "$work" && mkdir -p "$work/corpus"
if [ -n "$seeds" ] && [ -d "$seeds" ]; then cp -r "$seeds"/. "$work/corpus/"; fi
cd "$work"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus
