#!/usr/bin/env python3
"""Hook floors for HTTP capture: what each kernel hook that can see a traced
process's socket data costs other processes' syscalls, programs attached
and nothing captured (BENCHMARKS.md "HTTP capture overhead", hook floors).

For each hook family of tests/bench/http:hook_floor (raw_tp pair, tp_btf
pair, classic syscalls:sys_enter_X/sys_exit_X tracepoints of the 13 calls a
socket capture follows, their sys_exit_X half alone, cgroup_skb, sockops + sk_msg), plus "none" and,
for each --tracectl LABEL=PATH, that tracectl's socket tracker
(tracectl run --http -e trace=none tracing an idle `sleep`, so its
programs are attached and miss), it runs
tests/bench/http:syscall_cost and records the CPU ns per call of
  socket   write/read of 1 byte on loopback TCP (calls the capture follows)
  getppid  a syscall it does not follow (the bare entry/exit path)
  fstatat  newfstatat("/"), which nginx makes per request and no capture follows
Each measurement is the fastest of 9 rounds (the least disturbed by other
work on the machine); modes are interleaved (the order rotates every
repeat); the table shows medians over the repeats and the difference
against "none" measured in the same repeats. The last column estimates
nginx's extra CPU per request: it makes 4 followed calls (recvfrom, writev,
sendfile, close) and 2 others (openat, newfstatat) per request.

Usage: http_hook_floors.py HOOK_FLOOR SYSCALL_COST [--tracectl LABEL=PATH ...]
                           [--cgroup DIR] [--repeats R] [--markdown FILE]
--cgroup is a cgroup2 directory for cgroup_skb/sockops; without it a
cgroup2 hierarchy is mounted on a temporary directory (and unmounted).
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time


def attached(proc, fds_min=1, timeout=30):
    """Waits until `proc` holds BPF link/prog fds and they stop changing."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"attacher exited early ({proc.returncode}): {proc.args}")
        n = 0
        for fd in os.listdir(f"/proc/{proc.pid}/fd"):
            try:
                t = os.readlink(f"/proc/{proc.pid}/fd/{fd}")
            except OSError:
                continue
            n += t in ("anon_inode:bpf_link", "anon_inode:bpf-prog")
        if n != last:
            last, since = n, time.monotonic()
        elif n >= fds_min and time.monotonic() - since > 0.5:
            return
        time.sleep(0.05)
    sys.exit(f"attacher never attached: {proc.args}")


def measure(cost, calls):
    out = subprocess.run([cost, f"--calls={calls}", "--rounds=9"], capture_output=True,
                         text=True, check=True).stdout
    return {k: float(v) for k, v in re.findall(r"(\w+)_ns=([\d.]+)", out)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hook_floor")
    ap.add_argument("syscall_cost")
    ap.add_argument("--tracectl", action="append", default=[], metavar="LABEL=PATH")
    ap.add_argument("--cgroup")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--calls", type=int, default=200000)
    ap.add_argument("--markdown")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (BPF)")

    mounted = None
    cg = a.cgroup
    if not cg:
        mounted = tempfile.mkdtemp(prefix="cg2_")
        subprocess.run(["mount", "-t", "cgroup2", "none", mounted], check=True)
        cg = mounted
    idle = subprocess.Popen(["sleep", "36000"])
    modes = {
        "none": None,
        "raw_tp sys_enter/sys_exit": [a.hook_floor, "--hooks=raw_tp"],
        "tp_btf sys_enter/sys_exit": [a.hook_floor, "--hooks=tp_btf"],
        "syscalls:sys_enter_X/sys_exit_X, 13 calls": [a.hook_floor, "--hooks=tracepoint"],
        "syscalls:sys_exit_X only, 13 calls": [a.hook_floor, "--hooks=tracepoint_exit"],
        "cgroup_skb ingress+egress": [a.hook_floor, "--hooks=cgroup_skb", f"--cgroup={cg}"],
        "sockops + sk_msg": [a.hook_floor, "--hooks=sockops", f"--cgroup={cg}"],
    }
    for t in a.tracectl:
        label, path = t.split("=", 1)
        modes[f"socket tracker, {label} (tracectl run --http -e trace=none, target idle)"] = [
            path, "run", "--http", "-e", "trace=none", "--output", "/dev/null",
            "-p", str(idle.pid)]
    results = {m: [] for m in modes}
    proc = None
    try:
        names = list(modes)
        for rep in range(a.repeats):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                proc = None
                if modes[name]:
                    proc = subprocess.Popen(modes[name], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
                    attached(proc)
                r = measure(a.syscall_cost, a.calls)
                if proc:
                    proc.send_signal(signal.SIGINT)
                    proc.wait()
                    proc = None
                results[name].append(r)
                print(f"  [{rep + 1}] {name:60s} " +
                      " ".join(f"{k} {v:7.1f} ns" for k, v in r.items()), file=sys.stderr)
    finally:
        if proc and proc.poll() is None:  # interrupted mid-measurement
            proc.send_signal(signal.SIGINT)
            proc.wait()
        idle.kill()
        idle.wait()
        if mounted:
            subprocess.run(["umount", mounted])
            os.rmdir(mounted)

    keys = ["socket", "getppid", "fstatat"]
    med = {m: {k: statistics.median(r[k] for r in rs) for k in keys}
           for m, rs in results.items()}
    base = med["none"]
    lines = ["| hook (programs attached, nothing captured) | socket write/read ns per call (+ vs none) "
             "| getppid ns (+) | newfstatat ns (+) | nginx's 6 calls per request: + ns |",
             "|---|---:|---:|---:|---:|"]
    for m in modes:
        d = {k: med[m][k] - base[k] for k in keys}
        # nginx per request: recvfrom, writev, sendfile, close (followed:
        # socket cost) + openat, newfstatat (not followed: fstatat cost).
        per_req = 4 * d["socket"] + 2 * d["fstatat"]
        cell = lambda k: f"{med[m][k]:.0f}" + ("" if m == "none" else f" ({d[k]:+.0f})")  # noqa
        lines.append(f"| {m} | {cell('socket')} | {cell('getppid')} | {cell('fstatat')} | "
                     + ("–" if m == "none" else f"{per_req:+.0f}") + " |")
    table = "\n".join(lines)
    print(table)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
