#!/usr/bin/env python3
"""HTTP capture overhead benchmark (issue 6, "Speed").

One nginx (tests/bench/http/nginx_server.py: master + 1 worker, daemon off,
access_log off, a 612-byte static file, 127.0.0.1 on a free port) serves
    wrk -t2 -c50 -dDURATION http://127.0.0.1:PORT/index.html
in four modes, REPEATS times each, interleaved (the order rotates every
repeat), all against the same nginx process:
  untraced       nothing attached
  http           tracectl run --http -e trace=none --output OUT -p WORKER
                 (HTTP spans only)
  http+network   tracectl run --http -e trace=%network --output OUT -p WORKER
                 (plus a syscall span per network syscall: recvfrom per request)
  http+syscalls  tracectl run --http --output OUT -p WORKER   (every syscall)
The tracer attaches to the nginx worker, the one process that accepts, reads
and writes every connection, i.e. the server side that HTTP capture exists
for; it is started before wrk and stopped (SIGINT) after wrk ends.

Per run: wrk's requests/s and request count, nginx's own count of requests
served (stub_status, read before the tracer starts and after it exits), the
tracer's CPU while wrk ran (utime+stime from /proc/PID/stat), its whole-run
CPU and peak RSS (wait4 rusage; VmHWM), the nginx worker's and wrk's CPU, the
CPU everything else on the machine used meanwhile (/proc/stat), and the
losses and HTTP anomalies tracectl prints. CPU per request (nginx + wrk +
tracer, µs) is reported next to requests/s: on a machine shared with other
work it moves less than requests/s does. OUT is /dev/null except in COUNT_RUNS
extra runs per traced mode, where it is a file (on tmpfs when available)
whose SERVER spans are counted afterwards (tests/bench/http/count_spans.py)
and compared with nginx's and wrk's counts. Those runs are reported apart
and not part of the medians.

With --bpf-stats, kernel.bpf_stats_enabled is set for the run (and restored)
and each traced run reports run_time_ns / run_cnt of the BPF programs the
tracer loaded (bpftool prog show), i.e. the in-kernel cost per program run.
Stats collection itself costs two clock reads per program run.

With --breakdown PROBE (tests/bench/http:http_capture_probe) the modes split
the cost instead: BPF programs attached while tracing the idle nginx master
(what every untraced process pays), the worker's sockets captured in the
kernel and only decoded, plus HTTP parsing, and tracectl run --http.

--pin puts nginx (master and worker) on CPU 1 and wrk and the tracer on CPU 0,
so nginx has a core to itself and the tracer competes with the load
generator only; unpinned, the scheduler spreads all three over both cores.

Usage: http_overhead.py TRACECTL [--repeats R] [--duration S] [--pin]
                        [--breakdown PROBE] [--mode NAME=CMD ...]
                        [--json FILE] [--markdown FILE]
A --mode replaces the default traced modes; CMD is split on spaces and
{pid}, {master} and {out} are replaced by the worker's pid, the master's
pid and the output path.
"""
import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "http"))
from count_spans import count_spans  # noqa: E402
from nginx_server import NginxServer  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
# strace's %network class: for nginx serving a file that is recvfrom per
# request plus accept4/setsockopt per connection.
DEFAULT_HTTP_SYSCALLS = "%network"


def cpu_seconds(pid):
    """utime+stime of process `pid` (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds():
    """CPU time (all CPUs, seconds) the machine spent not idle, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def bpf_map_rss_kib(pid):
    """RSS of `pid`'s BPF map mappings (the ring buffers: libbpf maps each
    one's data pages twice, so they count double in RSS but not in memory)."""
    total, in_map = 0, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                in_map = line.rstrip().endswith("anon_inode:bpf-map")
            elif in_map and line.startswith("Rss:"):
                total += int(line.split()[1])
    return total


def bpf_fds(pid):
    """Number of BPF link and program fds `pid` holds (attach progress)."""
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in ("anon_inode:bpf_link", "anon_inode:bpf-prog"):
                n += 1
    except FileNotFoundError:
        pass
    return n


