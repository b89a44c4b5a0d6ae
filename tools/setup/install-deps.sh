#!/usr/bin/env bash
# Installs the Debian packages listed in tools/setup/packages.txt that are
# missing (apt-get update runs only when something must be installed), and
# mounts tracefs when the kernel exposes an empty /sys/kernel/tracing.
# Usage: tools/setup/install-deps.sh [EXTRA_PACKAGE...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

want=()
while read -r pkg; do
  pkg="${pkg%%#*}"; pkg="${pkg//[[:space:]]/}"
  [[ -z "$pkg" ]] && continue
  want+=("$pkg")
done < "$here/packages.txt"
want+=("$@")
# Debian's nodejs ships without npm (a separate package); NodeSource's nodejs
# includes it and conflicts with Debian's npm. Ask for npm only if missing.
command -v npm >/dev/null 2>&1 || want+=(npm)

missing=()
for pkg in "${want[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Tracepoints need tracefs; some kernels leave it unmounted.
if [[ -d /sys/kernel/tracing && -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" && $EUID -eq 0 ]]; then
  mount -t tracefs nodev /sys/kernel/tracing && echo "install-deps: mounted tracefs on /sys/kernel/tracing"
fi
exit 0
