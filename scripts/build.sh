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
# ccache, when installed, lets several checkouts share object files.
if command -v ccache >/dev/null; then flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j2
