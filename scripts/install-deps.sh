#!/usr/bin/env bash
# Installs what cacheproxy needs to build, run and test, from Debian 12's packages.
set -euo pipefail
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libleveldb-dev libsnappy-dev libfmt-dev catch2
  goaccess curl openssl python3
  python3-prometheus-client nodejs systemd logrotate
  chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
