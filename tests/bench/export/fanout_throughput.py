#!/usr/bin/env python3
"""OTLP export throughput through the control plane's fan-out (queue -> decode
-> merge -> export -> ack, fanout_throughput.cc), with the OpenTelemetry
JavaScript SDK's exporter in the same run as the peer.

Starts sink_receiver (pinned to the last CPU), then for every repeat runs
each fan-out case (OTLP/gRPC and OTLP/HTTP protobuf, without and with gzip,
one backend; OTLP/gRPC with two backends; OTLP/gRPC with resource
attributes to merge) and js_exporter.js for the same protocols, all pinned
to CPU 0, order alternating between repeats. After each run the receiver's
span count must have grown by exactly what was delivered (spans x backends;
JS: what it sent plus its warm-up). Prints a Markdown table of medians:
spans per CPU second of the exporting process ("per core"), wall spans/s,
CPU seconds, peak RSS, the ratio of the fan-out's per-core rate to the
JS SDK's for the same protocol and compression, and the fan-out's OTLP
parses per queued record and backend (otlp/parse_counter.h).

Usage: fanout_throughput.py --bin-dir DIR --peers-dir DIR [--repeats 3]
         [--spans 262144] [--js-spans 131072] [--json-out FILE] [--no-js]
DIR holds fanout_throughput and sink_receiver (bazel-out/k8-opt/bin/
tests/bench/export of an opt build).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_throughput as et  # noqa: E402  (sink start, JS runner, receiver stats)

# (label, protocol, gzip, backends, resource attributes)
FANOUT_CASES = [
    ("grpc", "grpc", False, 1, False),
    ("grpc+gzip", "grpc", True, 1, False),
    ("http/protobuf", "http/protobuf", False, 1, False),
    ("http/protobuf+gzip", "http/protobuf", True, 1, False),
    ("grpc, 2 backends", "grpc", False, 2, False),
    ("grpc, resource attributes", "grpc", False, 1, True),
]
JS_CASES = ["grpc", "grpc+gzip", "http/protobuf", "http/protobuf+gzip"]


def run_fanout(case, spans, ports, args, cpu):
    label, proto, gzip, backends, attrs = case
    endpoint = (f"127.0.0.1:{ports['grpc']}" if proto == "grpc"
                else f"http://127.0.0.1:{ports['http']}/v1/traces")
    cmd = [os.path.join(args.bin_dir, "fanout_throughput"), f"--protocol={proto}",
           f"--endpoint={endpoint}", f"--spans={spans}", f"--backends={backends}",
           f"--gzip={'true' if gzip else 'false'}",
           f"--resource_attributes={'true' if attrs else 'false'}"]
    before = et.stats(ports["http"])
    out = subprocess.run(cmd, preexec_fn=et.pin(cpu), capture_output=True, text=True,
                         timeout=600)
    after = et.stats(ports["http"])
    if out.returncode != 0:
        sys.exit(f"fanout {label}: exit {out.returncode}: {out.stderr.strip()[-2000:]}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    got = after["spans"] - before["spans"]
    # At-least-once allows a re-sent batch, but none is expected here.
    if got != r["spans_delivered"] or after["errors"] != before["errors"]:
        sys.exit(f"fanout {label}: receiver counted {got} spans, delivered "
                 f"{r['spans_delivered']}; errors {after['errors']}")
    gz = after["gzip_requests"] - before["gzip_requests"]
    if proto != "grpc" and gz != (r["requests"] if gzip else 0):
        sys.exit(f"fanout {label}: {gz} of {r['requests']} requests arrived gzipped")
    r["receiver_busy"] = (after["cpu_s"] - before["cpu_s"]) / max(1e-9, r["wall_s"])
    r["case"] = label
    r["impl"] = "fanout"
    return r


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin-dir", required=True)
    p.add_argument("--peers-dir", required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--spans", type=int, default=262144)
    p.add_argument("--js-spans", type=int, default=131072)
    p.add_argument("--json-out")
    p.add_argument("--no-js", action="store_true")
    args = p.parse_args()
    if not args.no_js and shutil.which("node") is None:
        sys.exit("node is not installed (Debian package nodejs)")

    ncpu = len(os.sched_getaffinity(0))
    client_cpu, sink_cpu = (0, ncpu - 1) if ncpu >= 2 else (None, None)
    tmp = tempfile.mkdtemp(prefix="fanout-bench-")
    sink, ports = et.start_sink(args.bin_dir, tmp, sink_cpu)
    results = []
    try:
        for rep in range(args.repeats):
            jobs = [("fanout", c) for c in FANOUT_CASES]
            if not args.no_js:
                jobs += [("js-sdk", c) for c in JS_CASES]
            if rep % 2:
                jobs.reverse()
            for impl, case in jobs:
                if impl == "fanout":
                    r = run_fanout(case, args.spans, ports, args, client_cpu)
                else:
                    r = et.run_one("js-sdk", case, 512, args.js_spans, ports, args, client_cpu)
                r["repeat"] = rep
                results.append(r)
                print(f"  repeat {rep + 1}/{args.repeats} {impl:6} {r['case']:26} "
                      f"{r['spans_per_cpu_s']:12,.0f} spans/CPU-s "
                      f"{r['spans_per_s']:12,.0f} spans/s", file=sys.stderr)
    finally:
        sink.terminate()
        sink.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)

    def rows(impl, case):
        return [r for r in results if r["impl"] == impl and r["case"] == case]

    print(f"Fan-out export throughput: {args.spans} queued spans per run (records of 512), "
          f"medians of {args.repeats} repeats; JS SDK {args.js_spans} spans in requests of "
          f"512; client pinned to CPU {client_cpu}, receiver to CPU {sink_cpu}.\n")
    print("| case | fan-out: spans/s per core | fan-out: spans/s wall | fan-out: CPU s "
          "| fan-out: peak RSS MB | JS SDK: spans/s per core | JS SDK: spans/s wall "
          "| JS SDK: peak RSS MB | per core fan-out/JS | receiver busy (max) "
          "| fan-out: OTLP parses per record and backend |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for case in FANOUT_CASES:
        ours = rows("fanout", case[0])
        peer = case[0] if case[0] in JS_CASES else ("grpc" if case[1] == "grpc" else None)
        js = rows("js-sdk", peer) if peer else []
        row = [case[0], f"{med(ours, 'spans_per_cpu_s'):,.0f}", f"{med(ours, 'spans_per_s'):,.0f}",
               f"{med(ours, 'cpu_s'):.3f}", f"{med(ours, 'peak_rss_kb') / 1024:.0f}"]
        if js:
            row += [f"{med(js, 'spans_per_cpu_s'):,.0f}", f"{med(js, 'spans_per_s'):,.0f}",
                    f"{med(js, 'peak_rss_kb') / 1024:.0f}",
                    f"{med(ours, 'spans_per_cpu_s') / med(js, 'spans_per_cpu_s'):.1f}x"]
        else:
            row += ["–"] * 4
        busy = max(r["receiver_busy"] for r in ours + js)
        row.append(f"{busy * 100:.0f}%")
        row.append(f"{med(ours, 'parses_per_record'):.2f}")
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
