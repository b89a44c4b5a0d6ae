#!/usr/bin/env bash
# Runs the benchmarks of tests/bench and prints their tables (BENCHMARKS.md
# records the method and the last results). Needs root for BPF.
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build -c opt //ctl:tracectl //tests/bench/export:sink_receiver //tests/bench:span_path_bench \
  //tests/bench/floor:syscall_floor_main
echo "== syscall capture overhead (dd, 4M syscalls; --output, tree to a file, OTLP/gRPC; hook floors) =="
python3 tests/bench/syscall_overhead.py bazel-out/k8-opt/bin/ctl/tracectl \
  --receiver bazel-out/k8-opt/bin/tests/bench/export/sink_receiver \
  --floor bazel-out/k8-opt/bin/tests/bench/floor/syscall_floor_main "$@"
echo "== user space per syscall span (recorded records, no kernel) =="
bazel-out/k8-opt/bin/tests/bench/span_path_bench --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>&1 | grep -E "^BM_|^-|^Benchmark"
echo "== HTTP capture overhead (wrk against nginx, tracectl run --http) =="
bazel build //tests/bench/http:http_capture_probe
bazel build //ctl:tracectl
python3 tests/bench/http_overhead.py bazel-bin/ctl/tracectl --repeats 5
echo "== idle trace-agent: RSS and CPU, without and with a session matching nothing =="
bazel build //agent:trace-agent //controlplane:trace-controlplane
tests/bench/agent_idle.sh bazel-bin
echo "== durable span WAL =="
bazel build -c opt //tests/bench/wal:wal_bench
bazel-out/k8-opt/bin/tests/bench/wal/wal_bench --repeats=5 --seconds=2
echo "== control plane: ingest -> store -> GetTrace, OTLP parses per batch =="
bazel build -c opt //tests/bench/controlplane:ingest_store_bench
bazel-out/k8-opt/bin/tests/bench/controlplane/ingest_store_bench --repeats=5
echo "== OTLP export throughput (ours vs the OpenTelemetry JS SDK) =="
bazel build -c opt //tests/bench/export:export_throughput //tests/bench/export:sink_receiver
peers="${PEERS_DIR:-$PWD/.peers}"
tests/peers/install.sh "$peers"
python3 tests/bench/export/export_throughput.py \
  --bin-dir bazel-out/k8-opt/bin/tests/bench/export --peers-dir "$peers" --repeats 3
echo "== OTLP export throughput through the control plane's fan-out (queue -> backend) =="
bazel build -c opt //tests/bench/export:fanout_throughput //tests/bench/export:sink_receiver
python3 tests/bench/export/fanout_throughput.py \
  --bin-dir bazel-out/k8-opt/bin/tests/bench/export --peers-dir "$peers" --repeats 3
