#!/usr/bin/env bash
# The appliance on one machine: a control plane and an agent on loopback with
# freshly issued certificates (mutual TLS), a tracectl session on a real
# workload (curl fetching from `python3 -m http.server`, targeted by comm,
# with its network syscalls and its HTTP request as a CLIENT span), and the
# resulting trace as `tracectl traces show` prints it. Everything it
# starts is stopped by pid on exit; the temporary directory is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $EUID -ne 0 ]] && exec sudo "$0" "$@"  # the agent loads BPF programs
BIN="$PWD/bazel-bin"
TRACECTL="$BIN/ctl/tracectl"
for b in "$TRACECTL" "$BIN/controlplane/trace-controlplane" "$BIN/agent/trace-agent"; do
  [[ -x "$b" ]] || { echo "demo_fleet: $b is missing; run make build" >&2; exit 1; }
done

step() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

dir="$(mktemp -d /tmp/tracer-demo.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

step "4. a control plane and an agent with mutual TLS, driven by tracectl"
show "$TRACECTL" certs init --dir pki
show "$TRACECTL" certs issue --dir pki --kind server --name server --san localhost,127.0.0.1
show "$TRACECTL" certs issue --dir pki --kind agent --name demo-node
show "$TRACECTL" certs issue --dir pki --kind user --name operator --role operator
cp_port="$(free_port)"
export TRACER_SERVER="127.0.0.1:$cp_port" TRACER_CERTS="$dir/pki" TRACER_USER=operator

"$BIN/controlplane/trace-controlplane" --data_dir cp --tls_dir pki \
    --listen "127.0.0.1:$cp_port" >cp.log 2>&1 &
pids+=($!)
"$BIN/agent/trace-agent" --data_dir agent --tls_dir pki --node_id demo-node \
    --controlplane "127.0.0.1:$cp_port" --heartbeat_interval 1 >agent.log 2>&1 &
pids+=($!)
web_port="$(free_port)"
mkdir www && echo "hello from the demo" >www/index.html
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory www >web.log 2>&1 &
pids+=($!)

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  for _ in $(seq $((secs * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "demo_fleet: timed out waiting for $what" >&2
  tail -5 cp.log agent.log >&2
  exit 1
}
wait_for 30 "the agent to connect" sh -c "'$TRACECTL' agents list | grep -q 'demo-node .* yes '"
show "$TRACECTL" agents list

out="$(show "$TRACECTL" session start --comm curl -e trace=%network,read,write --http \
       --name demo)"
echo "$out"
sid="$(echo "$out" | awk '/^started session/ {print $3}')"
wait_for 30 "the session to be applied" sh -c "'$TRACECTL' session show $sid | grep -q 'demo-node .* yes  *yes '"

# curl's spans reach the store within about a second of its exit (agent
# flush, WAL, upload); the kernel matches the comm at exec.
trace=""
for attempt in 1 2 3 4 5; do
  show curl -sS "http://127.0.0.1:$web_port/index.html"
  for _ in $(seq 20); do
    trace="$("$TRACECTL" traces list --service curl | awk 'NR == 2 {print $1}')"
    [[ -n "$trace" ]] && break 2
    sleep 0.5
  done
done
[[ -n "$trace" ]] || { echo "demo_fleet: no trace of curl arrived" >&2; exit 1; }
# The HTTP CLIENT span ends with the response, so it can come a flush later
# than the syscall spans around it.
wait_for 15 "curl's HTTP span" sh -c "'$TRACECTL' traces show $trace | grep -q '^  GET '"
show "$TRACECTL" traces list
show "$TRACECTL" traces show "$trace"
show "$TRACECTL" session stop "$sid"
show "$TRACECTL" status
