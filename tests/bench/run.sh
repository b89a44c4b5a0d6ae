#!/usr/bin/env bash
# Runs the benchmarks of tests/bench and prints their tables (BENCHMARKS.md
# records the method and the last results). Needs root for BPF.
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //ctl:tracectl
echo "== syscall capture overhead (dd, 4M syscalls) =="
python3 tests/bench/syscall_overhead.py bazel-bin/ctl/tracectl "$@"
echo "== durable span WAL =="
bazel build -c opt //tests/bench/wal:wal_bench
bazel-out/k8-opt/bin/tests/bench/wal/wal_bench --repeats=5 --seconds=2