def prog_ids(pid):
    """BPF program ids held by `pid` (from fdinfo)."""
    ids = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def prog_stats(ids):
    """{id: (name, run_time_ns, run_cnt)} for the given program ids."""
    out = {}
    for pid_ in ids:
        p = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(pid_)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            continue
        j = json.loads(p.stdout)
        out[pid_] = (j.get("name", "?"), j.get("run_time_ns", 0), j.get("run_cnt", 0))
    return out


def parse_wrk(text):
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s*([\d.]+)", text)
    r["rps"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    r["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Latency\s+([\d.]+)(us|ms|s)", text)
    if m:
        r["latency_avg_ms"] = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    return r


def wrk_cmd(a, url):
    cmd = ["wrk", f"-t{a.threads}", f"-c{a.connections}", f"-d{a.duration}s", url]
    if a.pin:
        cmd = ["taskset", "-c", a.wrk_cpus] + cmd
    return cmd


def pin(pid, cpus):
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True,
                   stdout=subprocess.DEVNULL)


def run_once(a, server, worker, name, tracer_cmd, out_path):
    """One wrk run, with `tracer_cmd` (None = untraced) attached."""
    started = []
    try:
        return _run_once(a, server, worker, name, tracer_cmd, out_path, started)
    finally:
        for p in started:  # only on errors: normal runs have reaped them
            if p.returncode is None and p.poll() is None:
                p.kill()
                p.wait()


def _run_once(a, server, worker, name, tracer_cmd, out_path, started):
    res = {"mode": name, "out": out_path}
    served_before = server.requests_served()
    tracer = None
    if tracer_cmd:
        cmd = [c.replace("{pid}", str(worker)).replace("{master}", str(server.proc.pid))
               .replace("{out}", out_path) for c in tracer_cmd]
        res["cmd"] = " ".join(cmd)
        err = tempfile.TemporaryFile(mode="w+")
        preexec = None
        if a.pin:
            cpus = {int(c) for c in a.tracer_cpus.split(",")}
            preexec = lambda: os.sched_setaffinity(0, cpus)  # noqa: E731
        tracer = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=preexec)
        started.append(tracer)
        # Attached once its BPF fds stop appearing; then a quiet moment.
        deadline = time.monotonic() + 30
        last, stable_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if tracer.poll() is not None:
                err.seek(0)
                sys.exit(f"tracer exited early ({tracer.returncode}): {res['cmd']}\n"
                         f"{err.read()[-3000:]}")
            n = bpf_fds(tracer.pid)
            if n != last:
                last, stable_since = n, time.monotonic()
            elif n > 0 and time.monotonic() - stable_since > 0.5:
                break
            time.sleep(0.05)
        time.sleep(a.settle)
        ids = prog_ids(tracer.pid) if a.bpf_stats else set()
        bpf_before = prog_stats(ids)
        cpu0 = cpu_seconds(tracer.pid)
    ncpu0 = cpu_seconds(worker)
    busy0 = machine_busy_seconds()
    t0 = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as wout:
        wp = subprocess.Popen(wrk_cmd(a, server.url), stdout=wout, stderr=subprocess.STDOUT)
        started.append(wp)
        _, wstatus, wru = os.wait4(wp.pid, 0)
        wp.returncode = os.waitstatus_to_exitcode(wstatus)
        wall = time.monotonic() - t0
        busy = machine_busy_seconds() - busy0
        wout.seek(0)
        wtext = wout.read()
    if wp.returncode != 0:
        sys.exit(f"wrk failed: {wtext}")
    res.update(parse_wrk(wtext))
    res["nginx_cpu"] = (cpu_seconds(worker) - ncpu0) / wall
    res["wrk_cpu"] = (wru.ru_utime + wru.ru_stime) / wall
    # CPU used by anything but nginx, wrk and the tracer while wrk ran (other
    # work on the machine), in cores.
    ours = res["nginx_cpu"] + res["wrk_cpu"]
    if tracer:
        res["tracer_cpu"] = (cpu_seconds(tracer.pid) - cpu0) / wall
        ours += res["tracer_cpu"]
    res["other_cpu"] = max(0.0, busy / wall - ours)
    if tracer:
        res["vmhwm_kib"] = vm_hwm_kib(tracer.pid)
        res["bpf_map_rss_kib"] = bpf_map_rss_kib(tracer.pid)
        if a.bpf_stats:
            after = prog_stats(ids)
            res["bpf"] = {after[i][0]: (after[i][1] - bpf_before[i][1],
                                        after[i][2] - bpf_before[i][2])
                          for i in after if i in bpf_before}
        t_stop = time.monotonic()
        tracer.send_signal(signal.SIGINT)
        _, status, ru = os.wait4(tracer.pid, 0)
        tracer.returncode = os.waitstatus_to_exitcode(status)
        res["stop_s"] = time.monotonic() - t_stop
        res["tracer_cpu_total_s"] = ru.ru_utime + ru.ru_stime
        res["maxrss_kib"] = ru.ru_maxrss
        err.seek(0)
        stderr = err.read()
        res["rc"] = tracer.returncode
        tail = stderr.strip().splitlines()
        res["tracer_summary"] = tail[-1] if tail else ""
        # tracectl with --output prints its losses only when there are some
        # ("N events LOST: ...; N socket events LOST: ..."); the probe always
        # prints "N events lost".
        res["events_lost"] = sum(int(n) for n in re.findall(
            r"(\d+) (?:socket )?(?:events|calls|syscalls) (?:LOST|lost)|"
            r"(\d+) sockets not tracked", stderr) for n in n if n)
        res["lost_lines"] = re.findall(r"^.*(?:LOST|not tracked).*$", stderr, re.M)
        http_line = re.findall(r"^tracectl: HTTP: .*$", stderr, re.M)
        res["http_anomalies"] = http_line[-1] if http_line else ""
        probe = re.search(r"(\d+) SERVER spans", stderr)  # http/http_capture_probe
        if probe:
            res["probe_server_spans"] = int(probe.group(1))
    res["nginx_served"] = server.requests_served() - served_before - 1
    if tracer and out_path != "/dev/null":
        res["spans"] = count_spans(out_path, url_path="/index.html")
        os.unlink(out_path)
    return res


