#!/usr/bin/env bash
# Installs trace-agent, trace-controlplane and tracectl on a host without
# Kubernetes: the binaries, the systemd units (deploy/systemd), their
# settings in /etc/default (kept if they exist), the certificate directory
# /etc/tracer/tls, the data directory /var/lib/tracer and the system user
# `tracer` the control plane runs as; then `systemctl daemon-reload`.
# It enables and starts nothing: it prints the commands that do.
#
# Usage: deploy/install.sh [options]
#   --from DIR            directory holding trace-agent, trace-controlplane
#                         and tracectl (default: this checkout's Bazel outputs)
#   --only agent|controlplane   install one daemon (and tracectl)
#   --controlplane H:P    the agent's control plane (default localhost:7443)
#   --node-id ID          the agent's node id, its certificate's name
#                         (default: this host's name)
#   --prefix DIR          install under DIR instead of /; creates no user and
#                         does not reload systemd (for packaging and tests)
#   --dry-run             print every step, change nothing
#   -h, --help
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
from=""
only=""
controlplane="localhost:7443"
node_id="$(hostname)"
prefix=""
dry_run=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --from) from="${2:?--from needs a directory}"; shift 2 ;;
    --only) only="${2:?--only needs agent or controlplane}"; shift 2 ;;
    --controlplane) controlplane="${2:?--controlplane needs HOST:PORT}"; shift 2 ;;
    --node-id) node_id="${2:?--node-id needs a name}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
case "$only" in ""|agent|controlplane) ;; *) die "--only $only: expected agent or controlplane" ;; esac
[[ "$node_id" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$ ]] || die "--node-id '$node_id': letters, digits, . _ - (at most 128)"
[[ "$controlplane" =~ ^[^[:space:]]+:[0-9]+$ ]] || die "--controlplane '$controlplane': expected HOST:PORT"
if [[ -n "$prefix" ]]; then
  [[ "$prefix" == /* ]] || die "--prefix must be an absolute path"
  prefix="${prefix%/}"
fi

components=(agent controlplane)
[[ -n "$only" ]] && components=("$only")
declare -A binary_of=([agent]=trace-agent [controlplane]=trace-controlplane)

# The binaries: --from DIR, else the Bazel outputs of this checkout.
source_of() {  # source_of NAME
  local name="$1"
  if [[ -n "$from" ]]; then
    echo "$from/$name"
    return
  fi
  case "$name" in
    trace-agent) echo "$repo/bazel-bin/agent/trace-agent" ;;
    trace-controlplane) echo "$repo/bazel-bin/controlplane/trace-controlplane" ;;
    tracectl) echo "$repo/bazel-bin/ctl/tracectl" ;;
  esac
}

binaries=(tracectl)
for c in "${components[@]}"; do binaries+=("${binary_of[$c]}"); done
for b in "${binaries[@]}"; do
  src="$(source_of "$b")"
  [[ -x "$src" ]] || die "$src is missing or not executable (bazel build //agent:trace-agent //controlplane:trace-controlplane //ctl:tracectl, or --from DIR)"
done

step() {  # prints the step; runs it unless --dry-run
  echo "+ $*"
  [[ $dry_run -eq 1 ]] || "$@"
}

write_default() {  # write_default FILE CONTENT: keeps an existing file
  local file="$prefix/etc/default/$1" content="$2"
  if [[ -e "$file" ]]; then
    echo "= $file exists; kept"
    return
  fi
  echo "+ write $file"
  if [[ $dry_run -eq 0 ]]; then
    printf '%s\n' "$content" >"$file"
    chmod 0644 "$file"
  fi
}

step install -d -m 0755 "$prefix/usr/bin" "$prefix/etc/systemd/system" "$prefix/etc/default" \
  "$prefix/etc/tracer" "$prefix/var/lib/tracer"
# Private keys live here: root only (the control plane gets copies through
# systemd's LoadCredential=).
step install -d -m 0700 "$prefix/etc/tracer/tls"
for b in "${binaries[@]}"; do
  step install -m 0755 "$(source_of "$b")" "$prefix/usr/bin/$b"
done
for c in "${components[@]}"; do
  step install -m 0644 "$here/systemd/${binary_of[$c]}.service" \
    "$prefix/etc/systemd/system/${binary_of[$c]}.service"
done

for c in "${components[@]}"; do
  case "$c" in
    agent)
      write_default trace-agent "# Settings of trace-agent.service (deploy/systemd/trace-agent.service).
# The control plane's address; its server certificate must name this host.
TRACER_CONTROLPLANE=$controlplane
# This node's id: /etc/tracer/tls must hold \${TRACER_NODE_ID}.pem and .key
# (tracectl certs issue --kind agent --name \${TRACER_NODE_ID}) and ca.pem.
TRACER_NODE_ID=$node_id
# More flags (trace-agent --helpfull), e.g. --labels=zone=a,rack=7
TRACE_AGENT_OPTS=" ;;
    controlplane)
      write_default trace-controlplane "# Settings of trace-controlplane.service (deploy/systemd/trace-controlplane.service).
# Where agents and tracectl connect (mutual TLS with /etc/tracer/tls/server.*).
TRACER_LISTEN=0.0.0.0:7443
# More flags (trace-controlplane --helpfull): Prometheus /metrics on loopback,
# OTLP export (--otlp_endpoint=https://collector:4317 or --exporters_config).
TRACE_CONTROLPLANE_OPTS=--metrics_listen=127.0.0.1:9464" ;;
  esac
done

if [[ " ${components[*]} " == *" controlplane "* ]]; then
  if [[ -n "$prefix" ]]; then
    echo "= --prefix: the system user 'tracer' is not created"
  elif getent passwd tracer >/dev/null; then
    echo "= user tracer exists"
  else
    step useradd --system --user-group --home-dir /var/lib/tracer/controlplane \
      --no-create-home --shell /usr/sbin/nologin tracer
  fi
fi

if [[ -n "$prefix" ]]; then
  echo "= --prefix: systemd is not reloaded"
elif [[ -d /run/systemd/system ]]; then
  step systemctl daemon-reload
else
  echo "= systemd is not running here; run 'systemctl daemon-reload' where it is"
fi

echo
echo "Next: put the certificates into $prefix/etc/tracer/tls (tracectl certs issue ...), then"
for c in "${components[@]}"; do
  echo "  systemctl enable --now ${binary_of[$c]}"
done
