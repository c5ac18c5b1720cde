#!/bin/sh
# run.sh - CTest entry for the browser test: install playwright-core (npm ci, pinned by
# package-lock.json) into the build dir once, then run e2e_web.cjs there.
#   run.sh SRCDIR WORKDIR SERVER DUET FIXTURE_ELF
set -eu
src=$1 work=$2
shift 2
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/e2e_web.cjs" "$work/"
if [ ! -d "$work/node_modules/playwright-core" ]; then
  (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
[ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium missing (apt-get install chromium)"; exit 1; }
cd "$work"
exec node e2e_web.cjs "$@" "$work/out"
