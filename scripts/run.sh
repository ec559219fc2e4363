#!/usr/bin/env bash
# Installs the dependencies, builds in Release and starts the proxy on conf/cacheproxy.conf
# (127.0.0.1:3128, cache in ./var/cache). Extra arguments are passed to cacheproxy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p var
exec build/proxy/cacheproxy --config conf/cacheproxy.conf "$@"