def fmt_run(r):
    s = f"{r['mode']:14s} {r['rps']:10.1f} req/s  wrk {r['requests']:8d}  nginx {r['nginx_served']:8d}"
    s += (f"  nginx cpu {100 * r['nginx_cpu']:5.1f}%  wrk cpu {100 * r['wrk_cpu']:5.1f}%"
          f"  other cpu {100 * r['other_cpu']:5.1f}%")
    if "tracer_cpu" in r:
        s += (f"  tracer cpu {100 * r['tracer_cpu']:5.1f}% (total {r['tracer_cpu_total_s']:.2f}s)"
              f"  hwm {r['vmhwm_kib'] / 1024:.0f} MiB  lost {r['events_lost']}")
    if "spans" in r:
        s += f"  SERVER spans {r['spans']['server']} (200 OK /index.html: {r['spans']['server_ok']})"
    if r.get("http_anomalies"):
        s += "  [" + r["http_anomalies"] + "]"
    if r.get("lost_lines"):
        s += "  [" + "; ".join(r["lost_lines"]) + "]"
    if "probe_server_spans" in r:
        s += f"  SERVER spans (probe) {r['probe_server_spans']}"
    if r["socket_errors"] or r["non2xx"]:
        s += f"  wrk errors {r['socket_errors']} non-2xx {r['non2xx']}"
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tracectl")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--count-runs", type=int, default=1,
                    help="extra runs per traced mode whose spans are written and counted")
    ap.add_argument("--duration", type=int, default=10, help="wrk -d, seconds")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--syscalls", default=DEFAULT_HTTP_SYSCALLS,
                    help="-e trace= of the 'http+network' mode")
    ap.add_argument("--http-flags", default="--http",
                    help="flags that turn HTTP capture on (space-separated)")
    ap.add_argument("--mode", action="append", default=[],
                    help="NAME=CMD, replaces the default traced modes")
    ap.add_argument("--breakdown", metavar="PROBE",
                    help="instead of the default modes, split the cost of HTTP capture: "
                         "programs attached to another process, kernel side only, kernel "
                         "plus HTTP parsing (PROBE: tests/bench/http:http_capture_probe), "
                         "then tracectl run --http; best with --pin")
    ap.add_argument("--pin", action="store_true",
                    help="pin the nginx worker, wrk and the tracer to CPUs")
    ap.add_argument("--nginx-cpus", default="1")
    ap.add_argument("--wrk-cpus", default="0")
    ap.add_argument("--tracer-cpus", default="0")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds between the tracer attaching and wrk starting")
    ap.add_argument("--bpf-stats", action="store_true")
    ap.add_argument("--json", help="write every run's figures to this file")
    ap.add_argument("--markdown", help="write the results table to this file")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (BPF)")

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)

    http = a.http_flags.split()
    modes = {"untraced": None}
    if a.breakdown:
        out = ["--output", "{out}"]
        # The tracer traces the idle nginx master: its programs run on every
        # syscall of the machine but nginx's worker is not a target.
        modes["miss: syscall programs"] = [a.tracectl, "run", "--no-http", "-e", "trace=acct",
                                           "--output", "{out}", "-p", "{master}"]
        modes["miss: syscall+socket programs"] = [a.breakdown, "--pid", "{master}",
                                                  "--parse=false"]
        modes["kernel: worker's sockets captured"] = [a.breakdown, "--pid", "{pid}",
                                                      "--parse=false"]
        modes["kernel + HTTP parse, no spans out"] = [a.breakdown, "--pid", "{pid}"]
        modes["http (tracectl run --http)"] = [a.tracectl, "run"] + http + [
            "-e", "trace=acct"] + out + ["-p", "{pid}"]
    elif a.mode:
        for m in a.mode:
            name, cmd = m.split("=", 1)
            modes[name] = shlex.split(cmd)
    else:
        out = ["--output", "{out}", "-p", "{pid}"]
        # HTTP capture alone: -e trace=none builds no syscall span and
        # attaches no per-syscall program; the socket tracker runs.
        modes["http"] = [a.tracectl, "run"] + http + ["-e", "trace=none"] + out
        modes["http+network"] = [a.tracectl, "run"] + http + ["-e", f"trace={a.syscalls}"] + out
        modes["http+syscalls"] = [a.tracectl, "run"] + http + out

    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    old_stats = None
    if a.bpf_stats:
        with open("/proc/sys/kernel/bpf_stats_enabled") as f:
            old_stats = f.read().strip()
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
    server = NginxServer()
    runs = []
    try:
        server.start()
        workers = server.workers()
        if len(workers) != 1:
            sys.exit(f"expected one nginx worker, found {workers}")
        worker = workers[0]
        if a.pin:
            pin(server.proc.pid, a.nginx_cpus)
            pin(worker, a.nginx_cpus)
        print(f"nginx worker {worker} on {server.url}; wrk -t{a.threads} -c{a.connections} "
              f"-d{a.duration}s; {'pinned' if a.pin else 'not pinned'}", file=sys.stderr)
        # Warm-up (not recorded): nginx's page cache and wrk's first connections.
        subprocess.run(wrk_cmd(a, server.url)[:-2] + ["-d2s", server.url],
                       capture_output=True, check=True)
        names = list(modes)
        for rep in range(a.repeats):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for name in order:
                r = run_once(a, server, worker, name, modes[name], "/dev/null")
                r["repeat"] = rep
                runs.append(r)
                print(f"  [{rep + 1}] " + fmt_run(r), file=sys.stderr)
        for rep in range(a.count_runs):
            for name in names[1:]:
                if "{out}" not in modes[name]:
                    continue
                fd, out = tempfile.mkstemp(prefix="http_bench_spans_", suffix=".jsonl", dir=shm)
                os.close(fd)
                r = run_once(a, server, worker, name, modes[name], out)
                r["repeat"] = "count"
                runs.append(r)
                print(f"  [count] " + fmt_run(r), file=sys.stderr)
    finally:
        server.stop()
        if old_stats is not None:
            with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
                f.write(old_stats)

    if a.json:
        with open(a.json, "w") as f:
            json.dump(runs, f, indent=1)
    report(a, modes, runs)


