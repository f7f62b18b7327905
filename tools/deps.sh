#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages sipcdr builds, tests and runs with.
# Idempotent and quiet when everything is already there; needs root for apt.
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libpcap-dev libosip2-dev libpq-dev libuv1-dev libinih-dev zlib1g-dev
      postgresql postgresql-client python3)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
