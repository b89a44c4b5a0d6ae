#!/usr/bin/env bash
# Installs the npm packages of the test peers (package.json /
# package-lock.json beside this script) into DIR (default: .peers at the
# repository root), only when they are missing or the lock file changed.
# Prints where they are. Tests find them through TRACER_PEERS_DIR=DIR.
# Usage: tests/peers/install.sh [DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dir="${1:-$repo/.peers}"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "peers: node and npm are needed (Debian packages nodejs and npm)" >&2
  exit 1
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
stamp="$dir/.installed-lock.sha256"
want="$(sha256sum "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$dir/node_modules/@grpc/grpc-js" ]]; then
  echo "peers: up to date in $dir"
  exit 0
fi

cp "$here/package.json" "$here/package-lock.json" "$dir/"
echo "peers: installing npm packages into $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts)
echo "$want" >"$stamp"
echo "peers: installed in $dir"
