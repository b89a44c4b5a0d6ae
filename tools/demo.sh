#!/usr/bin/env bash
# `make demo`: trace real commands with tracectl and show what a user sees:
#   1. the span tree of a small shell pipeline (processes and their syscalls),
#   2. a strace -c style summary counted in the kernel,
#   3. the same spans exported over OTLP/gRPC to an OpenTelemetry receiver
#      (built from OpenTelemetry's own JavaScript packages), and written as
#      OTLP JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
TRACECTL="$PWD/bazel-bin/ctl/tracectl"
SUDO=""
[[ $EUID -ne 0 ]] && SUDO="sudo"

step() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

step "1. tracectl run -f: a shell that reads a file and fails to open another"
echo "\$ tracectl run -f -e trace=%file,%process -- sh -c 'cat /etc/hostname; ls /nonexistent; exit 0'"
$SUDO "$TRACECTL" run -f -e trace=%file,%process -- sh -c 'cat /etc/hostname; ls /nonexistent; exit 0' || true

step "2. tracectl run --stats: the strace -c table, counted in the kernel"
echo "\$ tracectl run -f --stats -- ls -la /etc >/dev/null"
$SUDO "$TRACECTL" run -f --stats -- ls -la /etc >/dev/null

step "3. the same spans as OTLP"
out="$(mktemp -d)"
trap 'rm -rf "$out"; [[ -n "${rpid:-}" ]] && kill "$rpid" 2>/dev/null || true' EXIT
peers="${PEERS_DIR:-$PWD/.peers}"
if [[ -x tests/peers/otlp_receiver.sh && -d "$peers" ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  tests/peers/otlp_receiver.sh "$peers" --grpc-port "$port" --out "$out/received.jsonl" &
  rpid=$!
  for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
  echo "\$ tracectl run -q --otlp-endpoint http://127.0.0.1:$port -- python3 -c 'print(open(\"/etc/hostname\").read())'"
  $SUDO "$TRACECTL" run -q --otlp-endpoint "http://127.0.0.1:$port" -- \
      python3 -c 'print(open("/etc/hostname").read())' >/dev/null
  sleep 0.5
  python3 - "$out/received.jsonl" <<'PY'
import json, sys, collections
spans = []
for line in open(sys.argv[1]):
    for rs in json.loads(line).get("resourceSpans", []):
        for ss in rs.get("scopeSpans", rs.get("instrumentationLibrarySpans", [])):
            spans += ss.get("spans", [])
names = collections.Counter(s["name"] for s in spans)
print(f"the OpenTelemetry receiver decoded {len(spans)} spans of trace "
      f"{spans[0]['traceId'] if spans else '-'}; most common: "
      + ", ".join(f"{n} x{c}" for n, c in names.most_common(6)))
PY
fi
echo "\$ tracectl run -q --output spans.jsonl -- cat /etc/hostname; head -c 600 spans.jsonl"
$SUDO "$TRACECTL" run -q --output "$out/spans.jsonl" -- cat /etc/hostname >/dev/null
head -c 600 "$out/spans.jsonl"; echo " ..."
