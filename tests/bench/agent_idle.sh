#!/usr/bin/env bash
# Idle cost of trace-agent (BENCHMARKS.md, "Memory"): a local control plane
# and an agent on loopback with mutual TLS; the agent's RSS and CPU (utime +
# stime from /proc/PID/stat) over 30 s, first with no session, then with a
# session that matches nothing (`tracectl session start --comm nosuchcomm`,
# so the BPF programs are loaded and polled). Prints the largest resident
# mappings; with PERF=1 also a 10 s `perf record -g` profile of the agent.
# Usage: tests/bench/agent_idle.sh [BAZEL_BIN] (default bazel-bin), as root.
set -euo pipefail
bin="$(readlink -f "${1:-bazel-bin}")"
tracectl="$bin/ctl/tracectl"
for b in "$tracectl" "$bin/agent/trace-agent" "$bin/controlplane/trace-controlplane"; do
  [[ -x "$b" ]] || { echo "agent_idle: $b is missing" >&2; exit 1; }
done
dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"
"$tracectl" certs init --dir pki >/dev/null
"$tracectl" certs issue --dir pki --kind server --name server --san localhost,127.0.0.1 >/dev/null
"$tracectl" certs issue --dir pki --kind agent --name idle-node >/dev/null
"$tracectl" certs issue --dir pki --kind user --name operator --role operator >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export TRACER_SERVER="127.0.0.1:$port" TRACER_CERTS="$dir/pki" TRACER_USER=operator
"$bin/controlplane/trace-controlplane" --data_dir cp --tls_dir pki \
    --listen "127.0.0.1:$port" >cp.log 2>&1 &
pids+=($!)
"$bin/agent/trace-agent" --data_dir agent --tls_dir pki --node_id idle-node \
    --controlplane "127.0.0.1:$port" ${AGENT_FLAGS:-} >agent.log 2>&1 &
agent=$!
pids+=($agent)
for _ in $(seq 240); do
  "$tracectl" agents list 2>/dev/null | grep -q 'idle-node .* yes ' && break
  sleep 0.25
done

measure() {  # measure LABEL
  sleep 5
  local t0 t1 s0 s1
  t0=$(awk '{print $14 + $15}' "/proc/$agent/stat"); s0=$(date +%s.%N)
  sleep 30
  t1=$(awk '{print $14 + $15}' "/proc/$agent/stat"); s1=$(date +%s.%N)
  local cpu
  cpu=$(python3 -c "print(f'{100 * ($t1 - $t0) / $(getconf CLK_TCK) / ($s1 - $s0):.2f}')")
  echo "$1: RSS $(awk '/VmRSS/ {print $2}' "/proc/$agent/status") kB," \
       "CPU $cpu% of a core over 30 s, $(ls "/proc/$agent/task" | wc -l) threads"
  grep -E '^(Rss|Pss_Anon|Pss_File)' "/proc/$agent/smaps_rollup" | tr -s ' \n' ' '; echo
}
measure "idle, no session"
"$tracectl" session start --comm nosuchcomm --name idle | head -1
sleep 3
measure "idle, a session matching nothing"
echo "largest resident mappings (kB):"
awk '/^[0-9a-f]+-[0-9a-f]+ / {name = ($6 == "" ? "[anon]" : $6)}
     /^Rss:/ {if ($2 > 2000) print "  " $2, name}' "/proc/$agent/smaps" | sort -rn | head -8
if [[ -n "${PERF:-}" ]]; then
  perf record -g -p "$agent" -o perf.data -- sleep 10 >/dev/null 2>&1
  perf report -i perf.data --no-children --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -20
fi