def report(a, modes, runs):
    timed = [r for r in runs if r["repeat"] != "count"]
    counted = [r for r in runs if r["repeat"] == "count"]
    base = statistics.median(r["rps"] for r in timed if r["mode"] == "untraced")
    def us_per_req(r, key):
        return 1e6 * r.get(key, 0.0) / r["rps"]

    def cost(r):
        return sum(us_per_req(r, k) for k in ("nginx_cpu", "wrk_cpu", "tracer_cpu"))

    base_cost = statistics.median(cost(r) for r in timed if r["mode"] == "untraced")
    rows = ["| mode | median req/s | vs untraced | runs (req/s) | tracer CPU while wrk ran "
            "(% of one core) | tracer peak RSS (VmHWM; of it BPF ring-buffer mappings) | CPU µs per request: nginx + wrk + "
            "tracer = total | total vs untraced | other load on the machine (cores) | "
            "events lost (all runs) |",
            "|---|---:|---:|---|---:|---:|---|---:|---:|---|"]
    for name in modes:
        rs = [r for r in timed if r["mode"] == name]
        med = statistics.median(r["rps"] for r in rs)
        each = ", ".join(f"{r['rps']:.0f}" for r in rs)
        parts = [statistics.median(us_per_req(r, k) for r in rs)
                 for k in ("nginx_cpu", "wrk_cpu", "tracer_cpu")]
        c = statistics.median(cost(r) for r in rs)
        other = statistics.median(r["other_cpu"] for r in rs)
        cpu_cell = f"{parts[0]:.1f} + {parts[1]:.1f} + {parts[2]:.1f} = {c:.1f}"
        if name == "untraced":
            rows.append(f"| {name} | {med:,.0f} | – | {each} | – | – | {cpu_cell} | – | "
                        f"{other:.2f} | – |")
            continue
        tcpu = statistics.median(r["tracer_cpu"] for r in rs)
        hwm = max(r["vmhwm_kib"] for r in rs) / 1024
        maps = max(r.get("bpf_map_rss_kib", 0) for r in rs) / 1024
        lost = [r["events_lost"] for r in rs]
        rows.append(f"| {name} | {med:,.0f} | {100 * (med / base - 1):+.1f}% | {each} | "
                    f"{100 * tcpu:.0f}% | {hwm:.0f} MiB ({maps:.0f} MiB) | {cpu_cell} | "
                    f"{100 * (c / base_cost - 1):+.1f}% | {other:.2f} | {lost} |")
    table = "\n".join(rows)
    crow = ["| mode | req/s | requests (wrk) | requests served (nginx stub_status) | "
            "SERVER spans | of which 200 GET /index.html | missing vs nginx | events lost | "
            "HTTP anomalies reported |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in counted:
        s = r["spans"]
        crow.append(f"| {r['mode']} | {r['rps']:,.0f} | {r['requests']:,} | {r['nginx_served']:,} | "
                    f"{s['server']:,} | {s['server_ok']:,} | {r['nginx_served'] - s['server']:,} | "
                    f"{r['events_lost']} | {r.get('http_anomalies') or 'none'} |")
    ctable = "\n".join(crow)
    bpf_lines = []
    if a.bpf_stats:
        for name in list(modes)[1:]:
            rs = [r for r in timed if r["mode"] == name and "bpf" in r]
            progs = sorted({p for r in rs for p in r["bpf"]})
            for p in progs:
                ns = [r["bpf"][p][0] / r["bpf"][p][1] for r in rs if r["bpf"].get(p, (0, 0))[1]]
                cnt = [r["bpf"][p][1] / max(r["requests"], 1) for r in rs if p in r["bpf"]]
                tot = [r["bpf"][p][0] / 1e9 / a.duration for r in rs if p in r["bpf"]]
                if ns:
                    bpf_lines.append(f"| {name} | {p} | {statistics.median(ns):.0f} | "
                                     f"{statistics.median(cnt):.1f} | "
                                     f"{100 * statistics.median(tot):.1f}% |")
    if not counted:
        ctable = ""
    print(table)
    if ctable:
        print()
        print(ctable)
    if bpf_lines:
        print()
        bt = ("| mode | BPF program | ns per run (median) | runs per request | "
              "CPU in the program (% of one core) |\n|---|---|---:|---:|---:|\n" +
              "\n".join(bpf_lines))
        print(bt)
    else:
        bt = ""
    summary = (f"wrk -t{a.threads} -c{a.connections} -d{a.duration}s, {a.repeats} interleaved "
               f"repeats, {'pinned' if a.pin else 'not pinned'}.")
    print(summary)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(table + "\n\n" + (ctable + "\n\n" if ctable else "") +
                    (bt + "\n\n" if bt else "") + summary + "\n")


if __name__ == "__main__":
    main()
