#!/bin/sh
# run.sh - CTest entry for the browser test: install playwright-core (npm ci, pinned by
# package-lock.json) into the build dir once, then run e2e_web.cjs there against a real
# duet-sim running the counter example.
#   run.sh SRCDIR WORKDIR DUET_SIM COUNTER_V1_IMG COUNTER_V2_IMG
set -eu
src=$1 work=$2
shift 2
[ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium missing (apt-get install chromium)"; exit 1; }
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/e2e_web.cjs" "$work/"
# Reinstall when the pinned lock file changed or a previous install was interrupted.
if [ ! -f "$work/node_modules/.duet-installed" ] ||
   ! cmp -s "$src/package-lock.json" "$work/node_modules/.duet-installed"; then
  rm -rf "$work/node_modules"
  (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$src/package-lock.json" "$work/node_modules/.duet-installed"
fi
cd "$work"
exec node e2e_web.cjs "$@" "$work/out"
