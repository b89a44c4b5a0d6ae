#!/usr/bin/env python3
"""OTLP export throughput: our exporters against the OpenTelemetry JavaScript
SDK's, in the same run, to the same minimal receiver.

Starts sink_receiver (pinned to the last CPU), then for every repeat, batch
size and case (OTLP/gRPC, OTLP/HTTP protobuf, each without and with gzip)
runs export_throughput (ours) and js_exporter.js (the JS SDK) one after the
other (order alternating between repeats), both pinned to CPU 0, each
sending --spans spans of the same agent-like shape. After each run the
receiver's span count must have grown by exactly what was sent. Prints a
Markdown table of medians: spans per CPU second of the exporter process
("per core", user+sys from getrusage / process.cpuUsage), wall spans/s,
the exporter's CPU seconds and peak RSS, ratios ours/JS, and how busy the
receiver was (its CPU seconds over the run's wall time).

Usage: export_throughput.py --bin-dir DIR --peers-dir DIR [--repeats 3]
         [--spans 131072] [--batches 512,8192] [--cases grpc,grpc+gzip,...]
         [--json-out FILE] [--no-js]
DIR holds export_throughput and sink_receiver (bazel-bin/tests/bench/export
of an opt build); --peers-dir is where tests/peers/install.sh put the npm
packages.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = ["grpc", "grpc+gzip", "http/protobuf", "http/protobuf+gzip"]


def pin(cpu):
    def f():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
    return f


def stats(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/stats", timeout=10) as r:
        return json.loads(r.read())


def loopback_bytes():
    """Bytes received on the loopback interface so far (/proc/net/dev): both
    directions of every loopback connection, including anything else running
    on the machine, so an approximate per-run figure."""
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                return int(rest.split()[0])
    return 0


def start_sink(bin_dir, tmp, cpu):
    ready = os.path.join(tmp, "sink.ready")
    proc = subprocess.Popen([os.path.join(bin_dir, "sink_receiver"), f"--ready_file={ready}"],
                            preexec_fn=pin(cpu), stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while not os.path.exists(ready):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            sys.exit("sink_receiver did not start")
        time.sleep(0.05)
    with open(ready) as f:
        return proc, json.load(f)


def run_one(impl, case, batch, spans, ports, args, cpu):
    proto, _, gz = case.partition("+")
    gzip = gz == "gzip"
    if impl == "ours":
        endpoint = (f"127.0.0.1:{ports['grpc']}" if proto == "grpc"
                    else f"http://127.0.0.1:{ports['http']}/v1/traces")
        cmd = [os.path.join(args.bin_dir, "export_throughput"), f"--protocol={proto}",
               f"--endpoint={endpoint}", f"--spans_per_request={batch}", f"--spans={spans}",
               f"--gzip={'true' if gzip else 'false'}"]
        env = None
    else:
        endpoint = (f"http://127.0.0.1:{ports['grpc']}" if proto == "grpc"
                    else f"http://127.0.0.1:{ports['http']}/v1/traces")
        cmd = ["node", os.path.join(HERE, "js_exporter.js"), "--protocol", proto,
               "--endpoint", endpoint, "--spans-per-request", str(batch), "--spans", str(spans)]
        if gzip:
            cmd.append("--gzip")
        env = dict(os.environ, NODE_PATH=os.path.join(args.peers_dir, "node_modules"))
    before = stats(ports["http"])
    lo0 = loopback_bytes()
    out = subprocess.run(cmd, preexec_fn=pin(cpu), env=env, capture_output=True, text=True,
                         timeout=600)
    lo1 = loopback_bytes()
    after = stats(ports["http"])
    if out.returncode != 0:
        sys.exit(f"{impl} {case} {batch}: exit {out.returncode}: {out.stderr.strip()}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    got = after["spans"] - before["spans"]
    warmup = 2 * batch  # both drivers send 2 warm-up requests
    if got != r["spans"] + warmup or after["errors"] != before["errors"]:
        sys.exit(f"{impl} {case} {batch}: receiver counted {got} spans, "
                 f"sent {r['spans']} + {warmup} warm-up; errors {after['errors']}")
    # OTLP/HTTP: the receiver sees Content-Encoding. gRPC core strips
    # grpc-encoding before the handler, so there the loopback byte count is
    # the evidence of compression.
    gz = after["gzip_requests"] - before["gzip_requests"]
    if proto != "grpc" and gz != (r["requests"] + 2 if gzip else 0):
        sys.exit(f"{impl} {case} {batch}: {gz} of {r['requests'] + 2} requests arrived gzipped")
    r["loopback_bytes_per_span"] = (lo1 - lo0) / got
    r["receiver_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    r["receiver_busy"] = r["receiver_cpu_s"] / max(1e-9, r["wall_s"])
    r["bytes_per_span"] = (after["bytes"] - before["bytes"]) / got
    r["case"] = case
    return r


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--peers-dir", required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--spans", type=int, default=131072)
    p.add_argument("--batches", default="512,8192")
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--json-out")
    p.add_argument("--no-js", action="store_true")
    args = p.parse_args()
    impls = ["ours"] if args.no_js else ["ours", "js-sdk"]
    if not args.no_js and shutil.which("node") is None:
        sys.exit("node is not installed (Debian package nodejs)")

    ncpu = len(os.sched_getaffinity(0))
    client_cpu, sink_cpu = (0, ncpu - 1) if ncpu >= 2 else (None, None)
    batches = [int(b) for b in args.batches.split(",")]
    cases = args.cases.split(",")
    tmp = tempfile.mkdtemp(prefix="export-bench-")
    sink, ports = start_sink(args.bin_dir, tmp, sink_cpu)
    results = []
    try:
        for rep in range(args.repeats):
            for batch in batches:
                for case in cases:
                    order = impls if rep % 2 == 0 else list(reversed(impls))
                    for impl in order:
                        r = run_one(impl, case, batch, args.spans, ports, args, client_cpu)
                        r["repeat"] = rep
                        results.append(r)
                        print(f"  repeat {rep + 1}/{args.repeats} {impl:6} {case:18} "
                              f"{batch:5} spans/req: {r['spans_per_cpu_s']:12,.0f} spans/CPU-s "
                              f"{r['spans_per_s']:12,.0f} spans/s", file=sys.stderr)
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)

    print(f"OTLP export throughput, {args.spans} spans per run, medians of {args.repeats} "
          f"repeats; exporter pinned to CPU {client_cpu}, receiver to CPU {sink_cpu}.\n")
    print("| case | spans/request | ours: spans/s per core | ours: spans/s wall | ours: CPU s "
          "| ours: peak RSS MB | JS SDK: spans/s per core | JS SDK: spans/s wall "
          "| JS SDK: peak RSS MB | per core ours/JS | wall ours/JS | loopback bytes/span ours, JS "
          "| receiver busy (max) |")
    # loopback bytes/span: what crossed the loopback interface during the run
    # (requests and answers, headers included; approximate, see
    # loopback_bytes()): shows whether a client really compressed.
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for batch in batches:
        for case in cases:
            ours = [r for r in results if r["impl"] == "ours" and r["case"] == case
                    and r["spans_per_request"] == batch]
            js = [r for r in results if r["impl"] == "js-sdk" and r["case"] == case
                  and r["spans_per_request"] == batch]
            row = [case, f"{batch}", f"{med(ours, 'spans_per_cpu_s'):,.0f}",
                   f"{med(ours, 'spans_per_s'):,.0f}", f"{med(ours, 'cpu_s'):.3f}",
                   f"{med(ours, 'peak_rss_kb') / 1024:.0f}"]
            busy = max(r["receiver_busy"] for r in ours + js)
            if js:
                row += [f"{med(js, 'spans_per_cpu_s'):,.0f}", f"{med(js, 'spans_per_s'):,.0f}",
                        f"{med(js, 'peak_rss_kb') / 1024:.0f}",
                        f"{med(ours, 'spans_per_cpu_s') / med(js, 'spans_per_cpu_s'):.1f}x",
                        f"{med(ours, 'spans_per_s') / med(js, 'spans_per_s'):.1f}x",
                        f"{med(ours, 'loopback_bytes_per_span'):.0f}, "
                        f"{med(js, 'loopback_bytes_per_span'):.0f}"]
            else:
                row += ["–"] * 5 + [f"{med(ours, 'loopback_bytes_per_span'):.0f}, –"]
            row.append(f"{busy * 100:.0f}%")
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
