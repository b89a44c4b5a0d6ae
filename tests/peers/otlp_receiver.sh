#!/usr/bin/env bash
# Starts the OTLP test receiver (otlp_receiver.js) with the npm packages
# installed by install.sh in PEERS_DIR.
# Usage: tests/peers/otlp_receiver.sh PEERS_DIR [receiver arguments...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="${1:?usage: otlp_receiver.sh PEERS_DIR [args...]}"
shift
export NODE_PATH="$peers/node_modules"
exec node "$here/otlp_receiver.js" "$@"
