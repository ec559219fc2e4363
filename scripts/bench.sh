#!/usr/bin/env bash
# Hit-ratio benchmark from a fresh Debian 12 machine: installs the build dependencies plus
# Squid and python3-matplotlib, builds cacheproxy in Release into build-bench/, then runs
# scripts/hitratio_bench.py with the given arguments (see --help and docs/BENCHMARKS.md).
#   scripts/bench.sh ../shared/traces/bu98_proxy.tsv --cache-size 5% --compare squid
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
missing=()
for p in squid python3-matplotlib; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The package starts a system Squid on port 3128 (cacheproxy's default port). The benchmark
  # starts its own instance, so a Squid installed just for it is stopped and disabled.
  if [[ " ${missing[*]} " == *" squid "* ]] && [[ -d /run/systemd/system ]]; then
    $SUDO systemctl disable --now squid >/dev/null 2>&1 || true
  fi
fi
scripts/build.sh release build-bench
# Debian's interpreter: python3-matplotlib is installed for it, not for another python3 on PATH.
exec /usr/bin/python3 scripts/hitratio_bench.py "$@"
