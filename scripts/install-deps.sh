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
  libcrypt-dev apache2-utils
  clang libclang-rt-14-dev
  chromium
  # scripts/load_bench.py: the origin, the load generator, the proxies compared, the profiler
  nginx-light wrk squid trafficserver valgrind util-linux
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  $SUDO apt-get update -qq
  # Packages with a service (nginx, squid, trafficserver) must not start it on install: the
  # benchmarks start their own instances. A policy-rc.d that says 101 ("not allowed") is
  # Debian's way to say so, put in place for this install only unless one is there already.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Nor at boot (Squid would take port 3128, cacheproxy's default, and nginx port 80): where
  # systemd runs, their units are disabled, and stopped should one have started anyway.
  if [[ -d /run/systemd/system ]]; then
    for service in nginx squid trafficserver; do
      if [[ " ${missing[*]} " == *" ${service}"* ]]; then
        $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
      fi
    done
  fi
fi
