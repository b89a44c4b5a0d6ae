#!/usr/bin/env bash
# `make fuzz`: builds every fuzz target (tag "fuzz") with clang's libFuzzer
# and AddressSanitizer (--config=fuzz) and runs each for FUZZ_SECONDS
# (default 60) on its seed corpus. Exits non-zero on the first crash.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${FUZZ_SECONDS:-60}"
mapfile -t targets < <(bazel query 'attr(tags, "\bfuzz\b", tests(//...))' 2>/dev/null)
bazel build --config=fuzz "${targets[@]}"
for t in "${targets[@]}"; do
  pkg="${t#//}"; pkg="${pkg%%:*}"; name="${t##*:}"
  corpus="$(mktemp -d)"
  # Seed corpora are the test's data files (see tracer_fuzz_target).
  bazel query "labels(data, $t)" 2>/dev/null | while read -r d; do
    f="${d#//}"; f="${f/://}"
    if [[ -d "$f" ]]; then cp -r "$f"/. "$corpus"/; elif [[ -f "$f" ]]; then cp "$f" "$corpus"/; fi
  done
  echo "== $t ($secs s) =="
  "bazel-bin/$pkg/$name" -max_total_time="$secs" -print_final_stats=1 "$corpus"
  rm -rf "$corpus"
done
