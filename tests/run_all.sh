#!/usr/bin/env bash
# Runs every test of the project with Bazel: unit tests, BPF tests (as root,
# outside the sandbox), fuzz-target replays, end-to-end and interop tests.
# Prints a final "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

peers="${PEERS_DIR:-$PWD/.peers}"
args=(--test_env=TRACER_PEERS_DIR="$peers" --test_env=PATH --test_summary=short
      --test_output=errors --keep_going)
if [[ -n "${CI:-}" ]]; then args+=(--test_env=CI="$CI"); fi

# The layering rules, read from the build graph with `bazel query` (which a
# Bazel test cannot run): one more test in the totals below.
layering_rc=0
python3 tests/layering/layering.py || layering_rc=1

bazel test "${args[@]}" -- //... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

passed=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
failed=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|INCOMPLETE|FLAKY)' "$log")
# Tests that skip (no root outside CI, missing peers) say so in their logs.
skipped=$(grep -rlE '\[  SKIPPED \]|SKIP: ' bazel-testlogs/ --include=test.log 2>/dev/null | wc -l || true)
# A test target that skipped reports PASSED to Bazel; count it once, as skipped.
passed=$(( passed > skipped ? passed - skipped : 0 ))
if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi   # build failure
if [[ $layering_rc -eq 0 ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); rc=1; fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit $rc
