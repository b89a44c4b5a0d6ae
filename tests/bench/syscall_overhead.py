#!/usr/bin/env python3
"""Syscall-capture overhead benchmark (issue: tracectl run).

Measures, in one run, the wall time of
    dd if=/dev/zero of=/dev/null bs=1 count=N      (2*N syscalls)
untraced, under `tracectl run --output /dev/null` (every syscall captured and
turned into an OTLP span), under `tracectl run` with its terminal tree
redirected to a file, under `tracectl run --otlp-endpoint` exporting over
OTLP/gRPC to a local receiver (with --receiver), under `tracectl run --stats`
(counted in the kernel), and under `strace -f -c` (the peer), REPEATS times
each, interleaved, and reports medians and ratios against the untraced
median, and each case's peak RSS (tracectl's, for the tracectl cases).
Ring-buffer drops reported by tracectl are recorded too.

With --floor LOADER (tests/bench/floor:syscall_floor_main) the same run also
times dd with empty programs on sys_enter/sys_exit (raw_tp pair, tp_btf pair)
and with a tp_btf pair that only reads the task and the clock: the floor any
syscall hook pays. With --bpf-stats, every case but the untraced one and
strace runs once more with kernel.bpf_stats_enabled=1 (not timed: the
statistics cost time themselves) and the kernel's run_time_ns / run_cnt
of every sys_enter / sys_exit program is printed, ns per call (floor
programs too, with --floor).

With --cpu, dd runs under /usr/bin/time (tracectl with -f to follow it) and
its own CPU time (user + system, from wait4) is reported too: on a shared
machine it moves far less than wall time with the other load, and it is what
the kernel programs add to the traced process.

Usage: syscall_overhead.py TRACECTL [--count N] [--repeats R] [--markdown FILE]
                           [--floor LOADER] [--bpf-stats] [--no-strace]
                           [--compare OTHER_TRACECTL] [--receiver SINK_RECEIVER] [--cpu]
"""
import argparse
import json
import os
import re
import statistics
import tempfile
import subprocess
import sys
import threading
import time


