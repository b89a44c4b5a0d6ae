#!/usr/bin/env python3
"""Syscall-capture overhead benchmark (issue: tracectl run).

Measures, in one run, the wall time of
    dd if=/dev/zero of=/dev/null bs=1 count=N      (2*N syscalls)
untraced, under `tracectl run --output /dev/null` (every syscall captured and
turned into an OTLP span), under `tracectl run --stats` (counted in the
kernel), and under `strace -f -c` (the peer), REPEATS times each, interleaved,
and reports medians and ratios against the untraced median. Ring-buffer drops
reported by tracectl are recorded too.

With --floor LOADER (tests/bench/floor:syscall_floor_main) the same run also
times dd with empty programs on sys_enter/sys_exit (raw_tp pair, tp_btf pair)
and with a tp_btf pair that only reads the task and the clock: the floor any
syscall hook pays. With --bpf-stats, every case but the untraced one and
strace runs once more with kernel.bpf_stats_enabled=1 (not timed: the
statistics cost time themselves) and the kernel's run_time_ns / run_cnt
of every sys_enter / sys_exit program is printed, ns per call (floor
programs too, with --floor).

Usage: syscall_overhead.py TRACECTL [--count N] [--repeats R] [--markdown FILE]
                           [--floor LOADER] [--bpf-stats] [--no-strace]
                           [--compare OTHER_TRACECTL]
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
import threading
import time


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return dt, p.stderr


def bpf_prog_stats():
    """{program name: (run_time_ns, run_cnt)} of the loaded programs."""
    out = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        return {}
    stats = {}
    for prog in json.loads(out.stdout or "[]"):
        if "run_cnt" in prog:
            stats[prog.get("name", "?")] = (prog.get("run_time_ns", 0), prog["run_cnt"])
    return stats


def run_with_bpf_stats(cmd, names):
    """Runs cmd with kernel.bpf_stats_enabled=1, sampling the programs' counters
    every 50 ms while it runs; returns {name: ns per run} of the last sample
    taken before the programs went away."""
    last = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            got = {n: v for n, v in bpf_prog_stats().items() if n in names}
            if got:
                last.update(got)
            time.sleep(0.05)

    subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=1"], check=True)
    t = threading.Thread(target=sample)
    t.start()
    try:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    finally:
        done.set()
        t.join()
        subprocess.run(["sysctl", "-q", "kernel.bpf_stats_enabled=0"], check=True)
    return {n: (ns / cnt if cnt else float("nan"), cnt) for n, (ns, cnt) in last.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tracectl")
    ap.add_argument("--count", type=int, default=2000000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--strace-repeats", type=int, default=3)
    ap.add_argument("--markdown", help="write the results table to this file")
    ap.add_argument("--floor", help="tests/bench/floor:syscall_floor_main: also time the hook floors")
    ap.add_argument("--bpf-stats", action="store_true",
                    help="also report the kernel's run time per program call (bpf_stats)")
    ap.add_argument("--no-strace", action="store_true", help="leave out strace -f -c")
    ap.add_argument("--compare", metavar="TRACECTL",
                    help="another tracectl build (e.g. the previous commit's): its two tracectl "
                         "cases are timed in the same interleaved run, marked (other)")
    a = ap.parse_args()

    dd = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={a.count}"]
    cases = {
        "untraced": dd,
        "tracectl run --output /dev/null": [a.tracectl, "run", "--output", "/dev/null", "--"] + dd,
        "tracectl run --stats": [a.tracectl, "run", "--stats", "--"] + dd,
        "strace -f -c": ["strace", "-f", "-c", "-o", "/dev/null"] + dd,
    }
    if a.no_strace:
        del cases["strace -f -c"]
    if a.compare:
        cases["(other) tracectl run --output /dev/null"] = [a.compare, "run", "--output",
                                                            "/dev/null", "--"] + dd
        cases["(other) tracectl run --stats"] = [a.compare, "run", "--stats", "--"] + dd
    if a.floor:
        for hooks, label in [("raw_tp", "empty raw_tp pair"), ("tp_btf", "empty tp_btf pair"),
                             ("clock", "tp_btf pair: task + clock only")]:
            cases[label] = [a.floor, f"--hooks={hooks}", "--"] + dd
    times = {k: [] for k in cases}
    dd_own = {k: [] for k in cases}  # dd's own elapsed time ("copied, X s")
    drops = {}  # case -> ring-buffer drops reported, per run
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
                drops.setdefault(name, []).append(int(m.group(1)) if m else -1)
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
               "Ring-buffer drops under full capture, per run: " +
               "; ".join(f"{k}: {v}" for k, v in drops.items()) + ".")
    if a.bpf_stats:
        # Program names (bpftool prints the BTF name, else the kernel's 15 bytes).
        names = {"handle_sys_enter", "handle_sys_ente", "handle_sys_exit", "raw_enter", "raw_exit",
                 "btf_enter",
                 "btf_exit", "clock_enter", "clock_exit"}
        srows = ["", "", "| run (kernel.bpf_stats_enabled=1) | program | ns per call | calls |",
                 "|---|---|---|---|"]
        for label, cmd in cases.items():
            if label == "untraced" or label.startswith("strace"):
                continue
            for name, (ns, cnt) in sorted(run_with_bpf_stats(cmd, names).items()):
                srows.append(f"| {label} | {name} | {ns:.1f} | {cnt:,} |")
        table += "\n".join(srows)
    print(table)
    print(summary)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n\n" + summary + "\n")


if __name__ == "__main__":
    main()
