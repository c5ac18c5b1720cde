#!/usr/bin/env python3
"""jitter-plot.py - draw the histograms of examples/idf/jitter as a PNG.

Reads the "JIT <mode> summary ..." and "JIT <mode> bucket lo=.. hi=.. n=.." lines of one
or more serial logs, writes an HTML page with one SVG chart (cycles per iteration on a
log axis, iterations per bucket on a log axis, one colour per mode) and the summary
table, and has headless Chromium screenshot it (no plotting library needed).

    scripts/jitter-plot.py -o docs/img/jitter.png LOG_DUET LOG_FREERTOS
"""
import argparse
import html
import math
import re
import subprocess
import sys
import tempfile
import os

LINE = re.compile(r"JIT ([\w-]+) (summary|bucket) (.*)")
COLOURS = {"duet": "#1f77b4", "freertos": "#d62728",
           "duet-live": "#1f77b4", "freertos-live": "#d62728"}
LABELS = {"duet": "(a) duet program on core 1",
          "freertos": "(b) FreeRTOS task pinned to core 1",
          "duet-live": "(a) duet, core 0 running",
          "freertos-live": "(b) FreeRTOS, core 0 running"}
PANELS = [("Core 0 parked: only what happens on core 1", ("duet", "freertos")),
          ("Core 0 running: the model adds core 0's instructions to core 1's clock",
           ("duet-live", "freertos-live"))]


def parse(paths):
    data = {}
    for p in paths:
        with open(p, errors="replace") as f:
            for line in f:
                m = LINE.search(line)
                if not m:
                    continue
                mode, kind, rest = m.groups()
                kv = dict(x.split("=", 1) for x in rest.split() if "=" in x)
                d = data.setdefault(mode, {"summary": None, "buckets": []})
                if kind == "summary":
                    d["summary"] = {k: int(v) for k, v in kv.items()}
                else:
                    d["buckets"].append((int(kv["lo"]), int(kv["hi"]), int(kv["n"])))
    return data


def svg(data, rng, w=1000, h=330):
    ml, mr, mt, mb = 70, 20, 20, 50
    pw, ph = w - ml - mr, h - mt - mb
    lo, hi, ymax = rng
    x0, x1 = math.log10(max(lo * 0.8, 1)), math.log10(hi * 1.25)
    y1 = math.ceil(math.log10(ymax)) + 0.2

    def X(v):
        return ml + (math.log10(v) - x0) / (x1 - x0) * pw

    def Y(n):
        return mt + ph - (math.log10(n) + 0.3) / (y1 + 0.3) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13">',
           f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>']
    for e in range(0, int(y1) + 1):
        y = Y(10 ** e)
        out.append(f'<line x1="{ml}" x2="{ml + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{ml - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
    t = 10 ** math.floor(x0)
    while t < 10 ** x1:
        for m in (1, 1.5, 2, 3, 5, 7):
            v = t * m
            if 10 ** x0 <= v <= 10 ** x1:
                x = X(v)
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{mt}" y2="{mt + ph}" stroke="#eee"/>')
                out.append(f'<text x="{x:.1f}" y="{mt + ph + 16}" text-anchor="middle">{v:g}</text>')
        t *= 10
    out.append(f'<text x="{ml + pw / 2}" y="{h - 8}" text-anchor="middle">CCOUNT cycles per loop iteration (log)</text>')
    out.append(f'<text x="16" y="{mt + ph / 2}" transform="rotate(-90 16 {mt + ph / 2})" text-anchor="middle">iterations (log)</text>')
    for i, (mode, d) in enumerate(data.items()):
        c = COLOURS.get(mode, "#333")
        for lo_, hi_, n in d["buckets"]:
            xa, xb = X(lo_), X(hi_ + 1)
            half = (xb - xa) / 2
            xa, xb = (xa, xa + half) if i == 0 else (xa + half, xb)
            out.append(f'<rect x="{xa:.1f}" y="{Y(n):.1f}" width="{max(xb - xa, 2):.1f}" '
                       f'height="{mt + ph - Y(n):.1f}" fill="{c}" fill-opacity="0.85"/>')
        out.append(f'<rect x="{ml + pw - 300}" y="{mt + 12 + 20 * i}" width="14" height="14" fill="{c}"/>')
        out.append(f'<text x="{ml + pw - 280}" y="{mt + 24 + 20 * i}">{html.escape(LABELS.get(mode, mode))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def table(data):
    keys = ["n", "min", "p50", "p99", "p999", "max", "mean"]
    rows = ["<tr><th>mode</th>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>"]
    for mode, d in data.items():
        s = d["summary"] or {}
        rows.append(f"<tr><td>{html.escape(LABELS.get(mode, mode))}</td>" +
                    "".join(f"<td>{s.get(k, '')}</td>" for k in keys) + "</tr>")
    return "<table>" + "".join(rows) + "</table>"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", "--out", required=True, help="PNG to write")
    ap.add_argument("--title", default="Loop jitter on the emulated ESP32-S3 (QEMU -icount)")
    ap.add_argument("logs", nargs="+")
    a = ap.parse_args()
    data = {k: v for k, v in parse(a.logs).items() if v["buckets"]}
    if not data:
        sys.exit("jitter-plot: no JIT bucket lines in " + " ".join(a.logs))
    allb = [b for d in data.values() for b in d["buckets"]]
    rng = (min(b[0] for b in allb), max(b[1] for b in allb) + 1, max(b[2] for b in allb))
    body, height = "", 120
    for title, modes in PANELS + [("", tuple(m for m in data if not any(m in p[1] for p in PANELS)))]:
        sub = {m: data[m] for m in modes if m in data}
        if sub:
            body += f"<h4>{html.escape(title)}</h4>{svg(sub, rng)}"
            height += 380
    ordered = {m: data[m] for p in PANELS for m in p[1] if m in data}
    ordered.update({m: d for m, d in data.items() if m not in ordered})
    height += 40 + 30 * len(ordered)
    page = ("<!doctype html><meta charset=utf-8><style>body{font-family:sans-serif;margin:16px}"
            "h4{margin:10px 0 4px}table{border-collapse:collapse;margin-top:8px}"
            "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}</style>"
            f"<h3>{html.escape(a.title)}</h3>{body}{table(ordered)}")
    with tempfile.TemporaryDirectory() as tmp:
        page_path = os.path.join(tmp, "jitter.html")
        with open(page_path, "w") as f:
            f.write(page)
        r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", f"--window-size=1040,{height}",
                            f"--screenshot={os.path.abspath(a.out)}", "file://" + page_path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    if r.returncode != 0 or not os.path.exists(a.out):
        sys.exit("jitter-plot: chromium screenshot failed")
    print(a.out)


if __name__ == "__main__":
    main()