def timed(cmd, stderr_file=None):
    """Runs cmd; returns (wall seconds, stderr text, peak RSS of cmd's process in KiB).

    The peak RSS comes from GNU time (%M) run around cmd: the rusage a
    wait4 hands back to this script carries the forking parent's high-water
    mark, GNU time's child is exec'ed straight from it."""
    rss_file = tempfile.mktemp(prefix="syscall_overhead_rss.")
    timed_cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    t0 = time.monotonic()
    if stderr_file:
        with open(stderr_file, "w") as f:
            rc = subprocess.run(timed_cmd, stdout=subprocess.DEVNULL, stderr=f).returncode
        dt = time.monotonic() - t0
        with open(stderr_file, errors="replace") as f:
            err = f.read()
    else:
        p = subprocess.run(timed_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        dt = time.monotonic() - t0
        rc, err = p.returncode, p.stderr
    try:
        with open(rss_file) as f:
            maxrss = int(f.read().split()[-1])
        os.unlink(rss_file)
    except (OSError, ValueError, IndexError):
        maxrss = 0
    if rc != 0:
        sys.exit(f"failed ({rc}): {' '.join(cmd)}\n{err[-2000:]}")
    return dt, err, maxrss


def start_receiver(binary):
    """Starts the local OTLP sink receiver; returns (process, grpc port)."""
    ready = tempfile.mktemp(prefix="sink_receiver_ready.")
    p = subprocess.Popen([binary, f"--ready_file={ready}"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(ready) and os.path.getsize(ready) > 0:
            with open(ready) as f:
                info = json.load(f)
            os.unlink(ready)
            return p, info["grpc"]
        time.sleep(0.05)
    p.terminate()
    sys.exit("sink receiver did not start")


def bpf_prog_stats():
    """{program id: (name, run_time_ns, run_cnt)} of the loaded programs."""
    out = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        return {}
    stats = {}
    for prog in json.loads(out.stdout or "[]"):
        if "run_cnt" in prog:
            stats[prog["id"]] = (prog.get("name", "?"), prog.get("run_time_ns", 0),
                                 prog["run_cnt"])
    return stats


def run_with_bpf_stats(cmd, names):
    """Runs cmd with kernel.bpf_stats_enabled=1, sampling the counters of the
    programs it loads (named in `names`; programs loaded before it started
    are not its own) every 50 ms; returns {name: (ns per run, runs)} of the
    last sample taken before the programs went away."""
    before = set(bpf_prog_stats())
    last = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid, (name, ns, cnt) in bpf_prog_stats().items():
                if pid not in before and name in names:
                    last[name] = (ns, cnt)
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
                    help="another tracectl build (e.g. the previous commit's): every tracectl "
                         "case is timed with it too, in the same interleaved run, marked (other)")
    ap.add_argument("--receiver", help="sink_receiver binary: adds the OTLP/gRPC export case")
    ap.add_argument("--cpu", action="store_true",
                    help="also report dd's own CPU time (dd under /usr/bin/time; tracectl -f)")
    a = ap.parse_args()

    dd = ["dd", "if=/dev/zero", "of=/dev/null", "bs=1", f"count={a.count}"]
    workload = " ".join(dd)
    run = ["run"]
    if a.cpu:
        dd = ["/usr/bin/time", "-f", "dd cpu %U %S"] + dd
        run = ["run", "-f"]
    receiver = None
    cases = {
        "untraced": dd,
        "tracectl run --output /dev/null": [a.tracectl] + run + ["--output", "/dev/null", "--"] + dd,
        # The tree goes to stderr, which this case sends to a file.
        "tracectl run (terminal tree to a file)": [a.tracectl] + run + ["--"] + dd,
    }
    if a.receiver:
        receiver, port = start_receiver(a.receiver)
        cases["tracectl run --otlp-endpoint (gRPC, local receiver)"] = [
            a.tracectl] + run + ["--otlp-endpoint", f"http://127.0.0.1:{port}", "--"] + dd
    cases["tracectl run --stats"] = [a.tracectl] + run + ["--stats", "--"] + dd
    cases["strace -f -c"] = ["strace", "-f", "-c", "-o", "/dev/null"] + dd
    if a.no_strace:
        del cases["strace -f -c"]
    if a.compare:
        # Every tracectl case again with the other build, in the same rounds.
        for label, cmd in list(cases.items()):
            if cmd and cmd[0] == a.tracectl:
                cases["(other) " + label] = [a.compare] + cmd[1:]
    if a.floor:
        for hooks, label in [("raw_tp", "empty raw_tp pair"), ("tp_btf", "empty tp_btf pair"),
                             ("clock", "tp_btf pair: task + clock only")]:
            cases[label] = [a.floor, f"--hooks={hooks}", "--"] + dd
    times = {k: [] for k in cases}
    dd_own = {k: [] for k in cases}  # dd's own elapsed time ("copied, X s")
    rss = {k: [] for k in cases}  # peak RSS, KiB
    dd_cpu = {k: [] for k in cases}  # dd's user + system time (--cpu)
    drops = {}  # case -> ring-buffer drops reported, per run
    tree_file = tempfile.mktemp(prefix="syscall_overhead_tree.")
    try:
        for r in range(max(a.repeats, a.strace_repeats)):
            for name, cmd in cases.items():
                limit = a.strace_repeats if name.startswith("strace") else a.repeats
                if r >= limit:
                    continue
                dt, err, maxrss = timed(cmd, tree_file if "tree" in name else None)
                times[name].append(dt)
                rss[name].append(maxrss)
                m = re.search(r"copied, ([\d.]+) s", err)
                if m:
                    dd_own[name].append(float(m.group(1)))
                m = re.search(r"dd cpu ([\d.]+) ([\d.]+)", err)
                if m:
                    dd_cpu[name].append(float(m.group(1)) + float(m.group(2)))
                if "tracectl run" in name and "--stats" not in name:
                    m = re.search(r"(\d+) events (lost|LOST)", err)
                    drops.setdefault(name, []).append(int(m.group(1)) if m else -1)
                print(f"  {name:52s} run {r + 1}: {dt:8.3f} s  {maxrss / 1024:6.1f} MiB",
                      file=sys.stderr)
    finally:
        if receiver:
            receiver.terminate()
            receiver.wait()
        if os.path.exists(tree_file):
            os.unlink(tree_file)

    base = statistics.median(times["untraced"])
    base_dd = statistics.median(dd_own["untraced"])
    rows = ["| case | median wall time of the whole run (s) | ratio | median time dd itself took (s) | ratio | median peak RSS (MiB) | runs |",
            "|---|---|---|---|---|---|---|"]
    base_cpu = statistics.median(dd_cpu["untraced"]) if dd_cpu["untraced"] else float("nan")
    if a.cpu:
        rows[0] += " median CPU time of dd (s) | ratio |"
        rows[1] += "---|---|"
    for name, ts in times.items():
        med = statistics.median(ts)
        own = statistics.median(dd_own[name]) if dd_own[name] else float("nan")
        peak = statistics.median(rss[name]) / 1024
        row = (f"| {name} | {med:.3f} | {med / base:.2f}x | {own:.3f} | "
               f"{own / base_dd:.2f}x | {peak:.1f} | {len(ts)} |")
        if a.cpu:
            cpu = statistics.median(dd_cpu[name]) if dd_cpu[name] else float("nan")
            row += f" {cpu:.2f} | {cpu / base_cpu:.2f}x |"
        rows.append(row)
    table = "\n".join(rows)
    summary = (f"Workload: `{workload}` ({2 * a.count:,} syscalls"
               f"{', under /usr/bin/time' if a.cpu else ''}). "
               "Events lost per run: " +
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
