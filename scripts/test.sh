#!/usr/bin/env bash
# Installs the dependencies, builds and runs every test. With --sanitize, the same tests built
# with -fsanitize=address,undefined (in build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
mode=release
[[ "${1:-}" == "--sanitize" ]] && mode=sanitize
dir=build; [[ $mode == sanitize ]] && dir=build-asan
scripts/build.sh "$mode" "$dir"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j2
