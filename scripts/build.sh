#!/usr/bin/env bash
# Configures and builds cacheproxy. Usage: scripts/build.sh [release|sanitize] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-release}
case "$mode" in
  release)  dir=${2:-build};      flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  sanitize) dir=${2:-build-asan}; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCACHEPROXY_SANITIZE=ON) ;;
  *) echo "usage: $0 [release|sanitize] [BUILD_DIR]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j2
