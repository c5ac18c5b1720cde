#!/usr/bin/env bash
# bench_dsp_xtensa.sh OUTDIR - the Xtensa half of bench_dsp: build bench/dsp/fw with
# idf.py (out of tree, in OUTDIR/idf/dsp; minutes the first time, seconds after), boot it
# on Espressif's QEMU esp32s3 model with -icount shift=3 and turn its DSPBENCH lines into
# instructions (= cycles at CPI 1) per sample and the load of a 240 MHz core.
# Needs the ESP32-S3 tools on PATH (bench_dsp checks before calling); reuses
# scripts/target-lib.sh (the same builds and model invocation as make target-test).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export TT_OUT=${1:?usage: bench_dsp_xtensa.sh OUTDIR}
. "$ROOT/scripts/target-lib.sh"
if command -v esptool.py >/dev/null 2>&1; then ESPTOOL=esptool.py; else ESPTOOL=esptool; fi
mkdir -p "$LOGS" "$OUT/run"
if ! idf_build dsp "$ROOT/bench/dsp/fw"; then
    echo "xtensa: idf.py build failed ($LOGS/idf-dsp.log)"
    exit 1
fi
flash_image "$OUT/idf/dsp" "$OUT/run/dsp.bin" || { echo "xtensa: merge_bin failed"; exit 1; }
LOG=$LOGS/dsp-bench.log
boot "$OUT/run/dsp.bin" "$LOG" 300 '^DSPBENCH done|Guru Meditation|abort\(\) was called'
grep -q '^DSPBENCH done' "$LOG" || { echo "xtensa: the run did not finish ($LOG)"; exit 1; }
GCC_V=$(xtensa-esp32s3-elf-gcc --version | head -1)
python3 - "$LOG" "$GCC_V" "$QEMU_ICOUNT" <<'PY'
import re, sys
log, gcc, icount = sys.argv[1:4]
rows = {}
for line in open(log, errors="replace"):
    m = re.match(r"^DSPBENCH (\S+) (.*)$", line.strip())
    if m:
        rows[m.group(1)] = dict(kv.split("=", 1) for kv in m.group(2).split() if "=" in kv)
c = rows["calib"]
print(f"xtensa: ESP32-S3 model (QEMU, -icount {icount}), {gcc}; calibration "
      f"{c['insn']} instructions = {c['ticks']} CCOUNT ticks ({float(c['insn_per_tick']):.4f} per tick)")
rate = 2 * 48000  # samples per second, stereo
for name, note in (("kernel-Os", "as the core-1 SDK builds programs"), ("kernel-O2", "")):
    r = rows.get(name)
    if not r:
        continue
    ips = float(r["insn_per_sample"])
    blk = float(r["min_block_insn"])
    load = ips * rate / 240e6 * 100
    ok = "identical to the PC reference" if r["mismatches"] == "0" else f"{r['mismatches']} MISMATCHED samples"
    print(f"xtensa {name[7:]:3s} {ips:8.1f} instructions/sample = cycles/sample at CPI 1 (assumed); "
          f"at 240 MHz: {load:.1f} % of core 1 for 48 kHz stereo, a 64-frame block "
          f"{blk:.0f} cycles = {blk / 240:.1f} us of its 1333 us; output {ok}"
          + (f" ({note})" if note else ""))
    print(f"XTENSA_DSP {name} insn_per_sample={ips:.1f} block_cycles={blk:.0f} load_240MHz_pct={load:.2f} "
          f"mismatches={r['mismatches']}")
PY
