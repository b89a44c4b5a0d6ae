#!/usr/bin/env python3
"""Syscall-capture overhead benchmark (issue: tracectl run).

Measures, in one run, the wall time of
    dd if=/dev/zero of=/dev/null bs=1 count=N      (2*N syscalls)
untraced, under `tracectl run --output /dev/null` (every syscall captured and
turned into an OTLP span), under `tracectl run --stats` (counted in the
kernel), and under `strace -f -c` (the peer), REPEATS times each, interleaved,
and reports medians and ratios against the untraced median. Ring-buffer drops
reported by tracectl are recorded too.

Usage: syscall_overhead.py TRACECTL [--count N] [--repeats R] [--markdown FILE]
"""
import argparse
import re
import statistics
import subprocess
import sys
import time


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return dt, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tracectl")
    ap.add_argument("--count", type=int, default=2000000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--strace-repeats", type=int, default=3)
    ap.add_argument("--markdown", help="write the results table to this file")
    a = ap.parse_args()

    dd = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={a.count}"]
    cases = {
        "untraced": dd,
        "tracectl run --output /dev/null": [a.tracectl, "run", "--output", "/dev/null", "--"] + dd,
        "tracectl run --stats": [a.tracectl, "run", "--stats", "--"] + dd,
        "strace -f -c": ["strace", "-f", "-c", "-o", "/dev/null"] + dd,
    }
    times = {k: [] for k in cases}
    dd_own = {k: [] for k in cases}  # dd's own elapsed time ("copied, X s")
    drops = []
    for r in range(max(a.repeats, a.strace_repeats)):
        for name, cmd in cases.items():
            limit = a.strace_repeats if name.startswith("strace") else a.repeats
            if r >= limit:
                continue
            dt, err = timed(cmd)
            times[name].append(dt)
            m = re.search(r"copied, ([\d.]+) s", err)
            if m:
                dd_own[name].append(float(m.group(1)))
            if "--output" in cmd:
                m = re.search(r"(\d+) events (lost|LOST)", err)
                drops.append(int(m.group(1)) if m else -1)
            print(f"  {name:34s} run {r + 1}: {dt:8.3f} s", file=sys.stderr)

    base = statistics.median(times["untraced"])
    base_dd = statistics.median(dd_own["untraced"])
    rows = ["| case | median wall time of the whole run (s) | ratio | median time dd itself took (s) | ratio | runs |",
            "|---|---|---|---|---|---|"]
    for name, ts in times.items():
        med = statistics.median(ts)
        own = statistics.median(dd_own[name]) if dd_own[name] else float("nan")
        rows.append(f"| {name} | {med:.3f} | {med / base:.2f}x | {own:.3f} | "
                    f"{own / base_dd:.2f}x | {len(ts)} |")
    table = "\n".join(rows)
    summary = (f"Workload: `{' '.join(dd)}` ({2 * a.count:,} syscalls). "
               f"Ring-buffer drops under full capture, per run: {drops}.")
    print(table)
    print(summary)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n\n" + summary + "\n")


if __name__ == "__main__":
    main()
