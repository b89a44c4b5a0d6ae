#!/usr/bin/env bash
# Runs the benchmarks of tests/bench and prints their tables (see BENCHMARKS.md
# for the method and the last recorded results). Needs root for BPF.
set -euo pipefail
cd "$(dirname "$0")/../.."
bazel build //ctl:tracectl
echo "== syscall capture overhead (dd, 4M syscalls) =="
python3 tests/bench/syscall_overhead.py bazel-bin/ctl/tracectl "$@"
